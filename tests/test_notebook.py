"""The LEA notebook executed by papermill for one real LEA, and the runner around it."""

from __future__ import annotations

import base64
import csv
import json
import re
from html import unescape
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from helpers.ingest import store as stores
from helpers.publish import html_tables, privacy
from helpers.run import runner
from helpers.stats import columns

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
    assert "- **CDS code:** 08618200000000\n" in outputs(nb, "text/markdown")
    sha = stores.slice_sha256(stores.lea_slice(sample_tables, DNCUSD, 2022))
    assert f"- **Data SHA-256:** `{sha}`\n" in outputs(nb, "text/markdown")


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
    # the chart data's headers are the page's level labels (report.LABELS), which the privacy scan reads
    assert re.findall(r"<th>([^<]+)</th>", data[0]) == ["Test", "Grade", "% Exceeded", "% Met", "% Nearly Met",
                                                         "% Not Met"]
    assert re.findall(r"<th>([^<]+)</th>", data[1]) == ["Test", "Year", "Entity", "% Met and Above", "Participation (%)",
                                                         "Grades with scores", "Change not like for like", "Note"]
    # each chart's table has its CSV link inside the collapsible element, under the table
    assert data[0].endswith(CSV_LINK.format("dncusd.levels_chart.csv")) and "</table>" in data[0]
    assert data[1].endswith(CSV_LINK.format("dncusd.trend_chart.csv")) and "</table>" in data[1]
    links = re.findall(r'<a href="([^"]+)" download>Download this table \(CSV\)</a>', html)
    assert links == ["dncusd.summary.csv", "dncusd.by_grade.csv", "dncusd.by_group.csv", "dncusd.dfs_by_grade.csv",
                     "dncusd.dfs_by_group.csv", "dncusd.dfs_trend.csv", "dncusd.levels_chart.csv",
                     "dncusd.schools.csv", "dncusd.trend_chart.csv", "dncusd.trend.csv", "dncusd.impact.csv"]
    assert all((out / name).exists() for name in links)
    assert sorted(p.name for p in out.glob("dncusd.*.csv")) == sorted(links)
    # one link per table shown: the page's tables and the charts' data tables
    assert html.count("<table") == len(links) == html.count("</table>")


CSV_LINK = '<p class="caaspp-csv"><a href="{}" download>Download this table (CSV)</a></p>'


def _cells(table_html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table_html, re.S)
    return [[unescape(c) for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows if "<td>" in r]


def test_chart_data_csvs_hold_exactly_the_values_shown(executed):
    nb, out = executed
    html = outputs(nb, "text/html")
    data = re.findall(r'<summary>Data for this chart</summary>(.*?)</details>', html, re.S)
    for shown, name in zip(data, ("levels_chart", "trend_chart")):
        with open(out / f"dncusd.{name}.csv", encoding="utf-8", newline="") as f:
            header, *rows = list(csv.reader(f))
        keys = len(header) - len(_cells(shown)[0])  # the join keys in front (report.with_keys)
        assert [r[keys:] for r in rows] == _cells(shown) and len(rows) > 5, name
        assert columns.undocumented("lea_page", header) == [], name
    levels = (out / "dncusd.levels_chart.csv").read_text(encoding="utf-8").splitlines()
    assert levels[0] == "cds,entity_name,year,test,grade,pct_level_4,pct_level_3,pct_level_2,pct_level_1"
    assert levels[1].startswith(f"{DNCUSD},Del Norte County Unified,2022,ELA,Grade 3,")
    trend = (out / "dncusd.trend_chart.csv").read_text(encoding="utf-8").splitlines()
    assert trend[0] == ("cds,test,year,entity,pct_met_and_above,participation,grades_with_scores,change_flag,"
                        "note")  # each row's own entity and CDS code
    assert (f"{DNCUSD},ELA,2022,Del Norte County Unified,27.86,95.68,\"3–8, 11\",\"different grades with scores "
            "(2021: 11 → 2022: 3–8, 11); participation under 95% (2021: 8.78%)\",") in trend
    assert any(line.startswith("00000000000000,ELA,2022,State,47.06,") for line in trend)
    assert any(line.startswith(f"{DNCUSD},ELA,2020,Del Norte County Unified,–,") for line in trend)  # no tests
    # the privacy scan reads the results columns of the CSVs and of the tables under the charts
    for shown, name, results in zip(data, ("levels_chart", "trend_chart"), (
            ["pct_level_4", "pct_level_3", "pct_level_2", "pct_level_1"], ["pct_met_and_above"])):
        header, _ = privacy.csv_table((out / f"dncusd.{name}.csv").read_text(encoding="utf-8"))
        assert [h for h in header if h in privacy.RESULTS] == results
        [(th, _)] = html_tables.read(shown)
        assert len([h for h in th if h in privacy.RESULTS]) == len(results)


def test_every_table_and_chart_has_a_numbered_caption(executed):
    nb, _ = executed
    html = outputs(nb, "text/html")
    assert re.findall(r"<caption>(.*?)</caption>", html) == [
        "Table 1. All Grades summary, Del Norte County Unified, spring 2022.",
        "Table 2. Results by grade, Del Norte County Unified, spring 2022.",
        "Table 3. All Grades % Met and Above by student group, Del Norte County Unified beside Del Norte County "
        "and the state, spring 2022.",
        "Table 4. Distance from Standard, All Grades and by grade: Del Norte County Unified beside Del Norte "
        "County and the state, spring 2022.",
        "Table 5. All Grades Distance from Standard by student group, Del Norte County Unified beside Del Norte "
        "County and the state, spring 2022.",
        "Table 6. All Grades Distance from Standard by year and the LEA&#x27;s change from the prior year: "
        "Del Norte County Unified, Del Norte County and the state.",
        "Table 7. All Grades results by school, Del Norte County Unified, spring 2022.",
        "Table 8. All Grades % Met and Above by year and change from the prior year: Del Norte County Unified, "
        "Del Norte County and the state.",
        "Table 9. Cut-score impact: % at and above each level under the official and alternative cuts, "
        "Del Norte County Unified, spring 2022.",
    ]
    assert re.findall(r"<figcaption>(.*?)</figcaption>", html) == [
        "Figure 1. % of students with scores at each performance level by grade, Del Norte County Unified, "
        "spring 2022.",
        "Figure 2. All Grades % Met and Above by year: Del Norte County Unified, Del Norte County and the state.",
    ]
    # the caption is the table's own first child
    assert html.count('class="dataframe caaspp-table"><caption>Table ') == 9


def test_captions_are_numbered_per_page_and_escaped():
    from helpers.report import outputs as out

    cap = out.Captions()
    assert [cap.table("a"), cap.figure("b"), cap.table("c"), cap.figure("d")] == [
        "Table 1. a", "Figure 1. b", "Table 2. c", "Figure 2. d"]
    assert out.Captions().table("x") == "Table 1. x"  # a new page starts again at 1
    frame = pd.DataFrame({"school": ["x"]})
    shown = out.table(frame, "s", "t", "Table 1. <script>alert(1)</script> & co").data
    assert "<caption>Table 1. &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</caption>" in shown
    assert "<script>" not in shown
    assert "<caption>" not in out.table(frame, "s", "t").data  # other callers: no caption
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
                           "60e6kgAAAABJRU5ErkJggg==")
    fig = out.figure_html(png, "alt", "Figure 1. <b>x</b>", frame, "s", "t_chart")
    assert "<figcaption>Figure 1. &lt;b&gt;x&lt;/b&gt;</figcaption>" in fig
    assert fig.endswith("</table>" + CSV_LINK.format("s.t_chart.csv") + "</details>")
    assert "download" not in out.figure_html(png, "alt", "c", frame)


def test_parameters_cell_is_tagged():
    nb = json.loads(NOTEBOOK.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and 'cds = "' in "".join(tagged[0]["source"])
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_runner_titles_the_page_and_hides_parameters(sample_store, sample_tables, tmp_path):
    """One LEA through the runner (its failures, timeouts and backends: tests/test_runner.py)."""
    leas = tmp_path / "book" / "leas"
    s = runner.Settings(root=tmp_path, notebook=NOTEBOOK, store=sample_store, tables=sample_tables, leas_dir=leas,
                        manifest=leas / "manifest.json", slices=tmp_path / "slices", only=(DNCUSD,))
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


def test_group_and_matched_grade_tables_hold_the_published_values(executed):
    nb, out = executed
    groups = (out / "dncusd.by_group.csv").read_text(encoding="utf-8").splitlines()
    keys = f"{DNCUSD},Del Norte County Unified,2022,"  # the join keys in front (report.with_keys)
    assert groups[0] == ("cds,entity_name,year,test,student_group,with_scores,pct_met_and_above,"
                         "county_pct_met_and_above,state_pct_met_and_above")
    assert keys + "ELA,All Students,1748,27.86,29.61,47.06" in groups  # the sample has All Students only
    # the sample's 2021 file has no grade results for the LEA but grade 11's: no grade has its grade below a year
    # earlier, so the matched-grade table is a sentence (no table of dashes, no CSV)
    assert not (out / "dncusd.matched_grade.csv").exists()
    assert "no matched-grade change to show" in outputs(nb, "text/markdown")


def test_an_empty_table_is_a_sentence_without_a_csv_link():
    from helpers.report import outputs as out

    frame = pd.DataFrame(columns=["school", "cds"])
    shown = out.table(frame, "s", "schools", "Table 4. All Grades results by school, <Castle Rock>, spring 2022.").data
    assert shown == ('<p class="caaspp-empty">Table 4. All Grades results by school, &lt;Castle Rock&gt;, spring '
                     "2022. None for this LEA.</p>")
