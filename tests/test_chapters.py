"""Generated chapters: assessments and cut tables, state and county summary, run status, change log."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from helpers.core import cuts
from helpers.ingest import layouts
from helpers.report import charts
from helpers.run.runner import LeaRecord
from helpers.site import changelog, chapter_charts, chapters, myst, pages

from .conftest import DNCUSD, ROOT


@pytest.fixture(scope="module")
def cut_tables():
    return cuts.load_all()


def table_by_id(tables, table_id):
    return next(t for t in tables if t.id == table_id)


def test_scale_ranges_cover_loss_to_hoss_without_gaps(cut_tables):
    t = table_by_id(cut_tables, "sb_ela_2021plus")
    data = chapter_charts.scale_range_data(t)
    grade3 = data[data["Grade"] == "3"]
    g = t.grades["3"]
    assert g.cuts == (2367, 2432, 2490)
    assert grade3["From"].tolist() == [g.loss, 2367, 2432, 2490]  # LOSS, then the three cuts
    assert grade3["To"].tolist() == [2366, 2431, 2489, g.hoss]  # each level ends one below the next cut
    assert grade3["Performance level"].iloc[0] == "1 Standard Not Met"


def test_scale_range_chart_uses_the_level_colours_and_is_deterministic(cut_tables):
    t = table_by_id(cut_tables, "cast_2019plus")
    fig = chapter_charts.scale_ranges(t)
    colours = {to_hex(p.get_facecolor()).upper() for p in fig.axes[0].patches}
    assert colours == {charts.LEVEL_COLOURS[k].upper() for k in (1, 2, 3, 4)}
    assert charts.png(fig) == charts.png(chapter_charts.scale_ranges(t))


def test_assessments_page_has_numbered_tables_charts_alt_text_and_data(cut_tables, tmp_path):
    alternatives = cuts.load_family(ROOT / "params" / "alt_cuts" / "sb_illustrative_alternative.yml")
    text = chapters.assessments_page(cut_tables, tmp_path, alternatives)
    every = cut_tables + alternatives
    assert sorted(p.stem for p in tmp_path.glob("*.png")) == sorted(myst.label("fig-ranges", t.id) for t in every)
    assert text.count("```{figure}") == len(every) and text.count(":::{dropdown}") == len(every)
    assert text.count(':alt: "Horizontal bar chart of the scale score range') == sum(
        t.score_kind == "scale" for t in every)
    assert ':alt: "Horizontal bar chart of the raw score range of each test level (I to V) for CAPA ELA (panel cut ' \
           'set), 2008–2015' in text
    assert text.count(":::{table}") == len(every) + 1  # the tests table and one per cut table
    assert ":::{table} Illustrative values. Cut scores of capa\\_ela\\_panel (illustrative), by CAPA test " \
           "level." in text
    assert text.index("### Smarter Balanced Summative") < text.index("### California Science Test") \
        < text.index("### California Alternate Assessments") < text.index("### Alternative cut sets")
    assert "#### sb\\_ela\\_alternative\\_2021plus" in text


def test_capa_ranges_chart_draws_five_levels_by_test_level(cut_tables):
    capa = next(t for t in cut_tables if t.id == "capa_ela_panel")
    fig = chapter_charts.scale_ranges(capa)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [f"Level {v}" for v in ("I", "II", "III", "IV", "V")]
    colours = {to_hex(p.get_facecolor()).upper() for p in fig.axes[0].patches}
    assert colours == {c.upper() for c in charts.LEVEL_COLOURS.values()}  # all five level colours


def test_summary_page_shows_state_and_county_with_stars_for_hidden_values(sample_tables, tmp_path):
    levels = pd.read_parquet(sample_tables / "levels.parquet")
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    county = (levels["cds"] == "08000000000000") & (levels["year"] == 2022) & (levels["test_id"] == 1) \
        & (levels["grade"] == 3) & (levels["student_group_id"] == 1)
    hidden_value = float(levels.loc[county, "pct_met_and_above"].iloc[0])
    levels.loc[county, "suppressed"] = True  # as if complementary suppression had hidden the row
    text = chapters.summary_page(levels, trends, tmp_path)
    assert text.index("## State of California") < text.index("## Del Norte County")
    assert "| 47.06 |" in text  # the state's 2022 ELA All Grades % met and above
    row = next(line for line in text.splitlines() if line.startswith("| ELA | Grade 3 |")
               and "\\*" in line)
    assert f"{hidden_value:.2f}" not in row
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "fig-00000000000000-levels.png", "fig-00000000000000-trend.png",
        "fig-08000000000000-levels.png", "fig-08000000000000-trend.png"]
    assert text.count(':alt: "Line chart of All Grades % met and above by year') == 2


def test_run_status_lists_failures_with_their_error_escaped():
    ok = LeaRecord(DNCUSD, 2022, "Del Norte County Unified", "08", "Del Norte County", 6, "nb.ipynb", "x", "ok", 3.4)
    bad = LeaRecord("08100820830059", 2022, "<b>Castle Rock</b>", "08", "Del Norte County", 10, "nb2.ipynb", "y",
                    "failed", 1.2, "ValueError: deliberate\nfailure | here", 3)
    text = changelog.run_status_page([ok, bad])
    assert "2 LEA notebooks: **1 built, 1 not built**." in text
    row = next(line for line in text.splitlines() if "08100820830059" in line)
    assert "\\<b\\>Castle Rock\\</b\\>" in row and "<b>" not in row
    assert "ValueError: deliberate failure \\| here (cell 3)" in row
    ok_row = next(line for line in text.splitlines() if DNCUSD in line)
    assert ok_row.rstrip().endswith("| built |  |") and "3.4" not in text


@pytest.mark.parametrize("era", layouts.RESULT_ERAS, ids=lambda e: e.id)
def test_every_layout_era_names_its_years(era):
    start, end = changelog.era_years(era, 2030)
    assert 2015 <= start <= end <= 2030


def test_change_log_records_rule_layout_and_cut_changes(cut_tables):
    log = changelog.change_log(cut_tables, 2024).set_index("Year")["Changes"]
    assert log["2019–20"].startswith("No testing")
    assert "Suppression rule: counts from 4, results from 11, areas from 30, domains from 11." in log["2020–21"]
    assert "Research-file layout in use: C (" in log["2020–21"]
    assert "sb_ela_2021plus" in log["2020–21"] and "no longer used: sb_ela_pre2021" in log["2020–21"]
    assert "Research-file layout in use: D (" in log["2023–24"]
    assert log["2017–18"] == "no change"
    assert list(log.index) == [f"{y - 1}–{str(y)[2:]}" for y in range(2015, 2025)]


def test_version_suffix_of_research_file_names():
    assert pages.version_suffix("sb_ca2018_1_csv_v3__county08_DelNorte_plus_state.txt") == "v3"
    assert pages.version_suffix("sb_ca2017_1_csv_v2.txt") == "v2"
    assert pages.version_suffix("sb_ca2022_studentgroup1__county08.txt") == ""


def test_myst_blocks():
    frame = pd.DataFrame({"A": [1], "B": ["x_y"]})
    table = myst.table(frame, "Caption", "tab-x", numbers=True)
    assert table.startswith(":::{table} Caption\n:name: tab-x\n:class: caaspp-table\n\n| A | B |")
    block = myst.chart("_generated/figures/f.png", "Cap.", "Alt\ntext", "fig-f", frame)
    assert ':alt: "Alt text"\n' in block and ":::{dropdown} Data for {numref}`fig-f`" in block
    assert myst.label("fig", "08000000000000", "Trend") == "fig-08000000000000-trend"


def test_summary_charts_are_redrawn_only_when_their_data_change(sample_tables, tmp_path, monkeypatch):
    levels = pd.read_parquet(sample_tables / "levels.parquet")
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    first = chapters.summary_page(levels, trends, tmp_path)
    drawn: list[int] = []
    real = chapters.charts.png
    monkeypatch.setattr(chapters.charts, "png", lambda fig: drawn.append(1) or real(fig))
    assert chapters.summary_page(levels, trends, tmp_path) == first and drawn == []
    county = (levels["cds"] == "08000000000000") & (levels["grade"] == 13)
    levels.loc[county, "pct_level_4"] = levels.loc[county, "pct_level_4"].astype(float) + 1
    chapters.summary_page(levels, trends, tmp_path)
    assert len(drawn) == 1  # the county's levels chart; its trend chart and the state's are kept
    chapters.remove_stale_figures(tmp_path, [])
    assert list(tmp_path.iterdir()) == []  # keys go with their figures


def test_trend_charts_mark_the_pandemic_years():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    charts.mark_pandemic_years(ax, [2019, 2020, 2021, 2022])
    assert [t.get_text() for t in ax.texts] == ["no testing", "low\nparticipation"]
    assert [round(p.get_x() + p.get_width() / 2, 2) for p in ax.patches] == [2021.0]
    ax = Figure().subplots()
    charts.mark_pandemic_years(ax, [2017, 2018])
    assert not ax.texts and not ax.patches


def test_a_cut_tables_text_is_literal_in_its_chart(cut_tables):
    """Level names and cut sets come from cut files (`tables --alt-cuts` takes any): `$…$` is not mathtext."""
    from dataclasses import replace

    t = replace(cut_tables[0], level_names=("$\\undefined$",) + tuple(cut_tables[0].level_names[1:]),
                cut_set="_x $y$")
    fig = chapter_charts.scale_ranges(t)
    assert charts.png(fig).startswith(b"\x89PNG")
    assert fig.legends[0].get_texts()[0].get_text() == "\\$\\undefined\\$"


def test_summary_page_is_made_again_only_when_its_inputs_or_text_change(sample_tables, tmp_path, monkeypatch):
    levels = pd.read_parquet(sample_tables / "levels.parquet")
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    figures, page = tmp_path / "figures", tmp_path / "statewide.md"
    made: list[int] = []
    real = chapters.summary_page
    monkeypatch.setattr(chapters, "summary_page", lambda *a: made.append(1) or real(*a))
    first = chapters.summary(levels, trends, figures, page)
    assert first == real(levels, trends, figures) and page.read_text(encoding="utf-8") == first
    assert chapters.summary(levels, trends, figures, page) == first and made == [1]  # kept
    page.write_text(first + "edited\n", encoding="utf-8")  # not the text the key was written for
    assert chapters.summary(levels, trends, figures, page) == first and len(made) == 2
    shown = sorted(chapters.figures_of(first))
    (figures / shown[0]).unlink()
    assert chapters.summary(levels, trends, figures, page) == first and len(made) == 3
    assert (figures / shown[0]).is_file()
    county = (levels["cds"] == "08000000000000") & (levels["grade"] == 13)
    levels.loc[county, "pct_level_4"] = levels.loc[county, "pct_level_4"].astype(float) + 1
    changed = chapters.summary(levels, trends, figures, page)
    assert changed != first and changed == real(levels, trends, figures) and len(made) == 4
    code = tmp_path / "package"
    code.mkdir()
    (code / "m.py").write_text("A = 1\n")
    monkeypatch.setattr(chapters, "PACKAGE", code)
    key = chapters._summary_key(levels, trends)
    assert chapters._summary_key(levels, trends) == key
    (code / "m.py").write_text("A = 2\n")
    assert chapters._summary_key(levels, trends) != key


def test_a_kept_summary_page_keeps_the_csvs_its_tables_wrote(sample_tables, tmp_path, monkeypatch):
    """A page kept as it was still has every CSV it links to after the build's CSV sink removes the CSVs no
    page wrote (the statewide warm bench's build refused the site for 144 such broken links before)."""
    levels = pd.read_parquet(sample_tables / "levels.parquet")
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    figures, page, data = tmp_path / "figures", tmp_path / "statewide.md", tmp_path / "data"
    made: list[int] = []
    real = chapters.summary_page
    monkeypatch.setattr(chapters, "summary_page", lambda *a: made.append(1) or real(*a))

    def build() -> str:
        with myst.csv_files(data):
            return chapters.summary(levels, trends, figures, page)

    first = build()
    linked = sorted(name.rsplit("/", 1)[-1] for name in re.findall(r'href="([^"]+\.csv)"', first))
    assert linked and sorted(f.name for f in data.glob("*.csv")) == linked
    assert build() == first and made == [1]  # kept, and so are its CSVs
    assert sorted(f.name for f in data.glob("*.csv")) == linked
    (data / linked[0]).write_text("edited\n")
    assert build() == first and len(made) == 2 and (data / linked[0]).read_text() != "edited\n"
    without = chapters.summary(levels, trends, figures, page)  # no sink: the text has no CSV links
    assert "caaspp-csv" not in without and len(made) == 3
