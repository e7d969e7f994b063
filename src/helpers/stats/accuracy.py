"""Classification accuracy and consistency of performance levels, from each student's scale score and SEM.

Method (Rudner 2001, 2005): a student's true score is taken as normal with mean = the observed scale score
and SD = the student's standard error of measurement; P_k = the probability that it falls in level k's
interval [cut_{k−1}, cut_k) (the outer levels are open: LOSS and HOSS are not bounds of the true score).

- accuracy = mean over students of P_(observed level) (Rudner 2001, 2005);
- consistency = mean over students of Σ_k P_k² — the chance that two independent parallel measurements
  put the student in the same level (the Rudner-based consistency index of Lee 2010);
- per cut c (the minimum of level k): false positive = mean of 1[score ≥ c] · P(true < c), false
  negative = mean of 1[score < c] · P(true ≥ c), both as shares of all students; accuracy at the cut =
  1 − false positive − false negative.

References: Rudner, L. M. (2001). Computing the expected proportions of misclassified examinees. Practical
Assessment, Research & Evaluation, 7(14). Rudner, L. M. (2005). Expected classification accuracy.
Practical Assessment, Research & Evaluation, 10(13). Lee, W.-C. (2010). Classification consistency and
accuracy for complex assessments using item response theory. Journal of Educational Measurement, 47(1).

The normal CDF uses the Abramowitz & Stegun (1964) formula 7.1.26 for erf (|error| ≤ 1.5e-7), vectorised
with numpy (scipy is not a dependency).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting
from helpers.core import params
from helpers.ingest import counting

AS_P = 0.3275911
AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
MAX_LEVELS = 5
ALL_GRADES = 13


def erf(x: np.ndarray | float) -> np.ndarray:
    """erf by Abramowitz & Stegun 7.1.26 (odd, exact at 0, |error| ≤ 1.5e-7)."""
    x = np.asarray(x, dtype=float)
    a = np.abs(x)
    t = 1.0 / (1.0 + AS_P * a)
    poly = t * (AS_A[0] + t * (AS_A[1] + t * (AS_A[2] + t * (AS_A[3] + t * AS_A[4]))))
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """Φ(z) = ½(1 + erf(z/√2)); absolute error ≤ 7.5e-8."""
    return 0.5 * (1.0 + erf(np.asarray(z, dtype=float) / math.sqrt(2.0)))


def level_probabilities(scores: np.ndarray, sems: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """n × K matrix: P(true level = k) for each student, levels split at `cuts` (the minima of levels
    2..K); rows sum to 1."""
    x = np.asarray(scores, dtype=float)[:, None]
    s = np.asarray(sems, dtype=float)[:, None]
    below = normal_cdf((np.asarray(cuts, dtype=float)[None, :] - x) / s)  # P(true < cut_j)
    n = len(x)
    edges = np.hstack([np.zeros((n, 1)), below, np.ones((n, 1))])
    return np.diff(edges, axis=1)


def _student_stats(x: np.ndarray, s: np.ndarray, cuts: Sequence[float]) -> dict[str, np.ndarray]:
    """Per-student accuracy, consistency and per-cut false positive / negative."""
    p = level_probabilities(x, s, cuts)
    observed = np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")  # a score at a cut is above
    out = {"accuracy": p[np.arange(len(x)), observed], "consistency": (p * p).sum(axis=1)}
    for j, c in enumerate(cuts):
        level = j + 2
        below = p[:, : j + 1].sum(axis=1)  # P(true < c)
        above = x >= c
        out[f"false_positive_level_{level}"] = np.where(above, below, 0.0)
        out[f"false_negative_level_{level}"] = np.where(above, 0.0, 1.0 - below)
    return out


def _summarise(stats: dict[str, np.ndarray], n_cuts: int) -> dict[str, float]:
    row: dict[str, float] = {"n": len(stats["accuracy"]), "accuracy": stats["accuracy"].mean(),
                             "consistency": stats["consistency"].mean()}
    for level in range(2, n_cuts + 2):
        fp = stats[f"false_positive_level_{level}"].mean()
        fn = stats[f"false_negative_level_{level}"].mean()
        row[f"accuracy_at_level_{level}"] = 1.0 - fp - fn
        row[f"false_positive_level_{level}"] = fp
        row[f"false_negative_level_{level}"] = fn
    return row


def columns() -> list[str]:
    per_cut = [f"{what}_level_{k}" for k in range(2, MAX_LEVELS + 1)
               for what in ("accuracy_at", "false_positive", "false_negative")]
    return ["year", "test_id", "grade", "n", "accuracy", "consistency", *per_cut, "suppressed"]


def by_test_grade(students: pd.DataFrame, cut_tables: Sequence[cutting.CutTable] | None = None,
                  cut_set: str = "official") -> pd.DataFrame:
    """Accuracy and consistency per year × test × grade (and grade 13: every grade's students pooled)
    for the records with scores (params/counting.yml) and an SEM > 0. Rows for fewer than the year's
    min_results students are kept with their n but no statistics (``suppressed``)."""
    tables = list(cut_tables) if cut_tables is not None else cutting.load_all()
    _, scored = counting.flags(students)
    s = students[scored & (students["sem"] > 0)]
    rows, pooled = [], {}
    for (year, test, grade), g in s.groupby(["year", "test_id", "grade"], sort=True):
        cuts = cutting.find(tables, test, year, cut_set).for_grade(grade).cuts
        stats = _student_stats(g["scale_score"].to_numpy(float), g["sem"].to_numpy(float), cuts)
        rows.append({"year": year, "test_id": test, "grade": grade, **_summarise(stats, len(cuts))})
        pooled.setdefault((year, test), []).append((stats, len(cuts)))
    for (year, test), parts in pooled.items():
        if len(parts) > 1:
            merged = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
            rows.append({"year": year, "test_id": test, "grade": ALL_GRADES, **_summarise(merged, parts[0][1])})
    out = pd.DataFrame(rows, columns=columns()[:-1])
    small = out["n"] < out["year"].map(lambda y: params.suppression_rule(int(y)).min_results)
    stats_cols = [c for c in out.columns if c not in ("year", "test_id", "grade", "n")]
    out[stats_cols] = out[stats_cols].astype(float).mask(small)
    out["suppressed"] = small.astype(bool)
    out = out.astype({"year": "int64", "test_id": "int64", "grade": "int64", "n": "int64"})
    return out.sort_values(["year", "test_id", "grade"]).reset_index(drop=True)
