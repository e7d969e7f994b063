"""Honest trends (issue 13): participation, grades with scores, the flag on a change that is not like for
like and the change on the grades tested in both years — real Del Norte County Unified 2020–21 rows."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.ingest import store as stores
from helpers.report import charts, outputs
from helpers.report import page_tables as report
from helpers.stats import tables

from .conftest import DNCUSD


@pytest.fixture(scope="module")
def trends(sample_tables) -> pd.DataFrame:
    return pd.read_parquet(sample_tables / "trends.parquet")


@pytest.fixture(scope="module")
def levels(sample_tables) -> pd.DataFrame:
    return pd.read_parquet(sample_tables / "levels.parquet")


@pytest.fixture(scope="module")
def dncusd(sample_tables):
    return stores.lea_slice(sample_tables, DNCUSD, 2022)


def _row(frame: pd.DataFrame, cds: str, test_id: int, grade: int, year: int) -> pd.Series:
    pick = frame[(frame["cds"] == cds) & (frame["test_id"] == test_id) & (frame["grade"] == grade)
                 & (frame["year"] == year) & (frame["student_group_id"] == 1)]
    assert len(pick) == 1
    return pick.iloc[0]


def _weighted(levels: pd.DataFrame, test_id: int, year: int, grades: list[int]) -> float:
    rows = levels[(levels["cds"] == DNCUSD) & (levels["test_id"] == test_id) & (levels["year"] == year)
                  & (levels["student_group_id"] == 1) & levels["grade"].isin(grades) & (levels["source"] == "published")]
    assert sorted(rows["grade"]) == grades
    n = rows["with_scores"].astype(float)
    return float((rows["pct_met_and_above"].astype(float) * n).sum() / n.sum())


def test_dncusd_2021_tested_grade_11_only_and_the_2022_change_is_flagged(trends, levels):
    y21, y22 = _row(trends, DNCUSD, 1, 13, 2021), _row(trends, DNCUSD, 1, 13, 2022)
    # 2020–21: 163 of 1,856 enrolled tested, grade 11 only (40.25); 2021–22: grades 3–8 and 11 (27.86)
    assert (y21["tested"], y21["enrolled"], y21["pct_met_and_above"]) == (163, 1856, 40.25)
    assert y21["participation"] == round(100 * 163 / 1856, 2) == 8.78
    assert (y21["grades_with_scores"], y22["grades_with_scores"]) == ("11", "3–8, 11")
    assert y22["participation"] == round(100 * 1750 / 1829, 2) == 95.68
    assert y22["change_from_prior_year"] == -12.39
    assert y22["change_flag"] == ("different grades with scores (2021: 11 → 2022: 3–8, 11); "
                                  "participation under 95% (2021: 8.78%)")
    # like for like: grade 11 in both years, recomputed here from the grade rows
    expect = round(_weighted(levels, 1, 2022, [11]) - _weighted(levels, 1, 2021, [11]), 2)
    assert y22["like_for_like_grades"] == "11" and y22["like_for_like_change"] == expect == round(35.45 - 40.25, 2)
    math = _row(trends, DNCUSD, 2, 13, 2022)
    assert math["like_for_like_change"] == round(_weighted(levels, 2, 2022, [11]) - _weighted(levels, 2, 2021, [11]), 2)
    assert math["like_for_like_change"] == -2.35 and math["change_from_prior_year"] == 0.92


def test_a_like_for_like_change_is_not_flagged(trends):
    y18 = _row(trends, DNCUSD, 1, 13, 2018)  # 2017 and 2018: grades 3–8 and 11, 95.35% and 96.81% tested
    assert (y18["participation"], y18["grades_with_scores"], y18["change_from_prior_year"]) == (96.81, "3–8, 11", 1.39)
    assert y18["change_flag"] == "" and pd.isna(y18["like_for_like_change"])


def test_low_participation_alone_is_flagged_without_a_like_for_like_change(trends):
    state = _row(trends, "0" * 14, 1, 13, 2022)  # statewide 2020–21: every grade, 23.73% tested
    assert state["change_flag"] == "participation under 95% (2021: 23.73%)"
    assert state["like_for_like_grades"] == "" and pd.isna(state["like_for_like_change"])
    coe = _row(trends, "08100820000000", 1, 13, 2018)  # a county office: 79.20% then 90.96%
    assert coe["change_flag"] == "participation under 95% (2017: 79.20%, 2018: 90.96%)"


def test_grades_text_writes_runs():
    mask = sum(1 << g for g in (3, 4, 5, 6, 7, 8, 11))
    assert tables.grades_text(mask) == "3–8, 11"
    assert tables.grades_text((1 << 5) | (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12)) == "5, 8, 10–12"
    assert tables.grades_text((1 << 11) | (1 << 12)) == "11, 12" and tables.grades_text(0) == "none"


def test_page_trend_table_shows_participation_grades_flag_and_like_for_like(dncusd):
    ela = report.trend(dncusd).query("test == 'ELA'").set_index("year")
    assert ela.loc[2021, ["lea", "participation", "grades_with_scores"]].tolist() == ["40.25", "8.78", "11"]
    row = ela.loc[2022]
    assert (row["lea"], row["change_from_prior_year"], row["like_for_like_change"]) == ("27.86", "-12.39", "-4.80")
    assert row["change_flag"].startswith("different grades with scores (2021: 11 → 2022: 3–8, 11)")
    assert ela.loc[2018, "change_flag"] == "" and ela.loc[2018, "like_for_like_change"] == report.NO_DATA


def test_trend_chart_breaks_the_line_and_hollows_low_participation(dncusd):
    fig = charts.trend(dncusd)
    ela = fig.axes[0]
    lea_colour = charts.TREND_STYLE["lea"][0]
    segments = [tuple(line.get_xdata()) for line in ela.get_lines()
                if line.get_color() == lea_colour and len(line.get_xdata()) == 2 and line.get_linestyle() == "-"]
    assert (2017, 2018) in segments and (2021, 2022) not in segments
    hollow = [line for line in ela.get_lines() if line.get_markerfacecolor() == "white"
              and line.get_markeredgecolor() == lea_colour]
    assert [list(h.get_xdata()) for h in hollow] == [[2021]]  # 8.78% tested; 2017 and 2018 were over 95%
    data = outputs.trend_data(dncusd).set_index(["Test", "Entity", "Year"])
    assert data.loc[("ELA", "Del Norte County Unified", 2021), "Participation (%)"] == "8.78"
    alt = outputs.trend_alt(dncusd)
    assert "participation under 95%" in alt
    assert alt.endswith(
        "Del Norte County Unified: ELA: 2017 33.46, 2018 34.85, 2021 40.25, 2022 27.86; Mathematics: 2017 24.17, "
        "2018 24.74, 2021 15.65, 2022 16.57; Science (CAST): 2021 24.37. Not like for like: ELA 2021 to 2022: "
        "different grades with scores (2021: 11 → 2022: 3–8, 11); participation under 95% (2021: 8.78%); "
        "Mathematics 2021 to 2022: different grades with scores (2021: 11 → 2022: 3–8, 11); participation under "
        "95% (2021: 7.97%).")


def test_matched_grade_with_no_comparable_row_is_a_sentence(dncusd):
    assert report.matched_grade(dncusd).empty  # 2021: only grade 11 (ELA, math) had scores; no grade 10
    assert "no matched-grade change" in report.matched_grade_none(dncusd)


def test_trends_columns_are_documented(trends):
    from helpers.stats import columns

    assert columns.undocumented("trends", trends.columns) == []


def test_the_dfs_trend_carries_the_same_flags(dncusd):
    """The DFS change 2021 → 2022 (−42.9 on grade 11 alone at 8.78% participation, −59.2 on grades 3–8 and
    11) is flagged as the % Met and Above change is."""
    dfs = report.dfs_trend(dncusd).set_index(["test", "year"])
    met = report.trend(dncusd).set_index(["test", "year"])
    row = dfs.loc[("ELA", 2022)]
    assert (row["dfs"], row["dfs_change_from_prior_year"]) == ("-59.2", "-16.3")
    assert row["change_flag"] == met.loc[("ELA", 2022), "change_flag"] != ""
    assert "different grades with scores (2021: 11 → 2022: 3–8, 11)" in row["change_flag"]
    assert dfs.loc[("ELA", 2021), "participation"] == "8.78" and dfs.loc[("ELA", 2021), "grades_with_scores"] == "11"
    assert dfs.loc[("ELA", 2018), "change_flag"] == met.loc[("ELA", 2018), "change_flag"]


def test_the_dfs_trend_takes_its_flags_from_the_pages_trend_table(dncusd):
    """The notebook hands the page's trend table to the DFS tables (made once per page): the same table as made
    afresh, and its flags are the ones shown."""
    page_trend = report.tables(dncusd)["trend"]
    assert report.dfs_tables(dncusd, page_trend)["dfs_trend"].equals(report.dfs_trend(dncusd))
    marked = page_trend.assign(change_flag=page_trend["change_flag"] + " (given)")
    assert report.dfs_trend(dncusd, marked)["change_flag"].str.endswith(" (given)").all()
