"""Distance from Standard (DFS): how far, in scale points, an average score lies from "Standard Met".

**Definition.** For Smarter Balanced ELA and mathematics (Test IDs 1 and 2), the DFS of a grade row is
its mean scale score minus the grade's *Standard Met* minimum, the level-3 cut of the year's official cut
table (``params/cuts/smarter_balanced.yml``): ``DFS_g = mean_g − met_g``. A positive DFS is above the
standard, a negative one below it.

**All Grades.** A research file publishes no mean scale score across grades, so the All Grades DFS (grade
13) is the mean of the grade values weighted by students with scores, over grades 3–8 and 11 whose mean
is published: ``DFS = Σ n_g · DFS_g / Σ n_g``. As each ``DFS_g`` is the mean over the grade's students
of (score − met_g), this equals the mean over all those students of (scale score − their grade's
minimum). A grade whose mean is hidden (the file's ``*`` or this book's suppression) is left out;
``dfs_grades_left_out`` names such grades and ``dfs_students_left_out`` counts their students with
scores (blank when any of those counts is itself hidden: it is never worked out by subtraction). An All
Grades row whose results are suppressed has no DFS. DFS values are rounded to 0.1 point.

**Student records.** From a Student Score Data File (LEA mode) the DFS is the mean over the students with
scores of (scale score − that student's grade minimum), set beside the value computed the research-file
way for the same LEA.

**Population.** These values are computed from all students with scores in the research files. That is
not the California School Dashboard's accountability population (continuous enrollment, the grades and
students the Dashboard counts), so they differ somewhat from the Dashboard's DFS.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting

TESTS = (1, 2)  # Smarter Balanced ELA and mathematics
GRADES = (3, 4, 5, 6, 7, 8, 11)
ALL_GRADES = 13
GROUP_KEYS = ["year", "cds", "test_id", "student_group_id", "source"]
TREND_KEYS = ["cds", "test_id", "grade", "student_group_id", "year"]
COLUMNS = ("dfs", "dfs_students_left_out", "dfs_grades_left_out")
LABEL = ("Distance from Standard (DFS): mean scale score minus the grade's Standard Met minimum, in scale "
         "points (All Grades: the grades' values weighted by students with scores). Computed from all students "
         "with scores in the research files, which is not the California School Dashboard's accountability "
         "population, so values differ somewhat from the Dashboard.")


@lru_cache(maxsize=None)
def met_minimum(test_id: int, year: int, grade: int) -> float:
    """The grade's Standard Met minimum (the met level's cut) for the year; NaN when there is none."""
    if int(test_id) not in TESTS or int(grade) not in GRADES:
        return float("nan")
    try:
        table = cutting.find(_tables(), int(test_id), int(year), "official")
    except LookupError:
        return float("nan")
    return float(table.for_grade(grade).cuts[table.level_codes.index(table.met_level) - 1])


@lru_cache(maxsize=1)
def _tables() -> tuple[cutting.CutTable, ...]:
    return tuple(cutting.load_all())


def minimums(frame: pd.DataFrame) -> np.ndarray:
    """Each row's Standard Met minimum (NaN for other tests and grades)."""
    keys = zip(frame["test_id"].astype(int), frame["year"].astype(int), frame["grade"].astype(int))
    return np.array([met_minimum(*k) for k in keys], dtype=float)


def grade_dfs(frame: pd.DataFrame) -> np.ndarray:
    """Mean scale score − Standard Met minimum, per row (unrounded; NaN where either is missing)."""
    mean = pd.to_numeric(frame["mean_scale_score"], errors="coerce").astype(float).to_numpy()
    return mean - minimums(frame)


def all_grades(frame: pd.DataFrame) -> pd.DataFrame:
    """Per year × entity × test × group × source: the All Grades DFS (weighted by students with scores over
    the grades with a published mean), the students and grades left out."""
    rows = frame[frame["grade"].isin(GRADES) & frame["test_id"].isin(TESTS)]
    d = pd.Series(grade_dfs(rows), index=rows.index)
    n = pd.to_numeric(rows["with_scores"], errors="coerce").astype(float)
    used = d.notna() & n.notna() & (n > 0)
    left = d.isna() & (n.isna() | (n > 0))
    parts = rows[GROUP_KEYS].assign(w=n.where(used, 0.0), wd=(n * d).where(used, 0.0),
                                    out_n=n.where(left, 0.0), out_hidden=(left & n.isna()).astype(int),
                                    out_grade=rows["grade"].where(left))
    grouped = parts.groupby(GROUP_KEYS, sort=False)
    out = grouped[["w", "wd", "out_n", "out_hidden"]].sum()
    out["dfs"] = (out["wd"] / out["w"].where(out["w"] > 0)).round(1)
    out["dfs_students_left_out"] = out["out_n"].astype("Int64").mask(out["out_hidden"] > 0)
    if len(out):  # the grades of each group, formatted once per distinct set
        group = grouped.ngroup().to_numpy(dtype=float, na_value=np.nan)  # NaN: a row of no group
        text = _grades_left_out(np.where(np.isnan(group), -1, group).astype(np.int64), len(out),
                                parts["out_grade"].to_numpy(dtype=float, na_value=np.nan))
        out["dfs_grades_left_out"] = pd.Series(text, index=out.index)
    else:
        out["dfs_grades_left_out"] = grouped["out_grade"].agg(
            lambda g: "|".join(str(int(x)) for x in sorted(g.dropna())))
    return out[list(COLUMNS)]


def _grades_left_out(group: np.ndarray, n_groups: int, grade: np.ndarray) -> np.ndarray:
    """Per group (`group`: each row's group number, -1 for none): its rows' grades that are not NaN, in
    ascending order, joined by '|' ('' for none); each distinct pattern of grades is formatted once."""
    keep = (group >= 0) & ~np.isnan(grade)
    grades, at = np.unique(grade[keep], return_inverse=True)
    counts = np.zeros((n_groups, grades.size), dtype=np.int64)
    np.add.at(counts, (group[keep], at.reshape(-1)), 1)
    if grades.size == 0:
        return np.full(n_groups, "", dtype=object)
    patterns, which = np.unique(counts, axis=0, return_inverse=True)
    text = np.array(["|".join(str(int(g)) for g, c in zip(grades, row) for _ in range(c)) for row in patterns],
                    dtype=object)
    return text[which.reshape(-1)]


def add(levels: pd.DataFrame) -> pd.DataFrame:
    """The levels table with `dfs` (grade rows and All Grades), `dfs_students_left_out` and
    `dfs_grades_left_out` (All Grades rows) appended; blank for other tests and where results are hidden."""
    out = levels.copy()
    hidden = out["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    value = pd.Series(grade_dfs(out), index=out.index).round(1)
    left_n = pd.Series(pd.NA, index=out.index, dtype="Int64")
    left_grades = pd.Series("", index=out.index, dtype=object)
    total = (out["grade"] == ALL_GRADES) & out["test_id"].isin(TESTS)
    if total.any():
        agg = all_grades(out)
        at = agg.reindex(pd.MultiIndex.from_frame(out.loc[total, GROUP_KEYS]))
        value[total] = at["dfs"].to_numpy(dtype=float, na_value=np.nan)
        left_n[total] = at["dfs_students_left_out"].to_numpy()
        left_grades[total] = at["dfs_grades_left_out"].fillna("").to_numpy(dtype=object)
    out["dfs"] = value.mask(hidden).astype(float)
    out["dfs_students_left_out"] = left_n.mask(hidden)
    out["dfs_grades_left_out"] = left_grades.where(~hidden, "")
    return out


def trend(trends: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """The trends table with the levels' `dfs` and its change from the prior year (same grade; blank across
    a gap) appended."""
    mine = levels[[*TREND_KEYS, "dfs"]]
    out = trends.merge(mine, on=TREND_KEYS, how="left")
    prior = mine.assign(year=mine["year"] + 1).rename(columns={"dfs": "_prior"})
    out = out.merge(prior, on=TREND_KEYS, how="left")
    out["dfs_change_from_prior_year"] = (out["dfs"].astype(float) - out.pop("_prior").astype(float)).round(1)
    out["dfs"] = out["dfs"].astype(float)
    return out


def from_students(students: pd.DataFrame, scored: pd.Series) -> pd.DataFrame:
    """LEA mode: per year × entity (school and LEA) × test × grade (and All Grades), the mean over students
    with scores of (scale score − that student's grade minimum)."""
    s = students[scored.to_numpy(dtype=bool) & students["test_id"].isin(TESTS) & students["grade"].isin(GRADES)]
    s = s.assign(distance=pd.to_numeric(s["scale_score"]).astype(float) - minimums(s))
    s = s[s["distance"].notna()]
    parts = []
    for key in ("cds", "lea_cds"):
        mine = s if key == "lea_cds" else s[s["cds"] != s["lea_cds"]]
        for grade in (None, ALL_GRADES):
            g = mine.assign(grade=grade) if grade else mine
            agg = g.groupby(["year", key, "test_id", "grade"], sort=True)["distance"].agg(["size", "mean"])
            parts.append(agg.reset_index().rename(columns={key: "cds", "size": "with_scores",
                                                           "mean": "dfs_students"}))
    out = pd.concat(parts, ignore_index=True).drop_duplicates(["year", "cds", "test_id", "grade"])
    out["dfs_students"] = out["dfs_students"].round(1)
    return out.sort_values(["year", "cds", "test_id", "grade"]).reset_index(drop=True)
