"""Synthetic student records reproduce the real Del Norte sample's published rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.cuts import find, load_all
from helpers.core.levels import classify
from helpers.ingest import store as stores
from helpers.synth.students import (
    SynthWarning,
    aggregate_check,
    fit_scale_scores,
    level_counts,
    met_issue,
    pct_decimals,
    round_half_up,
    students_for_lea,
    write_students,
)

from .conftest import DNCUSD, ROOT

COE = "08100820000000"  # Del Norte County Office of Education (includes the Castle Rock charter)
TABLES = load_all(ROOT / "params")
PCTS = [f"pct_level_{k}" for k in range(1, 5)]
CASES = [(DNCUSD, 2022), (COE, 2022), (DNCUSD, 2018)]


def published(store: Path, cds: str, year: int) -> pd.DataFrame:
    """The LEA's own unsuppressed SB All-Students rows, straight from the store."""
    return stores.query(f"""
        SELECT test_id, grade, enrolled, tested, with_scores, mean_scale_score, {', '.join(PCTS)}
        FROM {stores.table(store, 'results')}
        WHERE cds = ? AND year = ? AND student_group_id = 1 AND test_id IN (1, 2) AND grade < 13
          AND NOT counts_suppressed AND NOT results_suppressed
        ORDER BY test_id, grade""", [cds, year])


@pytest.fixture(scope="module")
def frames(sample_store: Path) -> dict[tuple[str, int], pd.DataFrame]:
    return {(cds, year): students_for_lea(sample_store, cds, year, seed=0, tables=TABLES)
            for cds, year in CASES}


@pytest.mark.parametrize("cds,year", CASES)
def test_round_trip_reproduces_published_rows(sample_store, frames, cds, year):
    pub = published(sample_store, cds, year)
    assert len(pub) == 14  # grades 3–8 and 11, ELA and math
    got = pub.merge(aggregate_check(frames[(cds, year)]), on=["test_id", "grade"], how="left",
                    suffixes=("", "_synth"), validate="one_to_one")
    for col in ["enrolled", "tested", "with_scores"]:
        assert got[col].tolist() == got[f"{col}_synth"].tolist(), col
    for col in PCTS:
        np.testing.assert_array_equal(got[col].to_numpy(float), got[f"{col}_synth"].to_numpy(float), col)
    diff = (got["mean_scale_score"] - got["mean_scale_score_synth"]).abs()
    assert diff.max() <= 0.05, got.loc[diff.idxmax()]


def test_literal_published_numbers(frames):
    """Two rows checked against numbers copied from the research files, not from the store."""
    agg = aggregate_check(frames[(DNCUSD, 2018)]).set_index(["test_id", "grade"])
    row = agg.loc[(1, 3)]
    assert (row["enrolled"], row["tested"], row["with_scores"]) == (278, 276, 276)
    assert row[PCTS].tolist() == [40.94, 28.62, 15.94, 14.49]
    assert abs(row["mean_scale_score"] - 2389.1) <= 0.05
    row = aggregate_check(frames[(COE, 2022)]).set_index(["test_id", "grade"]).loc[(2, 11)]
    assert (row["enrolled"], row["tested"], row["with_scores"]) == (68, 63, 63)
    assert row[PCTS].tolist() == [90.48, 9.52, 0.0, 0.0]
    assert abs(row["mean_scale_score"] - 2420.0) <= 0.05


@pytest.mark.parametrize("cds,year", CASES)
def test_scores_in_range_and_levels_match_classify(frames, cds, year):
    s = frames[(cds, year)]
    scored = s["include_indicator"].eq("Y")
    assert s["scale_score"].notna().eq(scored).all() and s["sem"].notna().eq(scored).all()
    assert (s.loc[~scored, "achievement_level"] == 9).all()
    for (test_id, grade), g in s[scored].groupby(["test_id", "grade"]):
        table = find(TABLES, test_id, year)
        cut = table.for_grade(grade)
        x = g["scale_score"].to_numpy()
        assert (x >= cut.loss).all() and (x <= cut.hoss).all(), (test_id, grade)
        assert (x == np.round(x)).all()
        assert classify(x, table, grade).tolist() == g["achievement_level"].tolist()
        assert g["sem"].between(18, 35).all()


def test_2018_scores_use_the_pre2021_range(frames):
    ela11 = frames[(DNCUSD, 2018)].query("test_id == 1 and grade == 11")["scale_score"]
    assert ela11.max() <= 2795 < find(TABLES, 1, 2022).for_grade(11).hoss


@pytest.mark.parametrize("cds,year", CASES)
def test_ssid_one_student_across_tests(frames, cds, year):
    s = frames[(cds, year)]
    assert s["ssid"].str.fullmatch(r"[1-9]\d{9}").all()
    assert not s.duplicated(["ssid", "test_id"]).any()
    person = ["grade", "cds", "sex", "el_status", "sed", "disability", "migrant", "homeless", "foster",
              "military", "race"]
    assert (s.groupby("ssid")[person].nunique() == 1).all().all()
    for _, block in s.groupby(["grade", "cds"]):
        ela, math = (set(block.loc[block["test_id"] == t, "ssid"]) for t in (1, 2))
        assert len(ela & math) == min(len(ela), len(math))
        assert len(ela | math) == max(len(ela), len(math))


def test_codes_follow_include_indicator(frames):
    s = frames[(DNCUSD, 2022)]
    combos = set(s[["include_indicator", "condition_code", "attemptedness", "score_status"]]
                 .itertuples(index=False, name=None))
    assert combos <= {("Y", "", "Y", "V"), ("T", "", "P", ""), ("N", "NT", "N", ""), ("N", "PGE", "N", "")}
    assert (s["cds"].str[:7] == DNCUSD[:7]).all() and (s["lea_cds"] == DNCUSD).all()
    assert (s["county_code"] + s["district_code"] + s["school_code"] == s["cds"]).all()
    assert set(s["race"]) <= {74, 75, 76, 77, 78, 79, 80, 144}
    assert set(s["el_status"]) <= {"EO", "IFEP", "RFEP", "EL", "TBD"}


def test_students_sit_at_schools_with_published_counts(sample_store, frames):
    """Where the schools' published with-scores counts add up to the district's, they are reproduced."""
    schools = stores.query(f"""
        SELECT cds, test_id, grade, with_scores FROM {stores.table(sample_store, 'results')}
        WHERE lea_cds = ? AND year = 2022 AND type_id = 7 AND student_group_id = 1 AND test_id IN (1, 2)
          AND grade < 13 AND with_scores IS NOT NULL""", [DNCUSD])
    lea = published(sample_store, DNCUSD, 2022).set_index(["test_id", "grade"])["with_scores"]
    full = schools.groupby(["test_id", "grade"])["with_scores"].sum().eq(lea)
    assert full.sum() >= 5  # several grade × test rows are fully covered by school rows
    got = aggregate_check(frames[(DNCUSD, 2022)], by=("cds", "test_id", "grade"))
    want = schools.set_index(["test_id", "grade"]).loc[full[full].index].reset_index()
    merged = want.merge(got, on=["cds", "test_id", "grade"], how="left", suffixes=("", "_synth"))
    assert merged["with_scores"].tolist() == merged["with_scores_synth"].fillna(0).astype(int).tolist()


def test_determinism_and_seed(sample_store, frames):
    again = students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=TABLES)
    pd.testing.assert_frame_equal(frames[(DNCUSD, 2022)], again)
    other = students_for_lea(sample_store, DNCUSD, 2022, seed=1, tables=TABLES)
    assert not np.array_equal(other["scale_score"], again["scale_score"], equal_nan=True)
    assert set(other["ssid"]) != set(again["ssid"])
    pd.testing.assert_frame_equal(aggregate_check(other), aggregate_check(again))


def test_level_counts():
    assert level_counts([33.33, 33.33, 33.33, 0.0], 3).tolist() == [1, 1, 1, 0]
    # 1/32 = 3.125 is published as 3.13 (half up)
    assert level_counts([3.13, 46.88, 31.25, 18.75], 32).tolist() == [1, 15, 10, 6]
    assert level_counts([40.94, 28.62, 15.94, 14.49], 276).tolist() == [113, 79, 44, 40]
    with pytest.raises(ValueError, match="no integer level counts out of 3 students"):
        level_counts([50.0, 50.0, 0.0, 0.0], 3)


def test_level_counts_whole_percent_years():
    """2015–16 percentages are whole numbers: rounding each count may not add up to n."""
    counts = level_counts([1, 1, 49, 49], 150, decimals=0)
    assert counts.sum() == 150 and round_half_up(100 * counts / 150, 0).tolist() == [1, 1, 49, 49]


def test_level_counts_every_sample_row(sample_store):
    """Every unsuppressed SB row of the sample (schools, LEAs, county, state) has counts that round
    back to its published percentages, and none contradicts its % met and above."""
    rows = stores.query(f"""
        SELECT * FROM {stores.table(sample_store, 'results')}
        WHERE test_id IN (1, 2) AND with_scores > 0 AND NOT results_suppressed
          AND pct_level_1 IS NOT NULL""")
    assert len(rows) > 400 and rows["with_scores"].max() > 100_000  # includes the state rows
    for _, row in rows.iterrows():
        pcts = row[PCTS].to_numpy(float)
        counts = level_counts(pcts, int(row["with_scores"]), pct_decimals(row["year"]))
        assert round_half_up(100 * counts / row["with_scores"], 2).tolist() == pcts.tolist()
        assert met_issue(row, counts) is None


def test_aggregate_check_rounds_half_up():
    s = pd.DataFrame({"test_id": 1, "grade": 3, "include_indicator": ["Y"] * 32 + ["T", "N"],
                      "scale_score": [2300.0] + [2400.0] * 31 + [np.nan] * 2,
                      "achievement_level": [1] + [2] * 31 + [9] * 2})
    row = aggregate_check(s).iloc[0]
    assert (row["enrolled"], row["tested"], row["with_scores"]) == (34, 33, 32)
    assert row[PCTS].tolist() == [3.13, 96.88, 0.0, 0.0]  # 3.125 and 96.875 round up
    assert row["mean_scale_score"] == pytest.approx(2396.875)


def test_met_issue():
    counts = np.array([113, 79, 44, 40])
    row = pd.Series({"test_id": 1, "grade": 3, "pct_met_and_above": 30.43})
    assert met_issue(row, counts) is None
    assert met_issue(row.copy().replace(30.43, 30.44), counts) is None  # one unit: unrounded sums
    assert "levels 3+4 give 30.43" in met_issue(row.copy().replace(30.43, 31.0), counts)


def test_fit_scale_scores_mean_and_limits():
    cut = find(TABLES, 2, 2022).for_grade(11)
    levels = np.array([1] * 57 + [2] * 6)
    u = (np.arange(63) % 7 + 0.5) / 7
    x = fit_scale_scores(levels, u, cut, 2420.0)
    assert abs(x.mean() - 2420.0) <= 0.5 / 63 + 1e-9
    assert classify(x, find(TABLES, 2, 2022), 11).tolist() == levels.tolist()
    top = fit_scale_scores(levels, u, cut, 2700.0)  # beyond every level's maximum: all at the top
    assert top.tolist() == [cut.cuts[0] - 1] * 57 + [cut.cuts[1] - 1] * 6


@pytest.fixture
def edited_store(sample_store: Path, tmp_path: Path):
    """A copy of the sample store whose DNCUSD 2022 ELA grade 3 row can be altered."""
    shutil.copy(Path(sample_store) / "results.parquet", tmp_path / "results.parquet")

    def edit(**values) -> Path:
        frame = pd.read_parquet(tmp_path / "results.parquet")
        hit = ((frame["cds"] == DNCUSD) & (frame["year"] == 2022) & (frame["test_id"] == 1)
               & (frame["grade"] == 3) & (frame["student_group_id"] == 1))
        for col, value in values.items():
            frame.loc[hit, col] = value
        frame.to_parquet(tmp_path / "results.parquet", index=False)
        return tmp_path
    return edit


def test_inconsistent_published_row_warns(edited_store):
    store = edited_store(pct_met_and_above=99.0)
    with pytest.warns(SynthWarning, match="published % met and above 99.0"):
        students_for_lea(store, DNCUSD, 2022, tables=TABLES)


def test_impossible_percentages_raise(edited_store):
    store = edited_store(pct_level_1=50.0, pct_level_2=50.0, pct_level_3=0.0, pct_level_4=0.001)
    with pytest.raises(ValueError, match=f"LEA {DNCUSD} 2022 test 1 grade 3: no integer level counts"):
        students_for_lea(store, DNCUSD, 2022, tables=TABLES)


def test_unreachable_mean_warns(edited_store):
    store = edited_store(mean_scale_score=2600.0)
    with pytest.warns(SynthWarning, match="cannot meet the published 2600.0"):
        students_for_lea(store, DNCUSD, 2022, tables=TABLES)


def test_write_students_round_trip(frames, tmp_path):
    path = write_students(frames[(COE, 2022)], tmp_path / "out" / "students.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), frames[(COE, 2022)])
