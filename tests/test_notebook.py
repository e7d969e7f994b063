"""The LEA notebook executed by papermill for one real LEA, and the runner around it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill as pm
import pytest

from helpers import runner
from helpers import store as stores

from .conftest import DNCUSD, ROOT

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "lea_report.ipynb"


def outputs(nb: dict, mime: str) -> str:
    return "\n".join("".join(o.get("data", {}).get(mime, "")) for c in nb["cells"] if c["cell_type"] == "code"
                     for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def executed(sample_store: Path, sample_tables: Path, tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("nb")
    sha = stores.slice_sha256(stores.lea_slice(sample_tables, DNCUSD, 2022))
    pm.execute_notebook(str(NOTEBOOK), str(out / "lea.ipynb"), cwd=str(ROOT), progress_bar=False,
                        parameters={"cds": DNCUSD, "year": 2022, "store": str(sample_store), "tables": str(sample_tables),
                                    "out_dir": str(out), "data_sha256": sha, "stem": "dncusd"})
    return json.loads((out / "lea.ipynb").read_text()), out


def test_notebook_shows_the_published_values(executed, sample_tables):
    nb, _ = executed
    html = outputs(nb, "text/html")
    assert "<td>Del Norte County Unified</td>" in html
    assert "<td>27.86</td>" in html and "<td>47.06</td>" in html  # LEA and state ELA % met and above
    assert "<td>Crescent Elk Middle</td>" in html
    assert "| CDS code | 08618200000000 |" in outputs(nb, "text/markdown")
    sha = stores.slice_sha256(stores.lea_slice(sample_tables, DNCUSD, 2022))
    assert f"| Data SHA-256 | `{sha}` |" in outputs(nb, "text/markdown")


def test_notebook_refuses_data_other_than_the_planned_slice(sample_store, sample_tables, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as caught:
        pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "lea.ipynb"), cwd=str(ROOT), progress_bar=False,
                            parameters={"cds": DNCUSD, "year": 2022, "store": str(sample_store),
                                        "tables": str(sample_tables), "out_dir": str(tmp_path),
                                        "data_sha256": "0" * 64, "stem": "dncusd"})
    assert (f"the data of LEA {DNCUSD} in {sample_tables} changed since the run was planned (SHA-256 "
            in caught.value.evalue) and "expected 000000000000…): run `caaspp-book run` again" in caught.value.evalue


def test_notebook_draws_the_charts_with_alt_text_data_and_csv_links(executed):
    nb, out = executed
    html = outputs(nb, "text/html")
    charts = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html)
    assert len(charts) == 2 and all(len(png) > 1000 for png, _ in charts)
    assert charts[0][1].startswith("Stacked bar chart of the percentage of students with scores at each "
                                   "performance level by grade, Del Norte County Unified, spring 2022")
    assert "ELA: grades 3, 4, 5, 6, 7, 8, 11" in charts[0][1]
    assert "Del Norte County Unified: ELA: 2017" in charts[1][1] and "2022 27.86" in charts[1][1]
    data = re.findall(r'<details class="caaspp-data"><summary>Data for this chart</summary>(.*?)</details>', html, re.S)
    assert len(data) == 2 and "<td>Grade 3</td>" in data[0] and "<td>27.86</td>" in data[1]
    links = re.findall(r'<a href="([^"]+)" download>Download this table \(CSV\)</a>', html)
    assert links == ["dncusd.summary.csv", "dncusd.by_grade.csv", "dncusd.schools.csv", "dncusd.trend.csv",
                     "dncusd.impact.csv"]
    assert all((out / name).exists() for name in links)
    assert sorted(p.name for p in out.glob("dncusd.*.csv")) == [
        "dncusd.by_grade.csv", "dncusd.impact.csv", "dncusd.schools.csv", "dncusd.summary.csv", "dncusd.trend.csv"]


def test_parameters_cell_is_tagged():
    nb = json.loads(NOTEBOOK.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and 'cds = "' in "".join(tagged[0]["source"])
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_runner_titles_the_page_and_hides_parameters(sample_store, sample_tables, tmp_path):
    """One LEA through the runner (its failures, timeouts and backends: tests/test_runner.py)."""
    leas = tmp_path / "book" / "leas"
    s = runner.Settings(root=tmp_path, notebook=NOTEBOOK, store=sample_store, tables=sample_tables, leas_dir=leas,
                        manifest=leas / "manifest.json", shards=tmp_path / "shards", only=(DNCUSD,))
    [record] = runner.run(s).records
    assert record.status == "ok", record.error
    nb = json.loads((tmp_path / record.notebook).read_text())
    assert "".join(nb["cells"][0]["source"]) == "# Del Norte County Unified (08618200000000)"
    hidden = [c for c in nb["cells"] if "remove-cell" in c["metadata"].get("tags", [])]
    assert {t for c in hidden for t in c["metadata"]["tags"]} >= {"parameters", "injected-parameters"}
    assert record.notebook == "book/leas/08/08618200000000-del-norte-county-unified.ipynb"
    assert "start_time" not in json.dumps(nb["metadata"])  # no run-dependent metadata


def test_slug_transliterates():
    assert runner.slug("Para Los Niños Middle") == "para-los-ninos-middle"
