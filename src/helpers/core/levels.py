"""Scores → performance-level codes (vectorised with numpy), and % at and above each cut.

Conventions:

- A score equal to a cut is in the higher level (cuts are level minima).
- LOSS and HOSS are valid scores; anything outside [LOSS, HOSS] raises ``ValueError``.
- A missing score (NaN / NA) gets level ``NO_SCORE`` (0). Research and student files
  use 9 for "no score"; map it yourself if you need that code.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from helpers.core.cuts import CutTable, GradeCuts, find, norm_grade

NO_SCORE = 0

TableLookup = Callable[[Any, Any, str], CutTable]


def _first_out_of_range(x: np.ndarray, g: GradeCuts) -> int | None:
    bad = (x < g.loss) | (x > g.hoss)  # NaN compares False: missing scores are not errors
    return int(np.argmax(bad)) if bad.any() else None


def _codes(x: np.ndarray, table: CutTable, g: GradeCuts) -> np.ndarray:
    codes = np.asarray((NO_SCORE,) + table.level_codes, dtype=np.int64)
    pos = np.searchsorted(np.asarray(g.cuts), x, side="right") + 1
    pos[np.isnan(x)] = 0
    return codes[pos]


def _row(df: pd.DataFrame, position: int) -> str:
    label = df.index[position]
    return repr(label.item() if isinstance(label, np.generic) else label)


def _range_error(table: CutTable, grade: Any, g: GradeCuts, score: float, where: str) -> ValueError:
    return ValueError(f"cut table '{table.id}', grade {norm_grade(grade)}: score {score:g} at {where} "
                      f"is outside [{g.loss:g}, {g.hoss:g}] (LOSS, HOSS)")


def classify(scores: Any, table: CutTable, grade: Any) -> np.ndarray:
    """Level code for each score of one grade (same shape as ``scores``; NaN → 0).

    Raises ValueError naming the table, the grade, the first out-of-range score and its
    (flat) index; KeyError if the table has no such grade.
    """
    g = table.for_grade(grade)
    x = np.asarray(scores, dtype=float)
    flat = x.ravel()
    bad = _first_out_of_range(flat, g)
    if bad is not None:
        raise _range_error(table, grade, g, flat[bad], f"index {bad}")
    return _codes(flat, table, g).reshape(x.shape)


def _as_lookup(table_lookup: Sequence[CutTable] | TableLookup, cut_set: str) -> Callable[[Any, Any], CutTable]:
    if callable(table_lookup):
        fn: TableLookup = table_lookup
    else:
        tables = list(table_lookup)
        fn = lambda test, year, cs: find(tables, test, year, cs)  # noqa: E731
    cache: dict[tuple, CutTable] = {}

    def lookup(test: Any, year: Any) -> CutTable:
        if (test, year) not in cache:
            cache[(test, year)] = fn(test, year, cut_set)
        return cache[(test, year)]

    return lookup


def classify_frame(
    df: pd.DataFrame,
    table_lookup: Sequence[CutTable] | TableLookup,
    score_col: str = "scale_score",
    grade_col: str = "grade",
    test_col: str = "test_id",
    year_col: str = "year",
    cut_set: str = "official",
) -> pd.Series:
    """Level code for every row, one ``np.searchsorted`` per (test, year, grade) group.

    ``table_lookup`` is a list of CutTables (resolved with :func:`helpers.core.cuts.find`) or a
    callable ``(test_id, year, cut_set) -> CutTable``. Missing scores → 0 (a group with
    no scores needs no table); a row with a score but no test/year/grade, or a score
    outside [LOSS, HOSS], raises ValueError naming the row's index label.
    Returns an int64 Series named "level" on ``df.index``.
    """
    lookup = _as_lookup(table_lookup, cut_set)
    scores = df[score_col].to_numpy(dtype=float, na_value=np.nan)
    out = np.zeros(len(df), dtype=np.int64)
    groups = df.groupby([test_col, year_col, grade_col], sort=False, dropna=False, observed=True).indices
    for (test, year, grade), idx in groups.items():
        x = scores[idx]
        if np.isnan(x).all():
            continue  # nothing to classify: no table needed
        if pd.isna(test) or pd.isna(year) or pd.isna(grade):
            row = _row(df, idx[np.flatnonzero(~np.isnan(x))[0]])
            raise ValueError(f"row {row} has a score but no {test_col}/{year_col}/{grade_col} "
                             f"({test!r}, {year!r}, {grade!r})")
        table = lookup(test, year)
        g = table.for_grade(grade)
        bad = _first_out_of_range(x, g)
        if bad is not None:
            raise _range_error(table, grade, g, x[bad], f"row {_row(df, idx[bad])}")
        out[idx] = _codes(x, table, g)
    return pd.Series(out, index=df.index, name="level")


def pct_at_and_above(level_counts: Any) -> np.ndarray:
    """Percent of the total at and above each cut, from counts per level (last axis, ascending).

    ``[10, 20, 30, 40]`` → ``[90., 70., 40.]`` (levels 2+, 3+, 4+). The result has one
    fewer entry on the last axis; a zero total gives NaN.
    """
    counts = np.asarray(level_counts, dtype=float)
    if counts.ndim == 0 or counts.shape[-1] < 2:
        raise ValueError(f"need counts for at least two levels on the last axis, got shape {counts.shape}")
    if (counts < 0).any():
        raise ValueError("level counts must not be negative")
    above = np.flip(np.cumsum(np.flip(counts, -1), axis=-1), -1)[..., 1:]
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * above / total, np.nan)
