"""The LEA notebook executed by papermill for one real LEA, and the runner around it."""

from __future__ import annotations

import json
from pathlib import Path

import papermill as pm
import pytest

from helpers import runner

from .conftest import DNCUSD, ROOT

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "lea_report.ipynb"
FAILS = ROOT / "tests" / "fixtures" / "notebooks" / "fails_for_castle_rock.ipynb"


def outputs(nb: dict, mime: str) -> str:
    return "\n".join("".join(o.get("data", {}).get(mime, "")) for c in nb["cells"] if c["cell_type"] == "code"
                     for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def executed(sample_store: Path, sample_tables: Path, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("nb")
    pm.execute_notebook(str(NOTEBOOK), str(out / "lea.ipynb"), cwd=str(ROOT), progress_bar=False,
                        parameters={"cds": DNCUSD, "year": 2022, "store": str(sample_store), "tables": str(sample_tables),
                                    "out_dir": str(out),
                                    "data_sha256": "abc123", "stem": "dncusd"})
    return json.loads((out / "lea.ipynb").read_text()), out


def test_notebook_shows_the_published_values(executed):
    nb, _ = executed
    html = outputs(nb, "text/html")
    assert "<td>Del Norte County Unified</td>" in html
    assert "<td>27.86</td>" in html and "<td>47.06</td>" in html  # LEA and state ELA % met and above
    assert "<td>Crescent Elk Middle</td>" in html
    assert "| CDS code | 08618200000000 |" in outputs(nb, "text/markdown")
    assert "abc123" in outputs(nb, "text/markdown")


def test_notebook_draws_the_chart_and_writes_csvs(executed):
    nb, out = executed
    assert len(outputs(nb, "image/png")) > 1000
    assert sorted(p.name for p in out.glob("dncusd.*.csv")) == [
        "dncusd.by_grade.csv", "dncusd.impact.csv", "dncusd.schools.csv", "dncusd.summary.csv", "dncusd.trend.csv"]


def test_parameters_cell_is_tagged():
    nb = json.loads(NOTEBOOK.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and 'cds = "' in "".join(tagged[0]["source"])
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_one_failing_lea_is_recorded_and_the_others_go_on(sample_store, sample_tables, tmp_path):
    jobs = runner.plan(sample_tables, tmp_path, tmp_path / "leas")
    assert [j.cds for j in jobs] == ["08100820000000", "08100820830059", DNCUSD, "08618200137729"]
    records = runner.run(jobs, FAILS, (sample_store, sample_tables), tmp_path, jobs_n=2)
    status = {r.cds: r.status for r in records}
    assert status == {"08100820000000": "ok", "08100820830059": "failed", DNCUSD: "ok", "08618200137729": "ok"}
    failed = next(r for r in records if r.status == "failed")
    assert failed.error == "ValueError: deliberate failure for 08100820830059" and failed.failed_cell == 3  # In [3]: after the injected parameters
    assert not (tmp_path / failed.notebook).exists()  # never a broken page in the book
    assert (tmp_path / "leas" / "08" / ".08100820830059-castle-rock.failed.ipynb").exists()


def test_runner_titles_the_page_and_hides_parameters(sample_store, sample_tables, tmp_path):
    [job] = runner.plan(sample_tables, tmp_path, tmp_path / "leas", only=[DNCUSD])
    record = runner.run_lea(job, NOTEBOOK, (sample_store, sample_tables), tmp_path)
    assert record.status == "ok", record.error
    nb = json.loads((tmp_path / job.notebook).read_text())
    assert "".join(nb["cells"][0]["source"]) == "# Del Norte County Unified (08618200000000)"
    hidden = [c for c in nb["cells"] if "remove-cell" in c["metadata"].get("tags", [])]
    assert {t for c in hidden for t in c["metadata"]["tags"]} >= {"parameters", "injected-parameters"}
    assert job.notebook == "leas/08/08618200000000-del-norte-county-unified.ipynb"


def test_slug_transliterates():
    assert runner.slug("Para Los Niños Middle") == "para-los-ninos-middle"
