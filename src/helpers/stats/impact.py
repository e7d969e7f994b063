"""Cut-score impact tables in the layout of CDE's proposed-performance-level notices.

For each test level (CAPA) or grade and each performance level: "% students | cut score | % at and
above", for two cut sets side by side with the difference in % at and above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.cuts import CutTable
from helpers.core.levels import classify

IMPACT_COLUMNS = [
    "assessment", "subject", "test_id", "grade", "level_code", "level_name", "n_students",
    "cut_set_a", "cut_a", "pct_students_a", "pct_at_and_above_a",
    "cut_set_b", "cut_b", "pct_students_b", "pct_at_and_above_b",
    "diff_pct_at_and_above", "status",
]


def impact(scores: pd.DataFrame, table_a: CutTable, table_b: CutTable, grade_col: str = "grade",
           score_col: str = "score") -> pd.DataFrame:
    """One row per grade (or CAPA level) × performance level, for cut sets A and B on the same scores."""
    if table_a.level_codes != table_b.level_codes:
        raise ValueError(f"cut tables '{table_a.id}' and '{table_b.id}' have different levels")
    rows = []
    for grade, group in scores.groupby(grade_col, sort=False):
        x = group[score_col].to_numpy(dtype=float)
        a, b = _shares(x, table_a, grade), _shares(x, table_b, grade)
        for i, (code, name) in enumerate(zip(table_a.level_codes, table_a.level_names)):
            rows.append({
                "assessment": table_a.family, "subject": table_a.subject, "test_id": str(table_a.test_id),
                "grade": str(grade), "level_code": code, "level_name": name, "n_students": len(x),
                "cut_set_a": table_a.cut_set, "cut_a": a["cut"][i], "pct_students_a": a["pct"][i],
                "pct_at_and_above_a": a["above"][i],
                "cut_set_b": table_b.cut_set, "cut_b": b["cut"][i], "pct_students_b": b["pct"][i],
                "pct_at_and_above_b": b["above"][i],
                "diff_pct_at_and_above": round(b["above"][i] - a["above"][i], 1),
                "status": "illustrative" if table_a.is_illustrative or table_b.is_illustrative else "official",
            })
    out = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
    return out.sort_values(["grade", "level_code"], key=_grade_order, kind="stable").reset_index(drop=True)


def _shares(x: np.ndarray, table: CutTable, grade) -> dict[str, list]:
    """% at each level, the level's minimum score (blank for the lowest level) and % at and above."""
    codes = classify(x, table, grade)
    counts = np.array([(codes == c).sum() for c in table.level_codes], dtype=float)
    pct = 100 * counts / counts.sum() if counts.sum() else np.full(len(counts), np.nan)
    above = np.flip(np.cumsum(np.flip(pct)))
    cuts = [np.nan, *table.for_grade(grade).cuts]
    return {"pct": np.round(pct, 1).tolist(), "above": np.round(above, 1).tolist(), "cut": cuts}


ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def _grade_order(values: pd.Series) -> pd.Series:
    if values.name != "grade":
        return values
    return values.map(lambda g: ROMAN.get(g, int(g) if str(g).isdigit() else 99))


STATS = {"pct_students": "% Students", "cut": "Cut score", "pct_at_and_above": "% at and above"}


def notice_layout(table: pd.DataFrame, side: str = "a") -> pd.DataFrame:
    """One cut set as in the notices: for each grade (or CAPA level) three rows — % Students, Cut score
    (the level's minimum; none for the lowest level), % at and above — and a column per performance level."""
    long = table.melt(id_vars=["grade", "level_code", "level_name"], value_vars=[f"{k}_{side}" for k in STATS],
                      var_name="stat", value_name="value")
    long["stat"] = long["stat"].str.removesuffix(f"_{side}").map(STATS)
    wide = long.pivot_table(index=["grade", "stat"], columns="level_name", values="value", aggfunc="first",
                            sort=False, dropna=False)
    levels = table.sort_values("level_code")["level_name"].drop_duplicates().tolist()
    rows = pd.MultiIndex.from_product([table["grade"].drop_duplicates().tolist(), list(STATS.values())])
    wide = wide.reindex(index=rows, columns=levels)
    wide.index.names = ["Level" if table["assessment"].iloc[0] == "capa" else "Grade", ""]
    wide.columns.name = None
    return wide


def side_by_side(table: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Both cut sets in the notice layout side by side: for each grade (or CAPA level) the rows % Students,
    Cut score and % at and above; for each performance level the columns cut set A, cut set B and B − A.
    `names`: display names of the cut sets (default their ids)."""
    label = lambda s: (names or {}).get(s, s)  # noqa: E731
    a, b = label(table["cut_set_a"].iloc[0]), label(table["cut_set_b"].iloc[0])
    sides = {a: notice_layout(table, "a").astype(float), b: notice_layout(table, "b").astype(float)}
    sides[f"{b} − {a}"] = (sides[b] - sides[a]).round(1)
    wide = pd.concat(sides, axis=1).swaplevel(axis=1)
    levels = list(sides[a].columns)
    return wide.reindex(columns=pd.MultiIndex.from_product([levels, list(sides)]))
