"""Output regression of the two notebooks with pytest-notebook: notebooks/lea_report.ipynb for Del Norte
County Unified, spring 2022 (the vendored sample), and notebooks/lea_internal.ipynb for a synthetic Student
Score Data File of one of its schools, each executed and compared with its expected notebook in
tests/fixtures/notebooks/ (`<name>.expected.ipynb`).

A changed output fails with pytest-notebook's nbdime diff of the cells; a changed chart fails with its
caption and PNG SHA-256 (the expected notebooks hold `data:image/png;sha256,<hex>` in place of each image:
small files, readable diffs, every pixel still compared). Ignored: tracebacks, execution counts and the
kernel's language_info (version); nbclient records no timings and these runs have no papermill metadata.
Not marked slow: each test executes one notebook in 4–8 s (up to 14 s on a busy machine).
The expected notebooks must have the inputs of today's notebooks (parameters injected as papermill does).

Regenerate after an intended change, then review `git diff tests/fixtures/notebooks`:

    NB_REGRESSION_UPDATE=1 pytest tests/test_nb_regression.py

A test that rewrites its expected notebook fails once, naming it; the next run passes. pytest-notebook's
plugin stays off (`-p no:nb_regression`: it would import nbclient and nbdime at every pytest start); its
Python API is imported when these tests run.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
import warnings
from pathlib import Path

import nbformat
import pytest
import yaml
from nbconvert.preprocessors import ClearMetadataPreprocessor, ClearOutputPreprocessor

from helpers.core.paths import Paths
from helpers.ingest import slice_files
from helpers.ingest import store as stores
from helpers.lea_mode import book as lea_mode
from helpers.synth.students import (
    add_score_details,
    students_for_lea,
    write_student_file,
)

from .conftest import DNCUSD, ROOT, SAMPLE

EXPECTED = ROOT / "tests" / "fixtures" / "notebooks"
UPDATE = os.environ.get("NB_REGRESSION_UPDATE") == "1"
SCHOOL, GRADES = "08618206005458", (6, 7, 8)  # Smith River Elementary: the LEA-mode fixture's students
CUSTOM = ROOT / "params" / "custom" / "example_grades_6_8_el.yml"
CAPTIONED = r'(?="[^>]*><figcaption>(.*?)</figcaption>)'  # a chart of helpers.report.outputs.figure_html
IMAGE = re.compile(r"data:image/png;(base64|sha256),([A-Za-z0-9+/=]+)" + CAPTIONED)
IGNORE = ("/cells/*/outputs/*/traceback", "/cells/*/execution_count", "/cells/*/outputs/*/execution_count",
          "/metadata/language_info")
SAME_IMAGE = ("/cells/*/outputs", r"data:image/png;(?:base64|sha256),[A-Za-z0-9+/=]+" + CAPTIONED, "data:image/png;…")


def regression(cwd: Path):
    """pytest-notebook's fixture: execute in `cwd` with this checkout's helpers, diff as described above."""
    with warnings.catch_warnings():  # its autodoc warns about attrs field types on import
        warnings.simplefilter("ignore", UserWarning)
        from pytest_notebook.nb_regression import NBRegressionFixture
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return NBRegressionFixture(exec_cwd=str(cwd), exec_timeout=600, exec_env={"PYTHONPATH": path},
                               diff_ignore=IGNORE, diff_replace=(SAME_IMAGE,), diff_use_color=False)


def parameterized(name: str, parameters: dict) -> nbformat.NotebookNode:
    """notebooks/<name>.ipynb with the injected-parameters cell papermill adds (id fixed, as the runner does)."""
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    nb.metadata["papermill"] = {}  # where papermill records the parameters
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])  # papermill looks for the parameters cell by tag
    nb = parameterize_notebook(nb, parameters)
    del nb.metadata["papermill"]
    for cell in nb.cells:
        if not cell.metadata["tags"]:
            del cell.metadata["tags"]
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    injected["id"] = "injected-parameters"
    return nb


def inputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's cells without outputs, execution counts or metadata other than tags (nbconvert)."""
    nb, _ = ClearOutputPreprocessor().preprocess(copy.deepcopy(nb), {})
    nb, _ = ClearMetadataPreprocessor(preserve_cell_metadata_mask={"tags"},
                                      preserve_nb_metadata_mask=set()).preprocess(nb, {})
    return nb


def hashed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with each chart's PNG replaced by the SHA-256 of its bytes (other images stay)."""
    def digest(m: re.Match) -> str:
        sha = m[2] if m[1] == "sha256" else hashlib.sha256(base64.b64decode(m[2])).hexdigest()
        return f"data:image/png;sha256,{sha}"

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text/html" in out.get("data", {}):
                out.data["text/html"] = IMAGE.sub(digest, "".join(out.data["text/html"]))
    return nb


def images(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(caption, PNG SHA-256) of every chart, in order."""
    return [(caption, sha) for cell in hashed(nb).cells for out in cell.get("outputs", [])
            for _, sha, caption in IMAGE.findall("".join(out.get("data", {}).get("text/html", "")))]


def differences(path: Path, cwd: Path) -> str:
    """Execute the notebook at `path` in `cwd`: pytest-notebook's diff of its outputs against the file's, then
    every chart whose PNG differs; '' if none."""
    result = regression(cwd).check(str(path), raise_errors=False)
    shown = result.diff_string if result.diff_filtered else ""
    old, new = images(result.nb_initial), images(result.nb_final)
    charts = [f"chart {i}: {a[0]!r}: PNG SHA-256 {a[1]} expected, {b[1]} now"
              for i, (a, b) in enumerate(zip(old, new), 1) if a != b]
    if len(old) != len(new):
        charts.append(f"{len(old)} charts expected, {len(new)} now")
    return "\n".join(filter(None, [shown, *charts]))


def regenerate(current: nbformat.NotebookNode, path: Path, cwd: Path) -> bool:
    """Execute `current` in `cwd` and write it to `path` (images hashed, metadata but tags and kernelspec
    dropped); True if the file changed."""
    source = cwd / f".{path.name}"
    nbformat.write(current, source)
    final = regression(cwd).check(str(source), raise_errors=False).nb_final
    errors = [o for c in final.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{path.name}: the notebook failed: {errors[0].ename}: {errors[0].evalue}"
    final, _ = ClearMetadataPreprocessor(preserve_cell_metadata_mask={"tags"},
                                         preserve_nb_metadata_mask={"kernelspec"}).preprocess(hashed(final), {})
    text = nbformat.writes(nbformat.from_dict(final))
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def stale(path: Path, current: nbformat.NotebookNode) -> str:
    """nbdime's diff of the inputs of the expected notebook at `path` and of `current`; '' if the same."""
    from pytest_notebook.diffing import diff_notebooks, diff_to_string

    expected = inputs(nbformat.read(path, as_version=4))
    changed = diff_notebooks(expected, inputs(current))
    return diff_to_string(expected, changed, use_color=False) if changed else ""


def check(name: str, parameters: dict, cwd: Path) -> None:
    """The regression test of notebooks/<name>.ipynb (see the module docstring)."""
    path = EXPECTED / f"{name}.expected.ipynb"
    current = parameterized(name, parameters)
    if UPDATE and regenerate(current, path, cwd):
        pytest.fail(f"regenerated {path.relative_to(ROOT)}: review its git diff, then run the test again")
    changed = stale(path, current)
    assert not changed, (f"notebooks/{name}.ipynb or its parameters changed since {path.name} was made "
                         f"(regenerate: NB_REGRESSION_UPDATE=1):\n{changed}")
    found = differences(path, cwd)
    assert not found, f"{name}.ipynb renders differently from {path.name}:\n{found}"


# ---------------------------------------------------------------- fixtures: the two notebooks' inputs


@pytest.fixture(scope="module")
def report_run(sample_store: Path, sample_tables: Path, tmp_path_factory) -> tuple[dict, Path]:
    """Parameters of notebooks/lea_report.ipynb for the fixture LEA, relative to a working folder."""
    cwd = tmp_path_factory.mktemp("nbreg_report")
    (cwd / "store").symlink_to(sample_store, target_is_directory=True)
    (cwd / "tables").symlink_to(sample_tables, target_is_directory=True)
    piece = stores.lea_slice(sample_tables, DNCUSD, 2022)
    slice_files.write(piece, cwd / "slice")  # as the runner's planner writes it
    return {"cds": DNCUSD, "year": 2022, "store": "store", "tables": "tables", "lea_data": "slice",
            "data_sha256": stores.slice_sha256(piece), "out_dir": "csv", "stem": "dncusd"}, cwd


@pytest.fixture(scope="module")
def internal_run(sample_store: Path, tmp_path_factory) -> tuple[dict, Path]:
    """Parameters of notebooks/lea_internal.ipynb: LEA-mode tables, in LEA mode's folders, from the seeded
    synthetic students of grades 6–8 of one school (a small page), the public sample and the example custom
    spec narrowed to that school."""
    cwd = tmp_path_factory.mktemp("nbreg_internal").resolve()
    spec = yaml.safe_load(CUSTOM.read_text(encoding="utf-8"))
    spec.update(name="Grades 6–8 at Smith River Elementary, English learners", schools=[SCHOOL])
    custom = cwd / CUSTOM.name
    custom.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    students = add_score_details(students_for_lea(sample_store, DNCUSD, 2022, seed=0), seed=0)
    chosen = students[(students["cds"] == SCHOOL) & students["grade"].isin(GRADES)]
    toms = write_student_file(chosen, cwd / "toms.txt", "camel")
    lp = lea_mode.lea_paths(Paths(cwd), DNCUSD)
    lea_mode.ingest(lp, toms, [SAMPLE])
    lea_mode.compute(lp, [custom])
    return {"cds": DNCUSD, "year": 2022, "tables": lp.tables.relative_to(cwd).as_posix(), "release": "preliminary",
            "out_dir": "csv", "stem": "report"}, cwd


# ---------------------------------------------------------------- the tests


def test_lea_report_renders_as_expected(report_run):
    check("lea_report", *report_run)


def test_lea_internal_renders_as_expected(internal_run):
    check("lea_internal", *internal_run)


def test_a_changed_notebook_or_parameter_fails_before_executing(report_run):
    parameters, _ = report_run
    path = EXPECTED / "lea_report.expected.ipynb"
    assert stale(path, parameterized("lea_report", parameters)) == ""
    lines = stale(path, parameterized("lea_report", {**parameters, "stem": "other"})).splitlines()
    assert [line for line in lines if line.startswith(("-", "+")) and "stem" in line] == [
        '-stem = "dncusd"', '+stem = "other"']


def test_a_changed_output_or_chart_fails_with_a_readable_diff(report_run, tmp_path):
    """The regression can fail: an expected notebook with one table cell and one chart altered."""
    _, cwd = report_run
    nb = nbformat.read(EXPECTED / "lea_report.expected.ipynb", as_version=4)
    [(index, summary)] = [(i, o) for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
                          if "Table 1. All Grades summary" in "".join(o.get("data", {}).get("text/html", ""))]
    html = "".join(summary.data["text/html"])
    assert html.count("<td>27.86</td>") == 1  # the LEA's ELA % Met and Above
    summary.data["text/html"] = html.replace("<td>27.86</td>", "<td>72.68</td>")
    [(caption, sha), _] = images(nb)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text/html" in out.get("data", {}):
                out.data["text/html"] = "".join(out.data["text/html"]).replace(sha, "0" * 64)
    altered = tmp_path / "lea_report.altered.ipynb"
    nbformat.write(nb, altered)
    lines = differences(altered, cwd).splitlines()
    assert [line for line in lines if line.startswith("## ")] == [
        f"## modified /cells/{index}/outputs/0/data/text/html:"]  # that output only
    removed, added = [line for line in lines if line.startswith(("-<", "+<"))]  # that row only
    assert removed.startswith("-<tr> <td>ELA</td> <td>Del Norte County Unified</td> <td>1,829</td>")
    assert added == "+" + removed[1:].replace("<td>72.68</td>", "<td>27.86</td>") and "<td>72.68</td>" in removed
    assert f"chart 1: {caption!r}: PNG SHA-256 {'0' * 64} expected, {sha} now" in lines
    assert len([line for line in lines if line.startswith("chart ")]) == 1
