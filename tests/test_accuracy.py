"""Classification accuracy and consistency (Rudner 2001, 2005): hand cases against math.erf, and the
synthetic Del Norte students."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.core.cuts import find, load_all
from helpers.stats import accuracy
from helpers.synth.students import students_for_lea

from .conftest import DNCUSD, ROOT

TABLES = load_all(ROOT / "params")
ELA3 = find(TABLES, 1, 2022).for_grade(3)  # cuts 2367, 2432, 2490; LOSS 2115, HOSS 2650


def phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def students(scores, sems, grade=3, test=1, year=2022) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({"year": year, "test_id": test, "grade": grade, "include_indicator": ["Y"] * n,
                         "scale_score": np.asarray(scores, float), "sem": np.asarray(sems, float)})


def test_erf_matches_math_erf_within_the_abramowitz_stegun_bound():
    x = np.linspace(-6, 6, 120_001)
    want = np.array([math.erf(v) for v in x])
    assert np.abs(accuracy.erf(x) - want).max() <= 1.5e-7
    assert accuracy.erf(0.0) == 0.0 and accuracy.normal_cdf(0.0) == 0.5
    np.testing.assert_array_equal(accuracy.erf(-x), -accuracy.erf(x))


def test_level_probabilities_are_normal_masses_between_cuts():
    p = accuracy.level_probabilities(np.array([2432.0]), np.array([20.0]), ELA3.cuts)[0]
    want = [phi(-65 / 20), phi(0) - phi(-65 / 20), phi(58 / 20) - phi(0), 1 - phi(58 / 20)]
    np.testing.assert_allclose(p, want, atol=2e-7)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_a_student_at_a_cut_is_half_accurate():
    row = accuracy.by_test_grade(students([2432] * 11, [5] * 11), TABLES).iloc[0]
    assert row["n"] == 11 and not row["suppressed"]
    assert row["accuracy"] == pytest.approx(0.5, abs=1e-7)  # at the level-3 cut, 58 points (11.6 SEM) below level 4
    assert row["consistency"] == pytest.approx(0.5, abs=1e-7)  # ½² + ½²
    assert row["false_positive_level_3"] == pytest.approx(0.5, abs=1e-7)  # observed Met, true below half the time
    assert row["false_negative_level_3"] == 0.0 and row["accuracy_at_level_3"] == pytest.approx(0.5, abs=1e-7)


def test_a_student_far_inside_a_level_is_almost_surely_accurate():
    row = accuracy.by_test_grade(students([2460] * 11, [5] * 11), TABLES).iloc[0]  # 28 and 30 points from cuts
    want = phi(30 / 5) - phi(-28 / 5)
    assert row["accuracy"] == pytest.approx(want, abs=2e-7) and row["accuracy"] > 0.9999998
    assert row["consistency"] == pytest.approx(want**2 + (1 - phi(30 / 5))**2 + phi(-28 / 5)**2, abs=4e-7)


def test_hand_case_with_two_students_and_every_cut():
    data = students([2432] * 6 + [2400] * 5, [20] * 6 + [30] * 5)
    row = accuracy.by_test_grade(data, TABLES).iloc[0]
    a_p = [phi(-65 / 20), phi(0) - phi(-65 / 20), phi(58 / 20) - phi(0), 1 - phi(58 / 20)]  # 2432 ± 20
    b_p = [phi(-33 / 30), phi(32 / 30) - phi(-33 / 30), phi(90 / 30) - phi(32 / 30), 1 - phi(90 / 30)]  # 2400 ± 30
    assert row["accuracy"] == pytest.approx((6 * a_p[2] + 5 * b_p[1]) / 11, abs=3e-7)
    assert row["consistency"] == pytest.approx((6 * sum(p * p for p in a_p) + 5 * sum(p * p for p in b_p)) / 11,
                                               abs=5e-7)
    # cut 2367 (level 2): both above → false positives only
    assert row["false_positive_level_2"] == pytest.approx((6 * a_p[0] + 5 * b_p[0]) / 11, abs=3e-7)
    assert row["false_negative_level_2"] == 0.0
    # cut 2432 (level 3): the 2432s are above (fp ½), the 2400s below (fn = P(true ≥ 2432))
    assert row["false_positive_level_3"] == pytest.approx(6 * 0.5 / 11, abs=3e-7)
    assert row["false_negative_level_3"] == pytest.approx(5 * (1 - phi(32 / 30)) / 11, abs=3e-7)
    assert row["accuracy_at_level_3"] == pytest.approx(
        1 - row["false_positive_level_3"] - row["false_negative_level_3"], abs=1e-12)


def test_small_groups_are_suppressed_and_unscored_records_ignored():
    data = pd.concat([students([2432] * 5, [20] * 5),
                      students([np.nan] * 20, [np.nan] * 20).assign(include_indicator="N")], ignore_index=True)
    row = accuracy.by_test_grade(data, TABLES).iloc[0]
    assert row["n"] == 5 and row["suppressed"] and np.isnan(row["accuracy"]) and np.isnan(row["consistency"])


def test_synthetic_del_norte_students(sample_store):
    s = students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=TABLES)
    out = accuracy.by_test_grade(s, TABLES)
    assert len(out) == 16 and list(out.columns) == accuracy.columns()
    grades = out[out["grade"] < 13].set_index(["test_id", "grade"])["n"]
    assert grades.loc[1].tolist() == [263, 264, 260, 258, 237, 246, 220]  # students with scores (published)
    assert grades.loc[2].tolist() == [262, 263, 259, 256, 234, 246, 218]
    assert out.loc[out["grade"] == 13, "n"].tolist() == [1748, 1738]
    assert out["accuracy"].between(0.5, 1, inclusive="neither").all()
    assert out["consistency"].between(0.5, 1, inclusive="neither").all()
    assert (out["consistency"] < out["accuracy"]).all()
    for k in (2, 3, 4):
        assert out[f"accuracy_at_level_{k}"].between(out["accuracy"], 1).all()  # one cut errs less than all
    assert out[["accuracy_at_level_5", "false_positive_level_5"]].isna().all().all()
