"""LEA page tables: real values from the sample, suppression as published."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import report
from helpers import store as stores

from .conftest import DNCUSD


@pytest.fixture(scope="module")
def dncusd(sample_store):
    return stores.lea_slice(sample_store, DNCUSD, 2022)


def test_slice_has_lea_county_state_and_schools(dncusd):
    roles = dncusd.rows.groupby("role")["cds"].nunique().to_dict()
    # 11 schools and the Uncharted Shores charter carry district code 61820 in the 2022 entities file
    assert roles == {"lea": 1, "county": 1, "state": 1, "school": 12}
    assert dncusd.name == "Del Norte County Unified" and dncusd.county_name == "Del Norte"


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
    base = dict(year=2022, counts_suppressed=False, suppressed_fields="", enrolled=20, tested=20,
                with_scores=20, mean_scale_score=2400.0, pct_level_1=25.0, pct_level_2=25.0, pct_level_3=25.0,
                pct_level_4=25.0, pct_met_and_above=50.0)
    base.update(cols)
    frame = pd.DataFrame([base])
    for c in ("enrolled", "tested", "with_scores"):
        frame[c] = frame[c].astype("Int64")
    return frame


@pytest.mark.parametrize("n, shown", [(11, "50.00"), (10, "*"), (0, "–")])
def test_results_for_fewer_than_11_are_hidden_even_if_the_file_showed_them(n, shown):
    extra = {} if n else {"pct_met_and_above": float("nan")}
    out = report.publish(_rows(with_scores=n, **extra), ("pct_met_and_above",))
    assert out["pct_met_and_above"].iloc[0] == shown


@pytest.mark.parametrize("year, n, shown", [(2022, 3, "*"), (2022, 4, "4"), (2022, 0, "0"), (2018, 10, "*"),
                                            (2018, 11, "11")])
def test_counts_follow_the_years_rule(year, n, shown):
    out = report.publish(_rows(year=year, tested=n), ())
    assert out["tested"].iloc[0] == shown


def test_a_star_in_the_file_is_a_star_on_the_page():
    rows = _rows(tested=pd.NA, with_scores=pd.NA, pct_met_and_above=float("nan"), counts_suppressed=True,
                 suppressed_fields="tested|with_scores|pct_met_and_above")
    out = report.publish(rows, ("pct_met_and_above", "pct_level_4"))
    assert out.loc[0, ["tested", "with_scores", "pct_met_and_above", "pct_level_4"]].tolist() == ["*"] * 4


def test_names_are_escaped_in_markdown_and_html():
    assert report.md_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    table = pd.DataFrame({"school": ["<b>x</b>"], "tested": ["12"]})
    assert "&lt;b&gt;x&lt;/b&gt;" in report.html_table(table).data


def test_csvs_have_plain_numbers_and_stars(dncusd, tmp_path):
    paths = report.write_csvs(report.tables(dncusd), tmp_path, "lea")
    assert sorted(p.name for p in paths) == ["lea.by_grade.csv", "lea.schools.csv", "lea.summary.csv"]
    text = (tmp_path / "lea.summary.csv").read_text()
    assert "ELA,Del Norte County Unified,1829,1750,1748,8.70,19.16,27.86,25.40,46.74" in text
