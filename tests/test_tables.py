"""The tables stage: the contract, reconciliation, trends, impact and computed levels."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers.cli import app
from helpers.core import cuts
from helpers.ingest import store as stores
from helpers.stats import columns, contract, tables
from helpers.synth.students import students_for_lea

from .conftest import DNCUSD

CONTRACT = ["year", "cds", "type_id", "entity_name", "test_id", "grade", "student_group_id", "enrolled", "tested",
            "with_scores", "mean_scale_score", "pct_level_1", "pct_level_2", "pct_level_3", "pct_level_4",
            "pct_level_5", "pct_met_and_above", "suppressed", "source"]


@pytest.fixture(scope="module")
def computed(sample_tables):
    return {name: pd.read_parquet(sample_tables / f"{name}.parquet") for name in contract.TABLES}


@pytest.fixture(scope="module")
def results(sample_store):
    return pd.read_parquet(sample_store / "results.parquet")


def test_tables_command_writes_the_contract_for_one_lea(sample_store, tmp_path):
    out = tmp_path / "t"
    result = CliRunner().invoke(app, ["tables", "--lea", DNCUSD, "--year", "2022", "--out", str(out),
                                      "--store", str(sample_store)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.csv")) == ["impact.csv", "levels.csv", "reconciliation.csv",
                                                          "trends.csv"]
    levels = pd.read_csv(out / "levels.csv", dtype={"cds": str, "lea_cds": str})
    assert list(levels.columns[:len(CONTRACT)]) == CONTRACT == tables.CONTRACT_COLUMNS
    assert set(levels["year"]) == {2022} and set(levels["lea_cds"]) == {DNCUSD}
    row = levels[(levels["cds"] == DNCUSD) & (levels["grade"] == 13) & (levels["test_id"] == 1)].iloc[0]
    assert (row["pct_met_and_above"], row["pct_at_or_above_level_3"], row["source"]) == (27.86, 27.86, "published")
    assert levels["pct_level_5"].isna().all()  # SB has four levels
    assert f"levels {len(levels):,} rows" in " ".join(result.output.split())  # the rows written, not computed
    assert levels["pct_at_or_above_level_5"].isna().all() and levels["pct_at_or_above_level_4"].notna().any()


def test_every_published_column_is_documented(computed):
    for name, frame in computed.items():
        assert columns.undocumented(name, frame.columns) == [], name


def test_nothing_below_the_threshold_is_published(computed):
    lv = computed["levels"]
    small = lv[(lv["with_scores"] > 0) & (lv["with_scores"] < 11)]
    assert small.empty or small["suppressed"].all()
    shown = lv[~lv["suppressed"]]
    assert not ((shown["with_scores"] > 0) & (shown["with_scores"] < 11)).any()
    assert lv.loc[lv["suppressed"], "pct_met_and_above"].isna().all()
    # by default the published rows hide what the research files hid and nothing more (no complementary cells)
    assert lv["suppression"].value_counts().to_dict() == {"": 776, "file": 130}
    assert set(lv["suppression_policy"]) == {"published"}


def test_reconciliation_is_within_rounding_on_the_real_files(computed):
    rec = computed["reconciliation"]
    assert rec["status"].value_counts().to_dict() == {
        "ok": 103, "incomplete: suppressed grade rows": 50, "no students with scores": 29}
    assert rec.loc[rec["status"] == "ok", "max_abs_diff"].max() <= 0.01
    row = rec[(rec["cds"] == DNCUSD) & (rec["year"] == 2022) & (rec["test_id"] == 1)].iloc[0]
    assert row["with_scores_grades"] == 1748 and abs(row["pct_met_and_above_recomputed"] - 27.86) <= 0.01


def test_reconciliation_flags_a_row_that_does_not_add_up(results):
    bad = results.copy()
    i = bad.index[(bad["cds"] == DNCUSD) & (bad["year"] == 2022) & (bad["test_id"] == 1) & (bad["grade"] == 13)]
    bad.loc[i, "pct_met_and_above"] = 28.86
    rec = tables.reconcile(bad)
    row = rec[(rec["cds"] == DNCUSD) & (rec["year"] == 2022) & (rec["test_id"] == 1)].iloc[0]
    assert row["status"] == "check: exceeds rounding" and round(row["pct_met_and_above_diff"], 2) == -1.0


def test_whole_number_years_reconcile_within_a_point(results):
    """Before 2016–17 percentages are whole numbers: rounding alone can move a recomputed total by up to
    a point, which must not be flagged then, and must be flagged in a two-decimal year."""
    rows = results[(results["cds"] == DNCUSD) & (results["year"] == 2022) & (results["test_id"] == 1)].copy()
    pct = [f"pct_level_{k}" for k in range(1, 5)] + ["pct_met_and_above"]
    rows[pct] = rows[pct].astype(float).round(0)
    status = {}
    for year in (2016, 2022):
        rec = tables.reconcile(rows.assign(year=year))
        status[year] = rec.loc[rec["grade"] == 13, ["status", "max_abs_diff"]].iloc[0].tolist()
    assert status[2016][0] == "ok" and 0.01 < status[2016][1] <= 1
    assert status[2022] == ["check: exceeds rounding", status[2016][1]]


def test_trends_show_the_gap_and_the_matched_grade_view(computed):
    tr = computed["trends"]
    ela = tr[(tr["cds"] == DNCUSD) & (tr["test_id"] == 1) & (tr["student_group_id"] == 1)]
    g = ela.set_index(["grade", "year"])
    assert g.loc[(13, 2020), "note"].startswith("no testing") and pd.isna(g.loc[(13, 2020), "pct_met_and_above"])
    assert pd.isna(g.loc[(13, 2021), "change_from_prior_year"])  # never across the gap
    # grade 4 in 2018 against grade 3 in 2017 (not the same students)
    expect = round(g.loc[(4, 2018), "pct_met_and_above"] - g.loc[(3, 2017), "pct_met_and_above"], 2)
    assert g.loc[(4, 2018), "matched_grade_change"] == expect


def test_capa_impact_panel_vs_sspi(computed):
    im = computed["impact"]
    capa = im[im["assessment"] == "capa"]
    assert set(capa["status"]) == {"illustrative"}
    assert (capa.loc[capa["level_code"] == 1, ["pct_at_and_above_a", "pct_at_and_above_b"]] == 100).all().all()
    for _, part in capa.groupby(["subject", "grade"]):
        assert part["pct_at_and_above_a"].is_monotonic_decreasing or part["pct_at_and_above_a"].diff().max() <= 0
    assert np.allclose(capa["diff_pct_at_and_above"], (capa["pct_at_and_above_b"] - capa["pct_at_and_above_a"]).round(1))
    assert set(capa["grade"]) == {"I", "II", "III", "IV", "V"}


def test_the_sb_example_is_in_a_year_the_alternative_cuts_cover(results):
    """The sample's latest SB year (2022) is the example's; the shipped alternative cuts start in 2021, so
    a store of 2017–2018 files only has no SB example (CAPA only, said on the impact page)."""
    covered = contract.alternative_years()
    assert [covered(y) for y in (2018, 2019, 2021, 2024)] == [False, False, True, True]
    assert contract.example_lea(results, covered) == (DNCUSD, 2022)
    assert contract.example_lea(results[results["year"] <= 2018]) == (DNCUSD, 2018)
    assert contract.example_lea(results[results["year"] <= 2018], covered) is None


def test_sb_impact_official_side_is_the_published_result(computed, results):
    im = computed["impact"]
    sb = im[(im["assessment"] == "smarter_balanced") & (im["test_id"] == "1") & (im["grade"] == "5")]
    met = sb[sb["level_name"] == "Standard Met"].iloc[0]
    pub = results[(results["cds"] == DNCUSD) & (results["year"] == 2022) & (results["test_id"] == 1)
                  & (results["grade"] == 5)].iloc[0]
    assert met["pct_at_and_above_a"] == round(float(pub["pct_met_and_above"]), 1)
    assert met["cut_a"] == 2502 and met["cut_b"] == 2487


def test_computed_levels_round_trip_to_the_published_percentages(sample_store, results):
    students = students_for_lea(sample_store, DNCUSD, 2022, seed=3)
    lv = tables.computed_levels(students)
    own = lv[(lv["cds"] == DNCUSD) & (lv["student_group_id"] == 1)].set_index(["test_id", "grade"])
    pub = results[(results["cds"] == DNCUSD) & (results["year"] == 2022)].set_index(["test_id", "grade"])
    for key in [(1, 3), (1, 8), (2, 11), (2, 6)]:
        for col in ("with_scores", "tested", "enrolled", "pct_level_1", "pct_level_4", "pct_met_and_above"):
            assert float(own.loc[key, col]) == pytest.approx(float(pub.loc[key, col]), abs=1e-9), (key, col)
        assert abs(own.loc[key, "mean_scale_score"] - pub.loc[key, "mean_scale_score"]) <= 0.051
    # All Grades is weighted by students with scores: within rounding of the published grade-13 row
    for test in (1, 2):
        assert own.loc[(test, 13), "with_scores"] == pub.loc[(test, 13), "with_scores"]
        assert abs(own.loc[(test, 13), "pct_met_and_above"] - pub.loc[(test, 13), "pct_met_and_above"]) <= 0.01
        assert pd.isna(own.loc[(test, 13), "mean_scale_score"])
    schools = lv[(lv["type_id"] == 7) & (lv["student_group_id"] == 1) & (lv["test_id"] == 1) & (lv["grade"] == 3)]
    assert schools["with_scores"].sum() == own.loc[(1, 3), "with_scores"]


def test_an_lea_whose_rows_disagree_on_its_name_is_one_lea_named_as_on_its_page(sample_tables, tmp_path):
    """A corrected name on some rows (here the LEA's All Grades ELA row and its county's) once made two plan
    rows of one LEA, the run's two jobs of one code finishing in either order."""
    tables = tmp_path / "tables"
    shutil.copytree(sample_tables, tables)
    levels = tables / "levels.parquet"
    county = DNCUSD[:2] + "0" * 12
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN cds IN ('{DNCUSD}', '{county}') AND grade = 13 "
                    f"AND test_id = 1 THEN 'Z ' || entity_name ELSE entity_name END AS entity_name) "
                    f"FROM read_parquet('{levels}')) TO '{tmp_path / 'levels.parquet'}' (FORMAT parquet)")
    shutil.move(tmp_path / "levels.parquet", levels)
    table = stores.leas(tables, 2022)
    assert table["cds"].is_unique and len(table) == 4
    row = table.set_index("cds").loc[DNCUSD]
    page = stores.lea_slice(tables, DNCUSD, 2022)
    assert (row["name"], row["county_name"]) == (page.name, page.county_name) == \
        ("Del Norte County Unified", "Del Norte County")


@st.composite
def student_sets(draw):
    n = draw(st.integers(1, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    grades = rng.choice([3, 4, 5, 8, 11], n)
    table = cuts.find(cuts.load_all(), 1, 2022)
    lo = np.array([table.for_grade(g).loss for g in grades])
    hi = np.array([table.for_grade(g).hoss for g in grades])
    scored = rng.random(n) < 0.9
    score = np.where(scored, np.round(lo + rng.random(n) * (hi - lo)), np.nan)
    return pd.DataFrame({"year": 2022, "cds": "01611190130229", "lea_cds": "01611190000000", "county_code": "01",
                         "test_id": 1, "grade": grades, "scale_score": score,
                         "include_indicator": np.where(scored, "Y", "N"), "sex": rng.choice(["M", "F"], n)})


@settings(max_examples=40, deadline=None)
@given(student_sets())
def test_computed_percentages_sum_to_100_and_at_or_above_is_monotone(students):
    lv = tables.computed_levels(students, groups=[1, 3, 4])
    scored = lv[lv["with_scores"] > 0]
    total = scored[[f"pct_level_{k}" for k in range(1, 5)]].sum(axis=1)
    assert ((total - 100).abs() <= 0.02 + 1e-9).all()  # four values rounded to 0.01 (13/32 → 40.62 ×2, …: 99.98)
    steps = scored[["pct_at_or_above_level_2", "pct_at_or_above_level_3", "pct_at_or_above_level_4"]]
    assert (steps.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all()
    assert (scored["pct_at_or_above_level_3"] == scored["pct_met_and_above"]).all()
    by = lv.set_index(["cds", "student_group_id", "grade"])["with_scores"]
    for (cds, group), part in lv.groupby(["cds", "student_group_id"]):
        assert by[(cds, group, 13)] == part.loc[part["grade"] < 13, "with_scores"].sum()
