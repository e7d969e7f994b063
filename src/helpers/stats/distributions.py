"""Scale-score distributions of student records: mean, SD, standard error of the mean with a 95% band, and
histogram bars that reveal no count below the reporting threshold.

- **Summary** per year × test × grade × student group, over the records with scores (params/counting.yml):
  n, mean, SD (n − 1), SEM of the mean = SD / √n and the band mean ± 1.96 SEM (the "error band" idea CERS
  shows for a student's score, applied to a group mean: sampling error only). Groups with fewer than the
  year's ``min_results`` students (params/suppression.yml) get no statistics and no bars.
- **Bars** never straddle a cut: each level [cut_{k−1}, cut_k − 1] (LOSS and HOSS outermost) is split into
  bins about ``width`` points wide, then, within the level, a bar holding 1 to min_results − 1 students is
  merged with its smaller neighbour until every bar holds 0 or at least min_results students. A level with
  1 to min_results − 1 students in all is one bar whose count is hidden (``count`` missing,
  ``suppressed``): no bar shows a count from 1 to min_results − 1. (That level's count stays derivable
  from the level percentage × students with scores, which CDE publishes for every group of min_results
  or more; the bars reveal nothing finer than that.) Rows the levels table suppresses (e.g. complementary
  suppression) are dropped by passing that table as ``hidden``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting
from helpers.core import params
from helpers.ingest import counting
from helpers.stats import tables

Z95 = 1.96
KEYS = ["year", "test_id", "grade", "student_group_id"]


def _long(students: pd.DataFrame, groups: Sequence[int]) -> pd.DataFrame:
    """Scored records, once per student group they belong to."""
    _, scored = counting.flags(students)
    s = students[scored]
    masks = tables.group_masks(s)
    parts = [s[masks[g]].assign(student_group_id=g) for g in groups if g in masks]
    return pd.concat(parts, ignore_index=True) if parts else s.assign(student_group_id=0).iloc[0:0]


def _min_results(years: pd.Series) -> pd.Series:
    return years.map(lambda y: params.suppression_rule(int(y)).min_results)


def summary(students: pd.DataFrame, groups: Sequence[int] = (1,), z: float = Z95) -> pd.DataFrame:
    """n, mean, sd, sem_mean, band_low, band_high (mean ± z SEM; z = 2 is the ±2 SEM band as CERS draws it)
    per year × test × grade × student group."""
    long = _long(students, groups)
    agg = long.groupby(KEYS, sort=True)["scale_score"].agg(n="size", mean="mean", sd="std").reset_index()
    agg["sem_mean"] = agg["sd"] / np.sqrt(agg["n"])
    agg["band_low"] = agg["mean"] - z * agg["sem_mean"]
    agg["band_high"] = agg["mean"] + z * agg["sem_mean"]
    small = agg["n"] < _min_results(agg["year"])
    stats = ["mean", "sd", "sem_mean", "band_low", "band_high"]
    agg[stats] = agg[stats].mask(small).round({"mean": 1, "sd": 1, "sem_mean": 2, "band_low": 1, "band_high": 1})
    agg["suppressed"] = small.astype(bool)
    return agg.astype({"n": "int64"})


def level_bins(loss: float, cuts: Sequence[float], hoss: float, width: float) -> list[tuple[int, float, float]]:
    """(level, low, high) integer-score bins: each level split into about `width`-point bins."""
    lows = [loss, *cuts]
    highs = [c - 1 for c in cuts] + [hoss]
    out = []
    for level, (lo, hi) in enumerate(zip(lows, highs), start=1):
        m = max(1, int(round((hi - lo + 1) / width)))
        edges = np.round(np.linspace(lo, hi + 1, m + 1))
        out += [(level, float(a), float(b - 1)) for a, b in zip(edges[:-1], edges[1:])]
    return out


def merge_small(counts: list[int], threshold: int) -> list[tuple[int, int, int]]:
    """Merge adjacent bins of one level until each holds 0 or ≥ threshold (or one bin is left): returns
    (first bin, last bin, count) runs. A small bin joins its smaller neighbour (ties: the lower one)."""
    runs = [(i, i, c) for i, c in enumerate(counts)]
    while len(runs) > 1:
        small = [i for i, r in enumerate(runs) if 0 < r[2] < threshold]
        if not small:
            break
        i = small[0]
        if i == 0:
            j = 1
        elif i == len(runs) - 1:
            j = i - 1
        else:
            j = i - 1 if runs[i - 1][2] <= runs[i + 1][2] else i + 1
        a, b = sorted((i, j))
        runs[a:b + 1] = [(runs[a][0], runs[b][1], runs[a][2] + runs[b][2])]
    return runs


def bars(students: pd.DataFrame, cut_tables: Sequence[cutting.CutTable] | None = None, groups: Sequence[int] = (1,),
         width: float = 20.0, hidden: pd.DataFrame | None = None, cut_set: str = "official") -> pd.DataFrame:
    """Histogram bars per year × test × grade × group: level, low, high (scale scores, inclusive), count
    (missing where ``suppressed``). See the module docstring for the rule."""
    all_tables = list(cut_tables) if cut_tables is not None else cutting.load_all()
    long = _long(students, groups)
    if hidden is not None:
        off = hidden.loc[hidden["suppressed"].astype(bool), KEYS].drop_duplicates()
        long = long.merge(off, on=KEYS, how="left", indicator=True)
        long = long[long["_merge"] == "left_only"].drop(columns="_merge")
    rows = []
    for (year, test, grade, group), g in long.groupby(KEYS, sort=True):
        threshold = params.suppression_rule(int(year)).min_results
        if len(g) < threshold:
            continue
        cut = cutting.find(all_tables, test, year, cut_set).for_grade(grade)
        bins = level_bins(cut.loss, cut.cuts, cut.hoss, width)
        x = g["scale_score"].to_numpy(float)
        counts = np.histogram(x, bins=[b[1] for b in bins] + [bins[-1][2] + 1])[0]
        for level in range(1, len(cut.cuts) + 2):
            idx = [i for i, b in enumerate(bins) if b[0] == level]
            runs = merge_small([int(counts[i]) for i in idx], threshold)
            for first, last, count in runs:
                hide = 0 < count < threshold  # only a whole level can be left this small
                rows.append({"year": year, "test_id": test, "grade": grade, "student_group_id": group,
                             "level": level, "low": bins[idx[first]][1], "high": bins[idx[last]][2],
                             "count": pd.NA if hide else count, "suppressed": hide})
    cols = KEYS + ["level", "low", "high", "count", "suppressed"]
    return pd.DataFrame(rows, columns=cols).astype({"count": "Int64", "suppressed": bool})
