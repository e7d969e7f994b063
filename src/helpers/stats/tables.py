"""The statistics engine: one vectorised pass over the store (and student records) → every LEA's tables.

Tables share one tidy shape (`LEVELS_COLUMNS`), keyed by year × 14-digit CDS code × test × grade ×
student group; `source` says whether a row was read from a research file (`published`) or computed from
student records (`computed`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting
from helpers.core import levels as leveling
from helpers.core import params
from helpers.ingest import counting

MAX_LEVELS = 5
CONTRACT_COLUMNS = [  # levels.csv's contract, in its order; the other columns follow
    "year", "cds", "type_id", "entity_name", "test_id", "grade", "student_group_id", "enrolled", "tested",
    "with_scores", "mean_scale_score", *[f"pct_level_{k}" for k in range(1, MAX_LEVELS + 1)],
    "pct_met_and_above", "suppressed", "source",
]
LEVELS_COLUMNS = [
    *CONTRACT_COLUMNS, "lea_cds", "county_code", "sd_scale_score", "sem_mean",
    *[f"count_level_{k}" for k in range(1, MAX_LEVELS + 1)],
    *[f"pct_at_or_above_level_{k}" for k in range(2, MAX_LEVELS + 1)], "suppression", "counts_hidden",
]
SINGLE_GRADES_OF = {13: None, 14: (10, 11, 12)}  # None: every single grade (3–12) present


def rounding_slack(years: pd.Series) -> np.ndarray:
    """Half a unit of the last published decimal: 0.005 from 2016–17, 0.5 before (whole numbers)."""
    return 0.5 * 10.0 ** -pd.to_numeric(years).map(params.pct_decimals).to_numpy(dtype=float)


# ---------------------------------------------------------------- published (research files)


def published_levels(results: pd.DataFrame) -> pd.DataFrame:
    """Research-file rows in the levels shape (levels beyond a test's count stay blank)."""
    out = results.copy()
    for k in range(1, MAX_LEVELS + 1):
        for col in (f"count_level_{k}", f"pct_level_{k}"):
            if col not in out:
                out[col] = _blank_floats(len(out))
    out["sd_scale_score"] = _blank_floats(len(out))
    out["sem_mean"] = _blank_floats(len(out))
    out = add_at_or_above(out)
    out["suppressed"] = out["results_suppressed"].astype(bool)
    out["suppression"] = out["suppressed"].map({True: "file", False: ""})
    # the counts among the file's starred fields, worked out once per distinct list of fields
    codes, lists = pd.factorize(out["suppressed_fields"].fillna(""))
    hidden = np.array(["|".join(c for c in ("enrolled", "tested", "with_scores") if c in str(names).split("|"))
                       for names in lists], dtype=object)
    out["counts_hidden"] = pd.Series(hidden[codes] if len(hidden) else np.full(len(out), "", dtype=object),
                                     index=out.index)
    out["source"] = "published"
    return out[LEVELS_COLUMNS].reset_index(drop=True)


def _blank_floats(n: int) -> pd.arrays.FloatingArray:
    """A Float64 column of n missing values (as `pd.array([pd.NA] * n, dtype="Float64")`)."""
    return pd.arrays.FloatingArray(np.full(n, np.nan), np.ones(n, dtype=bool))


def add_at_or_above(frame: pd.DataFrame) -> pd.DataFrame:
    """% at or above each cut: cumulative sums of the level percentages from the top level down."""
    pct = frame[[f"pct_level_{k}" for k in range(1, MAX_LEVELS + 1)]].astype("Float64")
    known = {k: len(t.levels) for k, t in params.tests().items()}
    n_levels = pd.to_numeric(frame["test_id"]).map(known).fillna(MAX_LEVELS).to_numpy()
    running = pd.Series(0.0, index=frame.index, dtype="Float64")
    for k in range(MAX_LEVELS, 1, -1):
        level = pct[f"pct_level_{k}"]
        running = running + level.fillna(0)
        # a level the test does not have stays blank (and adds nothing); a suppressed row stays blank
        shown = pct["pct_level_1"].notna() & (n_levels >= k)
        frame[f"pct_at_or_above_level_{k}"] = running.where(shown).round(2)
    return frame


# ---------------------------------------------------------------- computed (student records)


def group_specs() -> dict[int, params.GroupModel]:
    """The student groups computed from student records (params/student_groups.yml)."""
    return params.student_groups().groups


def group_masks(students: pd.DataFrame) -> dict[int, pd.Series]:
    """Student-group id → boolean mask, from params/student_groups.yml (only fields the frame has)."""
    masks = {}
    for gid, spec in group_specs().items():
        if spec.field is None:
            masks[gid] = pd.Series(True, index=students.index)
        elif spec.field in students:
            masks[gid] = students[spec.field].isin(spec.values)
    return masks


def classify_students(students: pd.DataFrame, tables: list[cutting.CutTable], cut_set: str = "official") -> pd.Series:
    """Performance level of each scored record from its scale score and the year's cut table."""
    scored = students[students["scale_score"].notna()]
    codes = leveling.classify_frame(scored, tables, score_col="scale_score", cut_set=cut_set)
    return codes.reindex(students.index).fillna(0).astype(int)


def computed_levels(students: pd.DataFrame, tables: list[cutting.CutTable] | None = None,
                    groups: list[int] | None = None, entities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Aggregate student records by entity (school, LEA, county, state) × test × grade × group."""
    tables = tables or _cut_tables()
    s = students.copy()
    s["level"] = classify_students(s, tables)
    s["is_tested"], s["is_scored"] = counting.flags(s)  # params/counting.yml
    masks = group_masks(s)
    wanted = [g for g in (groups or sorted(masks)) if g in masks]
    long = pd.concat([s[masks[g]].assign(student_group_id=g) for g in wanted], ignore_index=True)
    frames = [_aggregate(long, level_of) for level_of in ("school", "lea", "county", "state")]
    out = pd.concat(frames, ignore_index=True)
    out = pd.concat([out, _all_grades(out)], ignore_index=True)
    out = _finish(out, entities)
    return out.sort_values(["year", "cds", "test_id", "student_group_id", "grade"]).reset_index(drop=True)


def _entity_key(long: pd.DataFrame, level_of: str) -> pd.Series:
    if level_of == "school":
        return long["cds"]
    if level_of == "lea":
        return long["lea_cds"]
    if level_of == "county":
        return long["county_code"] + "0" * 12
    return pd.Series("0" * 14, index=long.index)


def _aggregate(long: pd.DataFrame, level_of: str) -> pd.DataFrame:
    """Counts, level counts and score moments per entity × year × test × grade × group."""
    frame = long.assign(entity=_entity_key(long, level_of))
    if level_of == "school":  # students reported at the district level are not a school
        frame = frame[frame["cds"] != frame["lea_cds"]]
    keys = ["entity", "year", "test_id", "grade", "student_group_id"]
    scored = frame["is_scored"]
    frame = frame.assign(score=frame["scale_score"].where(scored), score2=frame["scale_score"].where(scored) ** 2,
                         **{f"count_level_{k}": (frame["level"] == k) & scored for k in range(1, MAX_LEVELS + 1)})
    agg = frame.groupby(keys, sort=False).agg(
        enrolled=("year", "size"), tested=("is_tested", "sum"), with_scores=("is_scored", "sum"),
        score_sum=("score", "sum"), score2_sum=("score2", "sum"),
        **{f"count_level_{k}": (f"count_level_{k}", "sum") for k in range(1, MAX_LEVELS + 1)},
    ).reset_index()
    agg["level_of"] = level_of
    return agg


def _all_grades(rows: pd.DataFrame) -> pd.DataFrame:
    """Grade 13 (all grades) and 14 (all high school): sums of counts, so percentages are weighted by
    students with scores; no mean scale score across grades."""
    parts = []
    for grade, single in SINGLE_GRADES_OF.items():
        pick = rows[rows["grade"].isin(single)] if single else rows[rows["grade"] < 13]
        if single and pick.empty:
            continue
        keys = ["entity", "year", "test_id", "student_group_id", "level_of"]
        summed = pick.groupby(keys, sort=False)[
            ["enrolled", "tested", "with_scores", *[f"count_level_{k}" for k in range(1, MAX_LEVELS + 1)]]
        ].sum().reset_index()
        summed["grade"] = grade
        summed["score_sum"] = np.nan
        summed["score2_sum"] = np.nan
        parts.append(summed)
    return pd.concat(parts, ignore_index=True) if parts else rows.iloc[0:0]


def _finish(agg: pd.DataFrame, entities: pd.DataFrame | None) -> pd.DataFrame:
    """Percentages, mean, SD and standard error of the mean; entity columns; the levels shape."""
    out = agg.rename(columns={"entity": "cds"})
    n = out["with_scores"].astype(float)
    safe = n.where(n > 0)
    for k in range(1, MAX_LEVELS + 1):
        out[f"pct_level_{k}"] = (100 * out[f"count_level_{k}"] / safe).round(2)
    levels_of_test = out["test_id"].map(_n_levels)
    for k in range(1, MAX_LEVELS + 1):
        beyond = levels_of_test < k
        out.loc[beyond, [f"count_level_{k}", f"pct_level_{k}"]] = np.nan
    met = out["test_id"].map(_met_level)
    met_count = sum(out[f"count_level_{k}"].fillna(0) * (met <= k) for k in range(1, MAX_LEVELS + 1))
    out["pct_met_and_above"] = (100 * met_count / safe).round(2)
    mean = out["score_sum"] / safe
    var = (out["score2_sum"] - n * mean**2) / (n - 1).where(n > 1)
    out["mean_scale_score"] = mean.round(1)
    out["sd_scale_score"] = np.sqrt(var.clip(lower=0)).round(1)
    out["sem_mean"] = (out["sd_scale_score"] / np.sqrt(safe)).round(2)
    for k in range(2, MAX_LEVELS + 1):  # from counts, so exact (not a sum of rounded percentages)
        at_or_above = sum(out[f"count_level_{j}"].fillna(0) for j in range(k, MAX_LEVELS + 1))
        out[f"pct_at_or_above_level_{k}"] = (100 * at_or_above / safe).round(2).where(levels_of_test >= k)
    out = _entity_columns(out, entities)
    out["suppressed"] = False
    out["suppression"] = ""
    out["counts_hidden"] = ""
    out["source"] = "computed"
    for col in LEVELS_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[LEVELS_COLUMNS]


@lru_cache(maxsize=1)
def _cut_tables() -> tuple[cutting.CutTable, ...]:
    return tuple(cutting.load_all())


def _n_levels(test_id: int) -> int:
    return len(params.test_info(test_id).levels)


def _met_level(test_id: int) -> int:
    return params.test_info(test_id).met_level


def _entity_columns(out: pd.DataFrame, entities: pd.DataFrame | None) -> pd.DataFrame:
    out["county_code"] = out["cds"].str[:2]
    out["lea_cds"] = np.where(out["level_of"].isin(["school", "lea"]),
                              out["cds"].str[:7] + "0000000", None)
    out["type_id"] = out["level_of"].map({"school": 7, "lea": 6, "county": 5, "state": 4})
    if entities is not None and len(entities):
        ent = entities.drop_duplicates(["year", "cds"]).set_index(["year", "cds"])
        idx = pd.MultiIndex.from_arrays([out["year"], out["cds"]])
        known = idx.isin(ent.index)
        out.loc[known, "type_id"] = ent.loc[idx[known], "type_id"].to_numpy()
        out["entity_name"] = pd.Series(idx.map(lambda k: _name(ent, k)), index=out.index)
    else:
        out["entity_name"] = out["cds"]
    return out


def _name(ent: pd.DataFrame, key: tuple) -> str:
    if key not in ent.index:
        return key[1]
    row = ent.loc[key]
    from helpers.ingest.entities import entity_name

    return entity_name(int(row["type_id"]), row["county_name"], row["district_name"], row["school_name"])


# ---------------------------------------------------------------- reconciliation


def reconcile(results: pd.DataFrame) -> pd.DataFrame:
    """Published All Grades rows (13, and 14 for high school) vs the same recomputed from grade rows.

    Percentages are recomputed weighted by students with scores; the difference is flagged where it
    exceeds what rounding explains: the grades' and the total's rounding, 0.01 points for 2 decimals
    (from 2016–17), 1 point for the whole numbers published before.
    """
    keys = ["year", "cds", "test_id", "student_group_id"]
    pct_cols = [f"pct_level_{k}" for k in range(1, 5)] + ["pct_met_and_above"]
    parts = []
    for grade, single in SINGLE_GRADES_OF.items():
        total = results[results["grade"] == grade]
        if total.empty:
            continue
        pick = results[results["grade"].isin(single)] if single else results[results["grade"] < 13]
        parts.append(_reconcile_one(total, pick, keys, pct_cols, grade))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True).sort_values(keys + ["grade"]).reset_index(drop=True)


def _reconcile_one(total: pd.DataFrame, grades: pd.DataFrame, keys: list[str], pct_cols: list[str],
                   grade: int) -> pd.DataFrame:
    g = grades.assign(**{f"w_{c}": grades[c].astype(float) * grades["with_scores"].astype(float) for c in pct_cols})
    g["n_grades"] = 1
    g["n_hidden"] = (g["with_scores"].isna() | (g["pct_met_and_above"].isna() & (g["with_scores"] > 0))).astype(int)
    sums = g.groupby(keys)[["with_scores", "n_grades", "n_hidden", *[f"w_{c}" for c in pct_cols]]].sum(min_count=1)
    out = total.set_index(keys)[["entity_name", "type_id", "with_scores", *pct_cols]].join(
        sums.rename(columns={"with_scores": "with_scores_grades"}))
    out = out.reset_index()
    out["grade"] = grade
    n = out["with_scores_grades"].astype(float).where(lambda x: x > 0)
    for c in pct_cols:
        out[f"{c}_recomputed"] = (out[f"w_{c}"] / n).round(4)
        out[f"{c}_diff"] = (out[f"{c}_recomputed"] - out[c].astype(float)).round(4)
    diffs = out[[f"{c}_diff" for c in pct_cols]].abs().max(axis=1)
    bound = 2 * rounding_slack(out["year"]) + 1e-9  # two rounded values: the published and each grade's
    out["max_abs_diff"] = diffs
    out["with_scores_diff"] = out["with_scores_grades"] - out["with_scores"]
    out["status"] = np.select(
        [out["n_hidden"].fillna(0) > 0, out["with_scores"].isna() | (out["with_scores"] == 0),
         (diffs > bound) | (out["with_scores_diff"].fillna(0) != 0)],
        ["incomplete: suppressed grade rows", "no students with scores", "check: exceeds rounding"], "ok")
    return out.drop(columns=[f"w_{c}" for c in pct_cols])


# ---------------------------------------------------------------- trends


def _years(frame: pd.DataFrame) -> range:
    return range(int(frame["year"].min()), int(frame["year"].max()) + 1) if len(frame) else range(0)


TREND_NOTES = {
    2020: "no testing (COVID-19): 2019–20 results do not exist",
    2021: "2020–21: low participation (about 25% statewide) and a shorter blueprint; compare with caution",
}


def trends(levels: pd.DataFrame, present: set[int] | None = None) -> pd.DataFrame:
    """Every year in the store per entity × test × grade × group, with the 2019–20 gap as a gap row,
    the change from the prior year (same grade) and the matched-grade view (grade g−1 a year earlier;
    not matched students). `present`: the years with data (default: those of `levels`; given when
    `levels` is a part of the table)."""
    keys = ["cds", "test_id", "grade", "student_group_id"]
    cols = keys + ["year", "type_id", "entity_name", "enrolled", "tested", "with_scores", "mean_scale_score",
                   "pct_met_and_above", "suppressed"]
    base = levels[cols].copy()
    span = base.groupby(keys)["year"].agg(["min", "max"]).reset_index()
    every = [span.assign(year=y)[lambda f, y=y: (f["min"] < y) & (y < f["max"])] for y in _years(base)]
    ids = base.drop_duplicates(keys)[keys + ["type_id", "entity_name"]]
    gaps = pd.concat(every, ignore_index=True)[keys + ["year"]].merge(ids, on=keys) if every else None
    if gaps is not None and len(gaps):
        gaps = gaps.merge(base[keys + ["year"]], on=keys + ["year"], how="left", indicator=True)
        gaps = gaps[gaps["_merge"] == "left_only"].drop(columns="_merge")
        base = pd.concat([base, gaps], ignore_index=True)
    base = base.sort_values(keys[:-1] + ["student_group_id", "year"]).reset_index(drop=True)
    prior = base[keys + ["year", "pct_met_and_above"]].assign(year=base["year"] + 1)
    base = base.merge(prior.rename(columns={"pct_met_and_above": "prior_year_pct_met_and_above"}),
                      on=keys + ["year"], how="left")
    cohort = base[keys + ["year", "pct_met_and_above"]].assign(year=base["year"] + 1, grade=base["grade"] + 1)
    cohort = cohort[cohort["grade"] < 13]
    base = base.merge(cohort.rename(columns={"pct_met_and_above": "prior_grade_prior_year_pct_met_and_above"}),
                      on=keys + ["year"], how="left")
    base["change_from_prior_year"] = (base["pct_met_and_above"] - base["prior_year_pct_met_and_above"]).round(2)
    base["matched_grade_change"] = (base["pct_met_and_above"]
                                    - base["prior_grade_prior_year_pct_met_and_above"]).round(2)
    base = comparability(base, levels)
    present = set(levels["year"].unique()) if present is None else present
    base["note"] = base["year"].map(TREND_NOTES).fillna("")
    base.loc[~base["year"].isin(present) & (base["note"] == ""), "note"] = "year not in the data"
    return base.sort_values(["cds", "test_id", "student_group_id", "grade", "year"]).reset_index(drop=True)


# ---------------------------------------------------------------- comparability of a change

PARTICIPATION_MIN = 95.0  # % of enrolled students tested below which a change is flagged (the federal 95% rule)
HIGH_SCHOOL = (10, 11, 12)  # the grades of grade 14 (all high school)
_ENTITY = ["cds", "test_id", "student_group_id", "year"]


def grades_text(mask: int) -> str:
    """A grade bit mask as text: 1 << 3 | … | 1 << 8 | 1 << 11 → '3–8, 11'; no bits → 'none'."""
    grades = [g for g in range(13) if mask >> g & 1]
    runs: list[list[int]] = []
    for g in grades:
        if runs and g == runs[-1][-1] + 1:
            runs[-1].append(g)
        else:
            runs.append([g])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs) or "none"


def _single_grades(levels: pd.DataFrame) -> pd.DataFrame:
    """Single-grade rows with `bit` (1 << grade where the grade has students with scores, or hidden results)."""
    single = levels[levels["grade"] < 13][_ENTITY + ["grade", "with_scores", "pct_met_and_above", "suppressed"]]
    single = single.drop_duplicates(_ENTITY + ["grade"])
    n = pd.to_numeric(single["with_scores"]).astype(float)
    hidden = single["suppressed"].fillna(False).astype(bool) & n.isna()
    has = (n > 0) | hidden
    return single.assign(bit=np.where(has, np.left_shift(1, single["grade"].astype(np.int64)), 0))


def _grade_masks(base: pd.DataFrame, single: pd.DataFrame) -> pd.Series:
    """Each row's grades with scores as a bit mask: its own grade, every grade (13) or grades 10–12 (14)."""
    every = single.groupby(_ENTITY)["bit"].sum().rename("_all")
    merged = base[_ENTITY + ["grade"]].merge(every.reset_index(), on=_ENTITY, how="left")
    own = base[_ENTITY + ["grade"]].merge(single[_ENTITY + ["grade", "bit"]], on=_ENTITY + ["grade"], how="left")
    total = merged["_all"].fillna(0).astype(np.int64).to_numpy()
    high = sum(1 << g for g in HIGH_SCHOOL)
    grade = base["grade"].to_numpy()
    mask = np.where(grade == 13, total, np.where(grade == 14, total & high, own["bit"].fillna(0).astype(np.int64)))
    return pd.Series(mask, index=base.index, dtype=np.int64)


def comparability(base: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Participation (tested ÷ enrolled), the grades with scores, a flag on every change across different
    tested grades or with participation under 95% in either year, and the like-for-like change on the
    grades tested in both years (All Grades rows whose grades differ; weighted by students with scores)."""
    single = _single_grades(levels)
    keys = ["cds", "test_id", "grade", "student_group_id"]
    enrolled = pd.to_numeric(base["enrolled"]).astype(float)
    base["participation"] = (100 * pd.to_numeric(base["tested"]).astype(float) / enrolled.where(enrolled > 0)).round(2)
    gap = base["pct_met_and_above"].isna() & base["with_scores"].isna() & base["enrolled"].isna()
    mask = _grade_masks(base, single).where(~gap)
    base["grades_with_scores"] = _texts(mask)
    prior = base[keys + ["year", "participation"]].assign(year=base["year"] + 1, _mask=mask)
    prior = base[keys + ["year"]].merge(prior, on=keys + ["year"], how="left", suffixes=("", "_prior"))
    before, now = prior["_mask"], mask
    changed = base["change_from_prior_year"].notna().to_numpy()
    differ = changed & (base["grade"] >= 13).to_numpy() & (before != now).to_numpy()
    low_now = changed & (base["participation"] < PARTICIPATION_MIN).to_numpy()
    low_before = changed & (prior["participation"] < PARTICIPATION_MIN).to_numpy()
    base["change_flag"] = _flag_text(base, prior, before, differ, low_now, low_before)
    both = before.fillna(0).astype(np.int64).to_numpy() & now.fillna(0).astype(np.int64).to_numpy()
    common = pd.Series(np.where(differ, both, 0), index=base.index)
    base["like_for_like_grades"] = _texts(common.where(differ))
    base["like_for_like_change"] = _like_for_like(base, common, single)
    return base


def _texts(mask: pd.Series) -> pd.Series:
    """`grades_text` of each mask ('' where there is none), once per distinct mask."""
    known = mask.dropna().astype(np.int64)
    lookup = {m: grades_text(int(m)) for m in pd.unique(known)}
    out = pd.Series("", index=mask.index, dtype=object)
    out[known.index] = known.map(lookup).astype(object)
    return out.astype(str)


def _flag_text(base: pd.DataFrame, prior: pd.DataFrame, before: pd.Series, differ, low_now, low_before) -> list[str]:
    """Why each change is not like for like ('' where it is); built only for the flagged rows."""
    out = [""] * len(base)
    year = base["year"].to_numpy(dtype=np.int64)
    was, now = _texts(before).to_numpy(), base["grades_with_scores"].to_numpy()
    p_was, p_now = prior["participation"].to_numpy(dtype=float), base["participation"].to_numpy(dtype=float)
    for i in np.flatnonzero(differ | low_now | low_before):
        y = int(year[i])
        parts = [f"different grades with scores ({y - 1}: {was[i]} → {y}: {now[i]})"] if differ[i] else []
        low = ([f"{y - 1}: {p_was[i]:.2f}%"] if low_before[i] else []) + ([f"{y}: {p_now[i]:.2f}%"] if low_now[i] else [])
        if low:
            parts.append(f"participation under {PARTICIPATION_MIN:.0f}% ({', '.join(low)})")
        out[i] = "; ".join(parts)
    return out


def _like_for_like(base: pd.DataFrame, common: pd.Series, single: pd.DataFrame) -> pd.Series:
    """% met and above on the `common` grades this year minus the same grades a year earlier, each weighted
    by students with scores; blank where a common grade's result is not published in either year."""
    bits = common.to_numpy(dtype=np.int64)
    wanted = [base.loc[np.right_shift(bits, g) & 1 == 1, _ENTITY].assign(row=lambda f: f.index, grade=g)
              for g in range(3, 13)]
    wanted = pd.concat(wanted, ignore_index=True)
    out = pd.Series(np.nan, index=base.index)
    if wanted.empty:
        return out
    values = single[_ENTITY + ["grade", "with_scores", "pct_met_and_above"]]
    means = []
    for shift in (0, 1):
        rows = wanted.assign(year=wanted["year"] - shift).merge(values, on=_ENTITY + ["grade"], how="left")
        n = pd.to_numeric(rows["with_scores"]).astype(float)
        pct = pd.to_numeric(rows["pct_met_and_above"]).astype(float)
        rows = rows.assign(n=n, w=n * pct, known=(n > 0) & pct.notna())
        sums = rows.groupby("row").agg(n=("n", "sum"), w=("w", "sum"), known=("known", "all"))
        means.append((sums["w"] / sums["n"]).where(sums["known"]))
    out.loc[means[0].index] = (means[0] - means[1]).round(2)
    return out
