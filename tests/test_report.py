"""LEA page tables: real values from the sample, suppression as published."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers.ingest import store as stores
from helpers.report import page_tables as report

from .conftest import DNCUSD


@pytest.fixture(scope="module")
def dncusd(sample_tables):
    return stores.lea_slice(sample_tables, DNCUSD, 2022)


def test_slice_has_lea_county_state_and_schools(dncusd):
    roles = dncusd.rows.groupby("role")["cds"].nunique().to_dict()
    # 11 schools and the Uncharted Shores charter carry district code 61820 in the 2022 entities file
    assert roles == {"lea": 1, "county": 1, "state": 1, "school": 12}
    assert dncusd.name == "Del Norte County Unified" and dncusd.county_name == "Del Norte County"


def test_a_slices_parts_are_made_once_per_rows_frame(dncusd):
    """`LeaSlice.part` keeps each role's rows for the page's tables and charts, and makes them again for a new
    `rows` frame (never the parts of rows the slice no longer has)."""
    import dataclasses

    piece = dataclasses.replace(dncusd)
    lea = piece.part("lea")
    assert piece.part("lea") is lea and lea.equals(piece.rows[piece.rows["role"] == "lea"])
    piece.rows = piece.rows[piece.rows["grade"] == 13]
    assert set(piece.part("lea")["grade"]) == {13} and len(piece.part("lea")) < len(lea)


def test_summary_is_the_published_all_grades_rows(dncusd):
    s = report.summary(dncusd)
    ela = s[s["test"] == "ELA"].set_index("entity")
    assert ela.loc["Del Norte County Unified", "pct_met_and_above"] == "27.86"
    assert ela.loc["Del Norte County", "pct_met_and_above"] == "29.61"
    assert ela.loc["State of California", "pct_met_and_above"] == "47.06"
    assert ela.loc["Del Norte County Unified", "with_scores"] == "1748"
    assert list(s["entity"][:3]) == ["Del Norte County Unified", "Del Norte County", "State of California"]


def test_by_grade_shows_mean_only_for_single_grades(dncusd):
    g = report.by_grade(dncusd)
    math11 = g[(g["test"] == "Mathematics") & (g["grade"] == "Grade 11")].iloc[0]
    assert (math11["mean_scale_score"], math11["pct_met_and_above"]) == ("2502.6", "13.30")
    assert g[g["grade"] == "All Grades"]["mean_scale_score"].tolist() == ["–", "–"]


def test_schools_keep_the_files_stars(dncusd):
    s = report.schools(dncusd).set_index(["cds", "test"])
    # Del Norte Community (0830042) is not in DNCUSD; its charter-free schools are
    assert s.loc[("08618200137729", "ELA"), "type"] == "Direct-funded charter"
    assert "08100820830042" not in s.index.get_level_values(0)


def _rows(**cols) -> pd.DataFrame:
    base = dict(year=2022, suppressed=False, counts_hidden="", enrolled=20, tested=20, with_scores=20,
                mean_scale_score=2400.0, pct_met_and_above=50.0)
    base.update(cols)
    frame = pd.DataFrame([base])
    for c in ("enrolled", "tested", "with_scores"):
        frame[c] = frame[c].astype("Int64")
    return frame


def test_publish_stars_what_the_levels_table_hid():
    out = report.publish(_rows(suppressed=True, counts_hidden="tested|with_scores", tested=pd.NA,
                               with_scores=pd.NA, pct_met_and_above=float("nan")), ("pct_met_and_above",))
    assert out.loc[0].tolist() == ["20", "*", "*", "*"]


def test_publish_shows_zero_and_no_data():
    out = report.publish(_rows(tested=0, with_scores=0, pct_met_and_above=float("nan")), ("pct_met_and_above",))
    assert out.loc[0].tolist() == ["20", "0", "0", "–"]


def test_no_result_for_fewer_than_eleven_students_is_shown(dncusd):
    """Every result for 1–10 students with scores is starred (by the research file itself: see
    test_suppression_policy for what the default policy shows)."""
    rows = dncusd.rows
    assert not rows[(rows["with_scores"] > 0) & (rows["with_scores"] < 11) & ~rows["suppressed"]].size


def test_trend_has_the_gap_and_the_caveat(dncusd):
    t = report.trend(dncusd)
    ela = t[t["test"] == "ELA"].set_index("year")
    assert ela.loc[2022, "lea"] == "27.86" and ela.loc[2017, "state"] == "48.56"
    assert ela.loc[2020, "lea"] == "–" and ela.loc[2020, "note"].startswith("no testing")
    assert ela.loc[2021, "note"].startswith("2020–21: low participation")
    assert ela.loc[2022, "change_from_prior_year"] == "-12.39"


def test_impact_example_matches_published_levels_under_official_cuts(dncusd):
    t = report.impact_table(dncusd)
    g3 = t[(t["test"] == "ELA") & (t["grade"] == "3")].set_index("level_name")
    # published 2022 DNCUSD grade 3 ELA: 6.08 exceeded, 11.03 met (17.11 met and above)
    assert g3.loc["Standard Exceeded", "pct_at_and_above_a"] == "6.1"
    assert g3.loc["Standard Met", "pct_at_and_above_a"] == "17.1"
    assert g3.loc["Standard Met", "cut_a"] == "2432" and g3.loc["Standard Met", "cut_b"] == "2417"


def test_names_are_escaped_in_markdown_and_html():
    assert report.md_text("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    table = pd.DataFrame({"school": ["<b>x</b>\x00\x1b[1m"], "tested": ["12"]})
    assert "<td>&lt;b&gt;x&lt;/b&gt; [1m</td>" in report.html_table(table).data  # control characters: a space


def test_csvs_have_plain_numbers_and_stars(dncusd, tmp_path):
    paths = report.write_csvs(report.tables(dncusd), tmp_path, "lea")
    # no matched-grade CSV: in 2020–21 only grade 11 had scores, so no grade has its grade below a year earlier
    assert sorted(p.name for p in paths) == ["lea.by_grade.csv", "lea.by_group.csv", "lea.impact.csv",
                                             "lea.schools.csv", "lea.summary.csv", "lea.trend.csv"]
    text = (tmp_path / "lea.summary.csv").read_text()
    assert "ELA,Del Norte County Unified,1829,1750,1748,8.70,19.16,27.86,25.40,46.74" in text


def test_by_grade_sets_county_and_state_beside_the_lea(dncusd):
    g = report.by_grade(dncusd)
    ela3 = g[(g["test"] == "ELA") & (g["grade"] == "Grade 3")].iloc[0]
    # 2022 grade 3 ELA % met and above: Del Norte County 19.54, state 42.17 (research file rows)
    assert (ela3["pct_met_and_above"], ela3["county_pct_met_and_above"], ela3["state_pct_met_and_above"]) == (
        "17.11", "19.54", "42.17")


def test_every_lea_page_csv_column_is_documented(dncusd):
    from helpers.stats import columns

    for name, table in report.tables(dncusd).items():
        assert columns.undocumented("lea_page", table.columns) == [], name


def test_an_lea_without_impact_rows_gets_no_impact_csv(sample_tables, tmp_path):
    other = stores.lea_slice(sample_tables, "08100820000000", 2022)  # not the impact example
    page = report.tables(other)
    assert page["impact"].empty
    (tmp_path / "lea.impact.csv").write_text("from an earlier run\n")
    paths = report.write_csvs(page, tmp_path, "lea")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths) == [
        "lea.by_grade.csv", "lea.by_group.csv", "lea.schools.csv", "lea.summary.csv", "lea.trend.csv"]


def test_matched_grade_sets_grade_g_beside_grade_g_minus_1_a_year_earlier(sample_tables):
    piece = stores.lea_slice(sample_tables, DNCUSD, 2018)
    table = report.matched_grade(piece).set_index(["test", "grade"])
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    ela = trends[(trends["cds"] == DNCUSD) & (trends["test_id"] == 1) & (trends["student_group_id"] == 1)]
    value = ela.set_index(["year", "grade"])["pct_met_and_above"]
    row = table.loc[("ELA", "Grade 4")]
    assert row["pct_met_and_above"] == f"{value[(2018, 4)]:.2f}"
    assert row["prior_grade_prior_year_pct_met_and_above"] == f"{value[(2017, 3)]:.2f}" == "29.15"
    assert row["matched_grade_change"] == f"{value[(2018, 4)] - value[(2017, 3)]:+.2f}"
    assert ("ELA", "Grade 3") not in table.index  # no grade 2 to compare with: no row of dashes


def test_by_group_sets_the_lea_beside_county_and_state(dncusd):
    table = report.by_group(dncusd).set_index(["test", "student_group"])
    assert table.loc[("ELA", "All Students")].tolist() == ["1748", "27.86", "29.61", "47.06"]


def test_the_trend_legend_shows_names_as_text(dncusd):
    """Matplotlib reads `$…$` as mathtext (a bad one fails the chart, and so the LEA's page) and hides a label
    that starts with `_`: names in the legend are escaped, and a long one is cut."""
    from dataclasses import replace

    from helpers.report import charts

    piece = replace(dncusd, name="$\\undefined$ and $x^2$", county_name="_hidden " + "y" * 100)
    fig = charts.trend(piece)
    assert charts.png(fig).startswith(b"\x89PNG")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["\\$\\undefined\\$ and \\$x^2\\$", " _hidden " + "y" * 51 + "…", "State"]


def test_every_lea_csv_carries_its_join_keys(dncusd, tmp_path):
    """cds, an entity name, year and test in every CSV of the page (charts' too), no empty header; a row of
    the county or the state carries that entity's CDS code, not the page's."""
    from helpers.report import outputs

    tables = report.tables(dncusd) | report.dfs_tables(dncusd) | outputs.chart_tables(dncusd)
    paths = report.write_csvs(tables, tmp_path, "lea")
    assert len(paths) == 11  # every table but the empty matched-grade one (a sentence on the page)
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert {"cds", "year", "test"} <= set(frame.columns) and "" not in frame.columns, path.name
        assert set(frame.columns) & {"entity_name", "entity", "school"}, path.name
        assert frame["year"].isin(["2022"]).all() or "trend" in path.name, path.name
    summary = pd.read_csv(tmp_path / "lea.summary.csv", dtype=str).set_index("entity")
    assert summary.loc["Del Norte County Unified", "cds"].tolist() == [DNCUSD] * 2
    assert set(summary.loc["Del Norte County", "cds"]) == {"08000000000000"}
    assert set(summary.loc["State of California", "cds"]) == {"00000000000000"}
    by_grade = pd.read_csv(tmp_path / "lea.by_grade.csv", dtype=str)
    assert (by_grade["cds"] == DNCUSD).all() and (by_grade["entity_name"] == "Del Norte County Unified").all()


def test_charts_are_8_bit_palette_pngs_without_metadata():
    import io

    from matplotlib.figure import Figure
    from PIL import Image

    from helpers.report import charts

    fig = Figure(figsize=(4, 3), dpi=96)
    fig.add_subplot().bar(["3", "4"], [40, 60], color=charts.LEVEL_COLOURS[4])
    data = charts.png(fig)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.mode, image.size) == ("PNG", "P", (384, 288))
    assert set(image.info) <= {"dpi", "transparency"} and data == charts.png(fig)
    default = io.BytesIO()  # Pillow's own zlib level: the same pixels, a bigger file
    image.save(default, format="PNG", dpi=image.info["dpi"])
    assert Image.open(default).tobytes() == image.tobytes() and len(data) < len(default.getvalue())


def _pixels(fig, canvas_class) -> bytes:
    canvas = canvas_class(fig)
    canvas.draw()
    return bytes(canvas.buffer_rgba())


def test_cached_text_draws_the_pixels_of_matplotlibs_own_renderer(dncusd):
    """Layouts and glyph bitmaps kept across charts (helpers.report.glyph_cache) change no pixel: the sample's
    charts (rotated "no testing", a legend, every grade), and text at many sub-pixel positions, sizes and
    angles, with and without antialiasing, drawn after the cache holds the same glyphs elsewhere."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from helpers.report import charts, glyph_cache

    def texts(antialiased: bool, dpi: int = 96) -> Figure:
        fig = Figure(figsize=(4, 3), dpi=dpi)
        for k in range(40):
            fig.text(0.013 * k + 0.001 * (k % 7), 0.023 * k, f"Grade {k % 4} ñ… 47.06%", fontsize=6 + k % 5,
                     rotation=(0, 90, 30, 0)[k % 4], antialiased=antialiased)
        fig.text(0.5, 0.9, r"$x^2$ mathtext", fontsize=9)
        fig.text(0.7, 0.5, "two\nlines", fontsize=7, va="top")  # line metrics (ascent, descent, gap) at this dpi
        return fig

    glyph_cache.clear()
    for make in (lambda: charts.levels_by_grade(dncusd), lambda: charts.trend(dncusd), lambda: texts(True),
                 lambda: texts(False), lambda: texts(True, dpi=150)):
        assert _pixels(make(), charts._Canvas) == _pixels(make(), FigureCanvasAgg)
    assert all(glyph_cache.sizes())  # the cache was used


def test_text_layouts_are_kept_per_thread_and_bitmaps_shared(dncusd):
    """A layout holds Matplotlib's font objects, which belong to one thread: another thread makes its own, and
    draws the same pixels with the glyph bitmaps the first one rendered."""
    import threading

    from helpers.report import charts, glyph_cache

    glyph_cache.clear()
    drawn: list[bytes] = []
    worker = threading.Thread(target=lambda: drawn.append(charts.png(charts.levels_by_grade(dncusd))))
    worker.start()
    worker.join()
    layouts, glyphs = glyph_cache.sizes()
    assert layouts == 0 and glyphs > 0  # the other thread's layouts are not this thread's
    assert charts.png(charts.levels_by_grade(dncusd)) == drawn[0]
    assert glyph_cache.sizes() == (glyph_cache.sizes()[0], glyphs) and glyph_cache.sizes()[0] > 0  # no new glyph


def test_a_reused_chart_figure_draws_the_pixels_of_a_new_one(dncusd):
    """The page's charts are drawn on this thread's figure of the same shape, cleared (`reuse=True`): every
    chart of a sequence whose grades, tests and years grow and shrink is the PNG of a new figure, and a chart
    with a panel that draws nothing, or after a change of Matplotlib's rc parameters, is made on a new figure."""
    from dataclasses import replace

    import matplotlib

    from helpers.report import charts

    rows, trend = dncusd.rows, dncusd.trend
    lea = rows["role"] == "lea"
    shapes = {
        "every grade": dncusd,
        "three grades": replace(dncusd, rows=rows[~lea | rows["grade"].isin([3, 4, 13])]),
        "one test": replace(dncusd, rows=rows[~lea | (rows["test_id"] == 1)], trend=trend[trend["test_id"] == 1]),
        "two years": replace(dncusd, trend=trend[trend["year"] >= trend["year"].max() - 1]),
        "a panel with nothing": replace(dncusd, rows=rows.assign(
            pct_level_1=rows["pct_level_1"].where(~lea | (rows["test_id"] != 2)))),
        "another name": replace(dncusd, name="Another Unified"),
    }
    for name in [*shapes, "every grade", "three grades", "one test", "every grade"]:
        piece = shapes[name]
        for chart in (charts.levels_by_grade, charts.trend):
            reused = chart(piece, reuse=True)
            assert charts.png(reused) == charts.png(chart(piece)), (name, chart.__name__)
    assert charts.levels_by_grade(shapes["a panel with nothing"], reuse=True) is not charts.levels_by_grade(
        dncusd, reuse=True)  # drawn on a new figure, not the kept one
    assert charts.trend(dncusd, reuse=True) is charts.trend(dncusd, reuse=True)
    with matplotlib.rc_context({"axes.edgecolor": "red", "ytick.major.size": 9}):  # a figure made before differs
        for chart in (charts.levels_by_grade, charts.trend):
            assert charts.png(chart(dncusd, reuse=True)) == charts.png(chart(dncusd)), chart.__name__
    for chart in (charts.levels_by_grade, charts.trend):
        assert charts.png(chart(dncusd, reuse=True)) == charts.png(chart(dncusd)), chart.__name__


def test_the_levels_chart_puts_a_bar_at_each_grade_labelled_as_a_category(dncusd):
    from helpers.report import charts

    ax = charts.levels_by_grade(dncusd).axes[0]
    grades = [t.get_text() for t in ax.get_xticklabels()]
    assert grades == ["3", "4", "5", "6", "7", "8", "11"]
    assert list(ax.get_xticks()) == list(range(7))
    assert len(ax.collections) == 4  # a collection of bars per level
    for bars in ax.collections:
        xs = [path.vertices[:, 0] for path in bars.get_paths()]
        centres = sorted({round((x.min() + x.max()) / 2, 6) for x in xs})
        assert centres == list(range(7))


def _old_bars(ax, at, bottom, top, colour, label):
    ax.bar(at, top - bottom, bottom=bottom, color=colour, label=label, width=0.7)


def test_a_levels_bars_as_one_collection_draw_the_pixels_of_axes_bar(dncusd, monkeypatch):
    """The levels chart draws each level's bars as one collection (two fifths of making it, docs/benchmarks.md):
    the PNGs are those of `Axes.bar`, for the sample, bars of zero height, a missing level and one test, also
    under other rc parameters."""
    import dataclasses

    import matplotlib

    from helpers.report import charts

    rows, trend = dncusd.rows, dncusd.trend
    lea = rows["role"] == "lea"
    shapes = [dncusd,
              dataclasses.replace(dncusd, rows=rows.assign(pct_level_4=rows["pct_level_4"].where(~lea, 0.0))),
              dataclasses.replace(dncusd, rows=rows.assign(pct_level_2=rows["pct_level_2"].where(~lea))),
              dataclasses.replace(dncusd, rows=rows[rows["test_id"] == 2])]
    styles = [{}, {"patch.force_edgecolor": True, "patch.antialiased": False, "patch.linewidth": 3}]
    for style in styles:
        with matplotlib.rc_context(style):
            drawn = [charts.png(charts.levels_by_grade(piece)) for piece in shapes]
            with monkeypatch.context() as m:
                m.setattr(charts, "_bars", _old_bars)
                old = [charts.png(charts.levels_by_grade(piece)) for piece in shapes]
        assert drawn == old, style
    assert len(set(drawn)) == len(shapes)  # every shape drew bars of its own


def test_cast_high_school_has_a_short_label_under_its_bar_and_no_tick_label_overlaps_another(dncusd):
    """CAST is reported for grades 5, 8, 10, 11, 12 and high school (14): its full label, under a bar beside
    grade 12's, ran into it and off the figure."""
    import dataclasses

    from helpers.report import charts

    ela = dncusd.rows[(dncusd.rows["role"] == "lea") & (dncusd.rows["test_id"] == 1) & (dncusd.rows["grade"] != 13)]
    cast = ela.head(6).assign(test_id=17, grade=[5, 8, 10, 11, 12, 14])
    piece = dataclasses.replace(dncusd, rows=pd.concat([dncusd.rows, cast], ignore_index=True))
    fig = charts.levels_by_grade(piece)
    charts.png(fig)  # drawn, so that the texts have their places
    science = fig.axes[-1]
    assert science.get_title() == "Science (CAST)"
    assert [t.get_text() for t in science.get_xticklabels()] == ["5", "8", "10", "11", "12", "All HS"]
    renderer = fig.canvas.get_renderer()
    whole = fig.bbox
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()]
        assert all(whole.x0 <= b.x0 and b.x1 <= whole.x1 for b in boxes), ax.get_title()
        assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:])), ax.get_title()


def test_a_charts_legend_and_key_stay_inside_the_figure_with_one_panel_and_the_longest_names(dncusd):
    """A one-panel chart (an LEA with one test) was 4.2 inches wide: the four levels' legend and the trend's
    legend of long names ran past both edges, cutting names and losing the State's entry."""
    import dataclasses

    from helpers.report import charts

    # the longest LEA and county names in the entities files of 2015–2025 (CDE cuts names at 50 characters)
    long = dataclasses.replace(dncusd, name="Diane S. Leichman Career Preparatory And Transitio",
                               county_name="San Luis Obispo")
    for tests in ([1], [1, 2], [1, 2, 17]):
        piece = dataclasses.replace(long, rows=long.rows[long.rows["test_id"].isin(tests)],
                                    trend=long.trend[long.trend["test_id"].isin(tests)])
        for chart in (charts.levels_by_grade, charts.trend):
            fig = chart(piece)
            charts.png(fig)
            renderer = fig.canvas.get_renderer()
            assert len(fig.axes) == len(set(tests) & set(piece.trend["test_id"] if chart is charts.trend
                                                        else piece.rows["test_id"])), (chart.__name__, tests)
            for box in [legend.get_window_extent(renderer) for legend in fig.legends] + [
                    text.get_window_extent(renderer) for text in fig.texts]:
                assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, (chart.__name__, tests)
            assert len(fig.legends[0].get_texts()) == (3 if chart is charts.trend else 4)


def test_a_table_is_a_row_per_line_and_its_text_keeps_the_cells_apart(dncusd):
    shown = report.display(report.summary(dncusd))
    html = report.table_html(shown)
    lines = html.splitlines()
    assert len(lines) == 1 + len(shown) and all(line.startswith("<tr> <td>") for line in lines[1:])
    # Text taken from the tags, as Sphinx's search index takes it (sphinx.search.WordCollector): two adjacent
    # cells stay two words, never one number ("56" "46262211" would read as a student ID).
    text = re.sub(r"<style.*?</style>|<script.*?</script>|<[^<]+?>", "", html)
    cells = [*shown.columns, *shown.astype(str).to_numpy().ravel()]
    assert text.split() == " ".join(cells).split()
    assert "1,829" in text.split() and "ELA" in text.split()


def _pivot(frame: pd.DataFrame, index: list[str], values: str | list[str]) -> pd.DataFrame:
    return frame.pivot_table(index=index, columns="role", values=values, aggfunc="first")


def _pivot_trend(piece) -> pd.DataFrame:
    """page_tables.trend as it was made with pandas (pivot, reindex, join), before its rows were made in dicts."""
    t = piece.trend
    hidden = t["suppressed"].fillna(False).astype(bool)
    role = t["cds"].map({piece.cds: "lea", piece.cds[:2] + "0" * 12: "county", "0" * 14: "state"})
    shown = t.assign(role=role, value=report._text(t["pct_met_and_above"], hidden, "{:.2f}"))
    wide = _pivot(shown, ["test_id", "year"], "value").reindex(columns=["lea", "county", "state"])
    wide = wide.astype(object).fillna("–")
    wide.columns.name = None
    lea = shown[shown["role"] == "lea"].set_index(["test_id", "year"])
    no = pd.Series(False, index=lea.index)
    own = pd.DataFrame({
        "participation": report._text(lea["participation"], no, "{:.2f}"),
        "grades_with_scores": lea["grades_with_scores"].fillna(""),
        "change_from_prior_year": report._text(lea["change_from_prior_year"],
                                               lea["suppressed"].fillna(False).astype(bool), "{:+.2f}"),
        "change_flag": lea["change_flag"].fillna(""),
        "like_for_like_change": report._text(lea["like_for_like_change"], no, "{:+.2f}"),
    }, index=lea.index).reindex(wide.index)
    missing = {"participation": "–", "change_from_prior_year": "–", "like_for_like_change": "–"}
    wide = wide.join(own.fillna(missing).fillna(""))
    wide["note"] = shown.groupby(["test_id", "year"])["note"].first().reindex(wide.index).fillna("")
    wide = wide.reset_index()
    wide.insert(0, "test", wide.pop("test_id").map(report.params.test_label))
    return wide[report.TREND_COLS]


def _pivot_by_group(piece) -> pd.DataFrame:
    g = piece.groups
    role = g["cds"].map({piece.cds: "lea", piece.cds[:2] + "0" * 12: "county", "0" * 14: "state"})
    shown = pd.concat([g[["test_id", "student_group_id"]].assign(role=role),
                       report.publish(g, ("pct_met_and_above",))[["with_scores", "pct_met_and_above"]]], axis=1)
    wide = _pivot(shown, ["test_id", "student_group_id"], ["with_scores", "pct_met_and_above"])
    out = pd.DataFrame(index=wide.index)
    out["with_scores"] = wide[("with_scores", "lea")]
    out["pct_met_and_above"] = wide[("pct_met_and_above", "lea")]
    for other in ("county", "state"):
        found = other in wide.columns.get_level_values(1)
        out[f"{other}_pct_met_and_above"] = wide[("pct_met_and_above", other)] if found else "–"
    out = out.fillna("–").reset_index()
    out.insert(0, "test", out.pop("test_id").map(report.params.test_label))
    out.insert(1, "student_group", out.pop("student_group_id").map(report.params.group_name))
    return out


def _pivot_dfs_trend(piece) -> pd.DataFrame:
    t = report.dfs_rows(piece.trend)
    hidden = t["suppressed"].fillna(False).astype(bool)
    role = t["cds"].map({piece.cds: "dfs", piece.cds[:2] + "0" * 12: "county_dfs", "0" * 14: "state_dfs"})
    shown = t.assign(role=role, value=report._text(t["dfs"], hidden, "{:+.1f}"),
                     change=report._text(t["dfs_change_from_prior_year"], hidden, "{:+.1f}"))
    wide = _pivot(shown, ["test_id", "year"], "value")
    wide = wide.reindex(columns=["dfs", "county_dfs", "state_dfs"]).astype(object).fillna("–")
    wide.columns.name = None
    lea = shown[shown["role"] == "dfs"].set_index(["test_id", "year"])
    wide["dfs_change_from_prior_year"] = lea["change"].reindex(wide.index).fillna("–")
    flags = _pivot_trend(piece).set_index(["test", "year"])[list(report.FLAG_COLS)]
    labels = pd.MultiIndex.from_arrays([wide.index.get_level_values("test_id").map(report.params.test_label),
                                        wide.index.get_level_values("year")])
    for col in flags:
        wide[col] = flags[col].reindex(labels).fillna("").to_numpy()
    wide["note"] = shown.groupby(["test_id", "year"])["note"].first().reindex(wide.index).fillna("")
    wide = wide.reset_index()
    wide.insert(0, "test", wide.pop("test_id").map(report.params.test_label))
    return wide


def _pandas_dfs_table(out: pd.DataFrame, rows: pd.DataFrame, others: dict, keys: list[str]) -> pd.DataFrame:
    """page_tables' DFS tables as they were made with pandas (filtered frames, a column at a time)."""
    out["with_scores"] = report.publish(rows, ())["with_scores"]
    out["dfs"] = report.dfs_cells(rows)
    for role, other in others.items():
        lookup = dict(zip(zip(*[other[k] for k in keys]), report.dfs_cells(other)))
        out[f"{role}_dfs"] = [lookup.get(k, "–") for k in zip(*[rows[k] for k in keys])]
    needed = ["grade", "suppressed", "dfs", "dfs_grades_left_out", "dfs_students_left_out"]
    out["dfs_left_out"] = [report.left_out_text(r) for r in rows[needed].to_dict("records")]
    return out.reset_index(drop=True)


def _pandas_dfs_by_grade(piece) -> pd.DataFrame:
    rows = report.dfs_rows(piece.part("lea"))
    rows = rows.assign(_o=rows["grade"].where(rows["grade"] != 13, 0)).sort_values(["test_id", "_o"])
    out = pd.DataFrame({"test": rows["test_id"].map(report.params.test_label),
                        "grade": rows["grade"].map(report.params.grade_label)})
    return _pandas_dfs_table(out, rows, {r: report.dfs_rows(piece.part(r)) for r in ("county", "state")},
                             ["test_id", "grade"])


def _pandas_dfs_by_group(piece) -> pd.DataFrame:
    g = report.dfs_rows(piece.groups)
    lea = g[g["cds"] == piece.cds].sort_values(["test_id", "student_group_id"])
    others = {"county": g[g["cds"] == piece.cds[:2] + "0" * 12], "state": g[g["cds"] == "0" * 14]}
    out = pd.DataFrame({"test": lea["test_id"].map(report.params.test_label),
                        "student_group": lea["student_group_id"].map(report.params.group_name)})
    return _pandas_dfs_table(out, lea, others, ["test_id", "student_group_id"])


def _shapes(piece):
    """The sample LEA's slice, and slices of the shapes real files have: no LEA, county or state rows; all
    suppressed; notes, grades and flags missing; a group the LEA lacks; rows in another order; counts hidden; a
    grade with no DFS; a county's row twice (the first counts, and the last beside a DFS, as before)."""
    import dataclasses

    county, state = piece.cds[:2] + "0" * 12, "0" * 14
    t, g, rows = piece.trend, piece.groups, piece.rows
    yield "as is", piece
    yield "no LEA trend", dataclasses.replace(piece, trend=t[t["cds"] != piece.cds])
    yield "LEA trend only", dataclasses.replace(piece, trend=t[t["cds"] == piece.cds])
    yield "all suppressed", dataclasses.replace(piece, trend=t.assign(suppressed=True),
                                                groups=g.assign(suppressed=True))
    yield "no notes", dataclasses.replace(piece, trend=t.assign(note=None, grades_with_scores=None, change_flag=None))
    yield "no county, no state", dataclasses.replace(piece, groups=g[~g["cds"].isin([county, state])])
    yield "no state", dataclasses.replace(piece, groups=g[g["cds"] != state],
                                          trend=t[(t["cds"] != state) | (t["year"] != t["year"].max())])
    yield "a test's group the LEA lacks", dataclasses.replace(piece,
                                                              groups=g[(g["cds"] != piece.cds) | (g["test_id"] != 2)])
    yield "rows in another order", dataclasses.replace(piece, trend=t.iloc[::-1], groups=g.iloc[::-1],
                                                       rows=rows.iloc[::-1])
    own = rows["cds"] == piece.cds
    hidden = rows.assign(counts_hidden=rows["counts_hidden"].where(~own, "tested|with_scores"))
    no_dfs = rows[own & (rows["grade"] == 11)].assign(grade=10)
    yield "counts hidden, a grade with no DFS", dataclasses.replace(
        piece, rows=pd.concat([hidden, no_dfs]), groups=g.assign(counts_hidden="with_scores"))
    again = {"pct_met_and_above": 1.0, "dfs": -99.0, "note": "again"}
    yield "county twice", dataclasses.replace(piece, trend=pd.concat([t, t[t["cds"] == county].assign(**again)]),
                                              groups=pd.concat([g, g[g["cds"] == county].assign(**again)]),
                                              rows=pd.concat([rows, rows[rows["cds"] == county].assign(dfs=-99.0)]))


def test_trend_group_and_dfs_tables_are_the_pandas_tables_they_replace(dncusd):
    """page_tables.trend, by_group and the DFS tables make their rows in plain dicts and lists (a sixth of the
    time): the same cells as the pandas pivots and filters they replace, for the sample and for edge shapes, so
    the same HTML and CSV."""
    assert dncusd.trend["note"].ne("").any() and dncusd.trend["suppressed"].isna().any()  # the sample has both
    for name, piece in _shapes(dncusd):
        for table, pivot in (("trend", _pivot_trend), ("by_group", _pivot_by_group), ("dfs_trend", _pivot_dfs_trend),
                             ("dfs_by_grade", _pandas_dfs_by_grade), ("dfs_by_group", _pandas_dfs_by_group)):
            got, expected = getattr(report, table)(piece), pivot(piece)
            assert len(got) > 0 and list(got.columns) == list(expected.columns), (name, table)
            pd.testing.assert_frame_equal(got.astype(object), expected.astype(object), obj=f"{table} ({name})")
            assert report.csv_text(got) == report.csv_text(expected), (name, table)


def test_two_lea_rows_of_one_year_are_an_error_not_a_pick(dncusd):
    import dataclasses

    t = dncusd.trend
    twice = dataclasses.replace(dncusd, trend=pd.concat([t, t[t["cds"] == DNCUSD].head(1)], ignore_index=True))
    first = t[t["cds"] == DNCUSD].iloc[0]
    with pytest.raises(ValueError, match=rf"two rows for \({first['test_id']}, {first['year']}\)"):
        report.trend(twice)


def test_text_tables_are_written_as_pandas_to_html_writes_them(dncusd):
    """page_tables writes a table of text and integer cells itself (a tenth of to_html's time): the same bytes
    as the compacted to_html of its text as shown, for the sample's tables and for hostile text; anything else
    goes to to_html."""
    import numpy as np

    from helpers.core.text import plain
    from helpers.report import outputs

    def by_pandas(frame: pd.DataFrame) -> str:
        shown = frame.map(lambda v: plain(v) if isinstance(v, str) else v)
        shown.columns = [plain(c) for c in frame.columns]
        compact = report._LAYOUT.sub(" ", shown.to_html(index=False, border=0, classes="caaspp-table", escape=True))
        return compact.replace(" <tr>", "\n<tr>")

    page = report.tables(dncusd) | report.dfs_tables(dncusd)
    frames = [report.display(t) for t in page.values()] + [outputs.levels_data(dncusd), outputs.trend_data(dncusd)]
    frames.append(pd.DataFrame({" <b>A</b> & B\x0b": ["  x  ", "<script>&amp;", "", "ñ … \u00a0 z\u2003", "\"'\x1b"],
                                "Year": [2023, -1, 0, 10**12, 7]}))
    frames += [frames[-1].iloc[:0], pd.DataFrame({"n": np.array([1, -20], dtype="int64")})]
    for frame in frames:
        assert report._text_cells(frame) is not None
        assert report.table_html(frame) == by_pandas(frame)
    hostile = report.table_html(frames[-3])
    assert "\x0b" not in hostile and "&lt;script&gt;&amp;amp;" in hostile
    for other in ([1.5, 2.0], ["a", np.nan], [True, False], ["a", None]):
        assert report._text_cells(pd.DataFrame({"x": other})) is None, other
        assert report.table_html(pd.DataFrame({"x": other})) == by_pandas(pd.DataFrame({"x": other}))
    assert report.table_html(pd.DataFrame(index=[0])) == by_pandas(pd.DataFrame(index=[0]))


def test_a_tables_csv_is_written_as_pandas_writes_its_keyed_formula_safe_frame(dncusd):
    """`csv_text` writes a page's CSV itself: the bytes of `csv_frame(with_keys(t)).to_csv(...)` for the sample's
    tables and chart tables and for hostile text (formulas, quotes, commas, line breaks, missing values, keys that
    start a formula); a table with other cells or keys takes that path."""
    import numpy as np

    from helpers.core.text import csv_frame
    from helpers.report import outputs

    def by_pandas(table: pd.DataFrame) -> str:
        return csv_frame(report.with_keys(table)).to_csv(index=False, lineterminator="\n")

    page = report.tables(dncusd) | report.dfs_tables(dncusd) | outputs.chart_tables(dncusd)
    hostile = pd.DataFrame({"test": ["=1+2", "+4", "-5.5", "@x", "a,b", 'say "hi"', "two\nlines", "\r", "", None],
                            "year": list(range(2015, 2025)), "n": ["-3", "+7%", "1e5", "\tx", "ok", "*", "–", " =x",
                                                                   "'", np.nan]})
    hostile = report.keyed(hostile, dncusd, cds=["=cmd|x"] + ["0" * 14] * 9, entity_name="@SUM(A1)")
    tables = [t for t in page.values() if not t.empty] + [hostile, report.keyed(hostile.drop(columns="year"), dncusd)]
    for table in tables:
        assert report._csv_cells(table) is not None
        assert report.csv_text(table) == by_pandas(table)
    assert "'=cmd|x" in report.csv_text(hostile) and "'@SUM(A1)" in report.csv_text(hostile)
    for other in ({"x": [1.5]}, {"x": [True]}, {"x": pd.Series([np.int64(3)], dtype=object)}, {0: ["a"]},
                  {"x": pd.array([1, None], dtype="Int64")}):
        table = report.keyed(pd.DataFrame(other), dncusd)
        assert report._csv_cells(table) is None and report.csv_text(table) == by_pandas(table), other
    uneven = report.keyed(pd.DataFrame({"x": ["a", "b"]}), dncusd, cds=["1"])
    assert report._csv_cells(uneven) is None and report.csv_text(uneven) == by_pandas(uneven)  # pandas' rule


def test_a_pages_table_is_written_in_one_pass_as_relabelled_then_written(dncusd):
    """`html_table` writes a page's table in one pass over its cells: the bytes of `table_html(display(t))`
    (labels, thousands separators in counts, literal text) for the sample's tables and hostile text; a table
    with other cells takes that path, which raises where it raises."""
    import numpy as np

    page = report.tables(dncusd) | report.dfs_tables(dncusd)
    hostile = pd.DataFrame({"test": ["  x\x00y  ", "<script>&amp;", "", "ñ … \u00a0 z\u2003", "\"'\u2028"],
                            "enrolled": ["1234567", "*", "–", "12", "0"], "tested": ["5", "10000", "*", "", "1,2"],
                            "year": [2023, -1, 0, 10**12, 7], " <b>A</b>\t& B ": ["a", "b", "c", "d", "e"]})
    for table in [*page.values(), hostile, hostile.iloc[:0]]:
        assert report._displayed_html(table) == report.table_html(report.display(table))
        assert report.html_table(table).data == report.table_html(report.display(table))
    assert report._displayed_html(page["summary"]).count("\n<tr> ") == len(page["summary"])  # a row per line
    assert "1,234,567" in report._displayed_html(hostile) and "10,000" in report._displayed_html(hostile)
    for other in ({"x": [1.5, 2.0]}, {"x": ["a", np.nan]}, {"x": ["a", None]}, {"enrolled": [12]}, {0: ["a"]}):
        assert report._displayed_html(pd.DataFrame(other)) is None, other
    with pytest.raises(AttributeError):  # an integer count: display() calls str.isdigit on it
        report.html_table(pd.DataFrame({"enrolled": [12]}))
