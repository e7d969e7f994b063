"""Scores → levels at every boundary, frame classification and % at and above."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.cuts import CutTable, find, load_all
from helpers.core.levels import NO_SCORE, classify, classify_frame, pct_at_and_above

PARAMS = Path(__file__).resolve().parents[1] / "params"
TABLES = load_all(PARAMS)


def check_boundaries(table: CutTable, grade, expected: dict[float, int], out_of_range: list[float]) -> None:
    scores = list(expected)
    assert classify(scores, table, grade).tolist() == list(expected.values())
    for score in scores:  # one at a time too: no dependence on neighbours
        assert classify([score], table, grade).tolist() == [expected[score]]
    for score in out_of_range:
        with pytest.raises(ValueError, match=f"'{table.id}', grade .*score {score:g} at index 0"):
            classify([score], table, grade)


def test_sb_ela_grade3_2022_boundaries():
    table = find(TABLES, 1, 2022)
    check_boundaries(table, 3, {2115: 1, 2366: 1, 2367: 2, 2431: 2, 2432: 3, 2489: 3, 2490: 4, 2650: 4},
                     [2114, 2651])


def test_sb_ela_grade3_loss_differs_by_era():
    old, new = find(TABLES, 1, 2018), find(TABLES, 1, 2022)
    assert classify([2114, 2623], old, 3).tolist() == [1, 4]
    with pytest.raises(ValueError, match="sb_ela_2021plus', grade 3: score 2114 at index 0"):
        classify([2114], new, 3)
    with pytest.raises(ValueError, match="sb_ela_pre2021', grade 3: score 2650 at index 0"):
        classify([2650], old, 3)


def test_cast_grade8_boundaries():
    check_boundaries(find(TABLES, 17, 2023), 8,
                     {350: 1, 377: 1, 378: 2, 414: 2, 415: 3, 432: 3, 433: 4, 450: 4}, [349, 451])


def test_cast_high_school_boundaries():
    for grade in (10, 11, 12):
        check_boundaries(find(TABLES, 17, 2023), grade,
                         {550: 1, 575: 1, 576: 2, 614: 2, 615: 3, 635: 3, 636: 4, 650: 4}, [549, 651])


@pytest.mark.parametrize("test_id", [3, 4])
def test_caa_grade11_boundaries(test_id):
    check_boundaries(find(TABLES, test_id, 2024), 11,
                     {900: 1, 944: 1, 945: 2, 959: 2, 960: 3, 999: 3}, [899, 1000])


@pytest.mark.parametrize("cut_set", ["panel", "sspi"])
def test_capa_level_i_raw_range(cut_set):
    table = find(TABLES, "capa_ela", 2009, cut_set=cut_set)
    cuts = table.for_grade("I").cuts
    assert classify([0, 40], table, "I").tolist() == [1, 5]
    assert classify([cuts[0] - 1, cuts[0], cuts[3] - 1, cuts[3]], table, "I").tolist() == [1, 2, 4, 5]
    for bad in (41, -1):
        with pytest.raises(ValueError, match=rf"'capa_ela_{cut_set}', grade I: score {bad} at index 0 is outside \[0, 40\]"):
            classify([bad], table, "I")
    assert classify([32], table, "V").tolist() == [5]
    with pytest.raises(ValueError, match=r"grade V: score 33 .* outside \[0, 32\]"):
        classify([33], table, "V")


EVERY_CUT = [
    pytest.param(t, grade, k, id=f"{t.id}-{grade}-cut{k + 1}")
    for t in TABLES for grade, g in t.grades.items() for k in range(len(g.cuts))
]


@pytest.mark.parametrize("table, grade, k", EVERY_CUT)
def test_every_cut_is_the_minimum_of_its_level(table, grade, k):
    cut = table.for_grade(grade).cuts[k]
    below, at = table.level_codes[k], table.level_codes[k + 1]
    assert classify([cut - 1, cut], table, grade).tolist() == [below, at]


def test_every_table_ends_at_loss_and_hoss():
    for t in TABLES:
        for grade, g in t.grades.items():
            assert classify([g.loss, g.hoss], t, grade).tolist() == [t.level_codes[0], t.level_codes[-1]]


def test_nan_is_no_score_and_shape_is_kept():
    table = find(TABLES, 2, 2022)
    out = classify([[np.nan, 2543], [2628, 2717.5]], table, 11)
    assert NO_SCORE == 0
    assert out.dtype == np.int64 and out.tolist() == [[0, 2], [3, 3]]
    assert classify([], table, 11).tolist() == []


def test_error_reports_first_offending_score_and_index():
    table = find(TABLES, 2, 2022)
    with pytest.raises(ValueError) as info:
        classify([2400, np.nan, 2100, 3000], table, 11)
    assert str(info.value) == ("cut table 'sb_math_2021plus', grade 11: score 2100 at index 2 "
                               "is outside [2280, 2900] (LOSS, HOSS)")


def test_unknown_grade_is_a_key_error():
    with pytest.raises(KeyError, match="no grade '9'"):
        classify([2500], find(TABLES, 1, 2022), 9)


# ---------------------------------------------------------------- frames


def test_classify_frame_mixes_tests_years_and_grades():
    rows = [  # test, year, grade, score, expected level
        (1, 2018, 3, 2114, 1),     # old-era LOSS: valid in 2018
        (1, 2022, 3, 2115, 1),     # new-era LOSS
        (1, 2018, 3, 2623, 4),     # old-era HOSS
        (1, 2022, 3, 2650, 4),     # new-era HOSS (out of range in 2018)
        (1, 2022, 5, 2502, 3),
        (1, 2018, 6, 2530, 2),
        (2, 2018, 11, 2718, 4),
        (2, 2022, 11, 2717, 3),
        (2, 2022, 8, np.nan, 0),
        (17, 2022, 10, 615, 3),
        (17, 2019, 12, 614, 2),
        (17, 2022, 5, 150, 1),
        (3, 2018, 11, 960, 3),
        (4, 2022, 3, 344, 1),
    ]
    df = pd.DataFrame(rows, columns=["test_id", "year", "grade", "scale_score", "expected"],
                      index=[f"r{i}" for i in range(len(rows))])
    levels = classify_frame(df, TABLES)
    assert levels.name == "level" and levels.dtype == np.int64
    assert levels.index.equals(df.index)
    assert levels.tolist() == df["expected"].tolist()


def test_classify_frame_custom_columns_cut_set_and_string_keys():
    df = pd.DataFrame({"test": ["capa_math"] * 4 + ["capa_science"],
                       "yr": ["2010"] * 5,
                       "lvl": ["II", "II", "iv", "IV", "III"],
                       "raw": [19, 18, 24, 5, 32]})
    sspi = classify_frame(df, TABLES, score_col="raw", grade_col="lvl", test_col="test",
                          year_col="yr", cut_set="sspi")
    panel = classify_frame(df, TABLES, score_col="raw", grade_col="lvl", test_col="test",
                           year_col="yr", cut_set="panel")
    # capa_math II: panel [7, 13, 20, 26], sspi [6, 12, 19, 25]; IV: panel [6, 11, 16, 23], sspi [6, 12, 18, 24]
    assert sspi.tolist() == [4, 3, 5, 1, 5]
    assert panel.tolist() == [3, 3, 5, 1, 5]


def test_classify_frame_accepts_a_lookup_callable():
    calls = []

    def lookup(test, year, cut_set):
        calls.append((test, year, cut_set))
        return find(TABLES, test, year, cut_set)

    df = pd.DataFrame({"test_id": [1, 1, 1], "year": [2022] * 3, "grade": [3, 4, 3],
                       "scale_score": [2367.0, 2415.0, 2490.0]})
    assert classify_frame(df, lookup).tolist() == [2, 1, 4]
    assert calls == [(1, 2022, "official")]  # one lookup per (test, year)


def test_classify_frame_errors_name_the_row():
    df = pd.DataFrame({"test_id": [1, 1], "year": [2018, 2018], "grade": [3, 3],
                       "scale_score": [2400, 2650]}, index=[10, 11])
    with pytest.raises(ValueError, match=r"'sb_ela_pre2021', grade 3: score 2650 at row 11 is outside \[2114, 2623\]"):
        classify_frame(df, TABLES)
    df = pd.DataFrame({"test_id": [1, None], "year": [2022, 2022], "grade": [3, 3],
                       "scale_score": [2400, 2500]}, index=["a", "b"])
    with pytest.raises(ValueError, match="row 'b' has a score but no test_id/year/grade"):
        classify_frame(df, TABLES)
    with pytest.raises(LookupError, match="no cut table for test 1, year 2014"):
        classify_frame(pd.DataFrame({"test_id": [1], "year": [2014], "grade": [3], "scale_score": [2400]}),
                       TABLES)


def test_classify_frame_rows_without_scores_need_no_table():
    df = pd.DataFrame({"test_id": [1, 1, None], "year": [2020, 2022, 2022], "grade": [3, 3, 3],
                       "scale_score": [np.nan, 2490, np.nan]})
    assert classify_frame(df, TABLES).tolist() == [0, 4, 0]
    empty = df.iloc[:0]
    assert classify_frame(empty, TABLES).tolist() == []


def test_classify_frame_matches_classify_on_a_million_rows():
    rng = np.random.default_rng(7)
    n = 1_000_000
    df = pd.DataFrame({"test_id": rng.choice([1, 2], n),
                       "year": rng.choice([2016, 2018, 2019, 2022, 2024], n),
                       "grade": rng.choice([3, 4, 5, 6, 7, 8, 11], n)})
    df["scale_score"] = rng.integers(2300, 2621, n).astype(float)  # inside every SB range
    df.loc[df.index[::50], "scale_score"] = np.nan
    classify_frame(df.iloc[:1000], TABLES)  # warm-up
    levels = classify_frame(df, TABLES).to_numpy()  # its time is a benchmark's (bench/), not a test's
    sample = df.sample(2000, random_state=1)
    for (test, year, grade), part in sample.groupby(["test_id", "year", "grade"]):
        expected = classify(part["scale_score"], find(TABLES, test, year), grade)
        assert levels[part.index.to_numpy()].tolist() == expected.tolist()
    assert set(np.unique(levels)) == {0, 1, 2, 3, 4}


# ---------------------------------------------------------------- % at and above


def test_pct_at_and_above_exact():
    assert pct_at_and_above([10, 20, 30, 40]).tolist() == [90.0, 70.0, 40.0]
    assert pct_at_and_above([0, 0, 0, 5]).tolist() == [100.0, 100.0, 100.0]
    assert pct_at_and_above([3, 1]).tolist() == [25.0]
    two_d = pct_at_and_above([[10, 20, 30, 40], [50, 25, 25, 0]])
    assert two_d.tolist() == [[90.0, 70.0, 40.0], [50.0, 25.0, 0.0]]
    assert np.isnan(pct_at_and_above([0, 0, 0])).all()


def test_pct_at_and_above_is_monotone_non_increasing():
    counts = np.random.default_rng(3).integers(0, 1000, size=(500, 5))
    pct = pct_at_and_above(counts)
    assert pct.shape == (500, 4)
    assert (np.diff(pct, axis=-1) <= 0).all()
    assert ((pct >= 0) & (pct <= 100)).all()


def test_pct_at_and_above_rejects_bad_input():
    with pytest.raises(ValueError, match="at least two levels"):
        pct_at_and_above([5])
    with pytest.raises(ValueError, match="must not be negative"):
        pct_at_and_above([5, -1, 3])
