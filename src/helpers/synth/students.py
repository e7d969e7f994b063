"""Seeded synthetic Smarter Balanced student records that reproduce an LEA's published rows.

:func:`students_for_lea` makes one row per student × test for an LEA and year (the tidy layout of a
TOMS Student Score Data File, docs/caaspp-facts.md §4f). For every unsuppressed All-Students row of
the LEA itself (test × grade, grades 13/14 excluded) the records aggregate back to the published
enrolled, tested and with-scores counts and level percentages exactly, and to the published mean
scale score within 0.05 (the published mean has one decimal, so that is as close as the row allows).

How the records are made (everything seeded by ``np.random.default_rng(seed)``):

- **Counts.** ``with_scores`` students with include indicator Y, ``tested − with_scores`` with T
  (tested, no score) and ``enrolled − tested`` with N (not tested: condition code NT, or PGE for a
  share ``PGE_SHARE``). Level counts are the integers whose shares round to the published % (2
  decimals from 2016–17, whole numbers before; half-up rounding, as CDE's files show).
- **Schools.** Each status is spread over the LEA's schools (type 7 and locally funded charters,
  type 10; direct-funded charters, type 9, are their own LEAs and not in the district's rows) in
  proportion to each school's published count of that status, by largest remainder; suppressed
  school rows weigh nothing. With no school counts the students are reported at the LEA's code.
- **Roster.** One roster per school × grade, as large as the larger of its ELA and math counts;
  each test uses the first N students (scored first, then tested-without-score, then not tested),
  so a student keeps one SSID and one set of demographics across tests.
- **Levels and scores.** A latent ability (standard normal, lowered a little for SED, disability
  and EL status: ``ABILITY_SHIFT``) plus test-specific noise ranks the scored students; the lowest
  ``c1`` get level 1 and so on. Within its level a student's score is a quantile of a logistic
  distribution (scale ``SPREAD`` × the width of levels 2–3) truncated to the level's range (LOSS to
  cut₁−1, …, cut₃ to HOSS of that year's cut table); the logistic's centre is found by bisection so
  the mean hits the published mean, and a last ±1 nudge makes the integer sum equal
  round(mean × n). SEM grows with the distance from the level-3 cut (18–35 points).
- **Demographics** are drawn with the fixed shares below (roughly California's statewide mix; not
  the LEA's), independently of everything except the mild ability shift.

:func:`add_score_details` adds what a Student Score Data File also carries (SB error bands, illustrative
Lexile/Quantile measures, CAST domain levels) and :func:`write_student_file` writes the records as a TOMS
file in any header dialect of params/student_file.yml, for tests of :mod:`helpers.ingest.student_file`.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting
from helpers.core import levels as leveling
from helpers.core.cuts import CutTable, GradeCuts
from helpers.core.params import pct_decimals
from helpers.ingest import store as stores

SB_GRADES_EXCLUDED = (13, 14)
SCHOOL_TYPES = (7, 10)  # schools and locally funded charters count in their district's rows
N_LEVELS = 4
PCT_COLS = [f"pct_level_{k}" for k in range(1, N_LEVELS + 1)]
NO_SCORE_LEVEL = 9
STATUSES = ("Y", "T", "N")
ATTEMPTEDNESS = {"Y": "Y", "T": "P", "N": "N"}

# Demographic shares (illustrative, roughly California's tested population; not the LEA's own mix).
SEX_P = {"M": 0.51, "F": 0.49}
EL_STATUS_P = {"EO": 0.58, "IFEP": 0.05, "RFEP": 0.16, "EL": 0.20, "TBD": 0.01}
FLAG_P = {"sed": 0.60, "disability": 0.13, "migrant": 0.02, "homeless": 0.04, "foster": 0.006,
          "military": 0.01}
RACE_P = {74: 0.05, 75: 0.005, 76: 0.095, 77: 0.022, 78: 0.563, 79: 0.004, 80: 0.216, 144: 0.045}
ABILITY_SHIFT = {"sed": -0.3, "disability": -0.7, "EL": -0.5}  # in SDs of the latent ability
TEST_NOISE = 0.6   # a test's latent = ability + TEST_NOISE × N(0, 1): ELA/math score correlation ≈ 0.8
SPREAD = 0.45      # logistic scale / (level-4 cut − level-2 cut): score SDs of about 80–120 points
PGE_SHARE = 0.3    # share of not-tested students with a parent/guardian exemption (else NT)
MEAN_TOL = 0.05

COLUMNS = ["ssid", "year", "county_code", "district_code", "school_code", "cds", "lea_cds", "test_id",
           "grade", "include_indicator", "condition_code", "attemptedness", "score_status", "scale_score",
           "sem", "achievement_level", "sex", "el_status", *FLAG_P, "race"]


class SynthWarning(UserWarning):
    """A published row is internally inconsistent, or its mean cannot be met within the ranges."""


# ---------------------------------------------------------------- counts


def round_half_up(x: Any, decimals: int = 2) -> np.ndarray:
    """Round half away from zero for non-negative values (3.125 → 3.13, as in CDE's files)."""
    scale = 10.0 ** decimals
    return np.floor(np.asarray(x, dtype=float) * scale + 0.5 + 1e-9) / scale


def level_counts(pcts: Sequence[float], n: int, decimals: int = 2) -> np.ndarray:
    """Integer counts summing to ``n`` whose shares round to the published ``pcts``.

    Starts from round(pct × n / 100), then moves units by largest remainder within each level's
    feasible range. ValueError if no such counts exist.
    """
    p = np.asarray(pcts, dtype=float)
    half, eps = 0.5 * 10.0 ** -decimals, 1e-9
    exact = p * n / 100
    lo = np.maximum(np.ceil(n * (p - half) / 100 - eps), 0)
    hi = np.floor(n * (p + half) / 100 + eps)
    if np.isnan(p).any() or (lo > hi).any() or not lo.sum() <= n <= hi.sum():
        raise ValueError(f"no integer level counts out of {n} students round to the published "
                         f"percentages {p.tolist()} ({decimals} decimals)")
    c = np.clip(np.rint(exact), lo, hi)
    while (deficit := n - c.sum()) != 0:  # at most a few unit moves across levels
        step = np.sign(deficit)
        key = np.where((hi - c if step > 0 else c - lo) > 0, (exact - c) * step, -np.inf)
        c[np.argmax(key)] += step
    if not (np.abs(100 * c / n - p) <= half + eps).all():  # cannot happen once lo/hi are feasible
        raise ValueError(f"level counts {c.astype(int).tolist()} of {n} do not reproduce {p.tolist()}")
    return c.astype(np.int64)


def met_issue(row: pd.Series, counts: np.ndarray, decimals: int = 2) -> str | None:
    """A message if the published % met and above disagrees with the level counts (beyond one unit
    of the last decimal, since CDE computes it from unrounded values); else None."""
    met = row.get("pct_met_and_above")
    n = counts.sum()
    if met is None or pd.isna(met) or n == 0:
        return None
    computed = round_half_up(100 * counts[2:].sum() / n, decimals)
    if abs(computed - met) > 10.0 ** -decimals + 1e-9:
        return (f"test {row['test_id']} grade {row['grade']}: published % met and above {met} but "
                f"levels 3+4 give {computed:.{decimals}f} (n={n})")
    return None


def largest_remainder(total: int, weights: Any) -> np.ndarray | None:
    """Split ``total`` in proportion to ``weights`` (ties to the first); None if all weights are 0."""
    w = np.nan_to_num(np.asarray(weights, dtype=float))
    if total == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        return None
    quota = total * w / w.sum()
    out = np.floor(quota).astype(np.int64)
    out[np.argsort(-(quota - out), kind="stable")[: total - out.sum()]] += 1
    return out


# ---------------------------------------------------------------- the LEA's rows


def published_rows(store: Path | str, cds: str, year: int, tests: Sequence[int] = (1, 2)
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LEA's own usable All-Students rows (not suppressed, not grade 13/14) and its school rows."""
    rows = stores.results_rows(store, cds, year)
    rows = rows[rows["test_id"].isin(tests) & ~rows["grade"].isin(SB_GRADES_EXCLUDED)]
    own = rows[(rows["role"] == "lea") & ~rows["counts_suppressed"] & ~rows["results_suppressed"]]
    own = own[own[["enrolled", "tested", "with_scores"]].notna().all(axis=1)]
    scored = own["with_scores"] > 0
    own = own[~scored | own[PCT_COLS].notna().all(axis=1)]
    schools = rows[(rows["role"] == "school") & rows["type_id"].isin(SCHOOL_TYPES)]
    if own.empty:
        raise ValueError(f"LEA {cds} has no unsuppressed rows for tests {list(tests)} in {year}")
    return own.reset_index(drop=True), schools.reset_index(drop=True)


def _status_counts(frame: pd.DataFrame) -> np.ndarray:
    """Y, T, N counts per row (NA → 0)."""
    e, t, w = (frame[c].astype("Float64").fillna(0).to_numpy(dtype=float) for c in
               ("enrolled", "tested", "with_scores"))
    return np.column_stack([w, t - w, e - t]).clip(0).astype(np.int64)


def _allocate(row: pd.Series, schools: pd.DataFrame, lea_cds: str) -> pd.DataFrame:
    """Y/T/N counts of one LEA row spread over its schools (falling back to the LEA code)."""
    mine = schools[(schools["test_id"] == row["test_id"]) & (schools["grade"] == row["grade"])]
    totals = _status_counts(row.to_frame().T)[0]
    weights = _status_counts(mine)
    cds = mine["cds"].tolist() + [lea_cds]
    out = np.zeros((len(cds), 3), dtype=np.int64)
    for k, total in enumerate(totals):
        split = largest_remainder(total, weights[:, k])
        if split is None:  # no school shows this status: by school size, else at the LEA
            split = largest_remainder(total, weights.sum(axis=1))
        if split is None:
            out[-1, k] = total
        else:
            out[:-1, k] = split
    plan = pd.DataFrame(out, columns=["n_y", "n_t", "n_n"]).assign(cds=cds)
    plan = plan[plan[["n_y", "n_t", "n_n"]].sum(axis=1) > 0]
    return plan.assign(test_id=int(row["test_id"]), grade=int(row["grade"]))


def _plan(own: pd.DataFrame, schools: pd.DataFrame, lea_cds: str) -> pd.DataFrame:
    """One row per test × grade × school: counts of scored, tested-unscored and not-tested students."""
    parts = [_allocate(row, schools, lea_cds) for _, row in own.iterrows()]
    plan = pd.concat(parts, ignore_index=True)
    plan["m"] = plan[["n_y", "n_t", "n_n"]].sum(axis=1)
    return plan.sort_values(["test_id", "grade", "cds"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- roster and records


def _choice(rng: np.random.Generator, shares: dict, size: int) -> np.ndarray:
    p = np.asarray(list(shares.values()), dtype=float)
    return np.asarray(list(shares))[rng.choice(len(p), size=size, p=p / p.sum())]


def _roster(plan: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """One block of students per grade × school, as many as its largest test count; also each
    block's first row, keyed by (grade, cds)."""
    blocks = plan.groupby(["grade", "cds"], sort=True)["m"].max().reset_index()
    size = int(blocks["m"].sum())
    frame = blocks.loc[blocks.index.repeat(blocks["m"]), ["grade", "cds"]].reset_index(drop=True)
    frame["ssid"] = (rng.choice(9_000_000_000, size=size, replace=False) + 1_000_000_000).astype(str)
    frame["sex"] = _choice(rng, SEX_P, size)
    frame["el_status"] = _choice(rng, EL_STATUS_P, size)
    for flag, p in FLAG_P.items():
        frame[flag] = rng.random(size) < p
    frame["race"] = _choice(rng, RACE_P, size).astype(np.int64)
    frame["ability"] = (rng.standard_normal(size) + ABILITY_SHIFT["sed"] * frame["sed"]
                        + ABILITY_SHIFT["disability"] * frame["disability"]
                        + ABILITY_SHIFT["EL"] * (frame["el_status"] == "EL"))
    starts = np.cumsum(blocks["m"].to_numpy()) - blocks["m"].to_numpy()
    return frame, dict(zip(zip(blocks["grade"], blocks["cds"]), starts.tolist()))


def _records(plan: pd.DataFrame, roster: pd.DataFrame, first: dict) -> pd.DataFrame:
    """Per test, the first m roster students of each school × grade with their status (Y, T, then N)."""
    starts = np.array([first[(g, c)] for g, c in zip(plan["grade"], plan["cds"])], dtype=np.int64)
    m = plan["m"].to_numpy()
    pos = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)
    idx = np.repeat(starts, m) + pos
    n_y, n_t = np.repeat(plan["n_y"].to_numpy(), m), np.repeat(plan["n_t"].to_numpy(), m)
    status = np.where(pos < n_y, "Y", np.where(pos < n_y + n_t, "T", "N"))
    out = roster.iloc[idx].reset_index(drop=True)
    out["test_id"] = np.repeat(plan["test_id"].to_numpy(), m)
    out["include_indicator"] = status
    return out


# ---------------------------------------------------------------- scale scores


def level_ranges(levels: np.ndarray, g: GradeCuts) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest integer score of each student's level: [cut_{k−1}, cut_k − 1]."""
    lows = np.array([g.loss, *g.cuts])
    highs = np.array([*(np.asarray(g.cuts) - 1), g.hoss])
    return lows[levels - 1], highs[levels - 1]


def _expit(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _trunc_logistic(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, mu: float, s: float) -> np.ndarray:
    """Quantile ``u`` of a logistic(mu, s) truncated to [lo − ½, hi + ½], computed in the nearer tail."""
    za, zb = (lo - 0.5 - mu) / s, (hi + 0.5 - mu) / s
    flip = za + zb > 0
    a, b, q = np.where(flip, -zb, za), np.where(flip, -za, zb), np.where(flip, 1 - u, u)
    fa, fb = _expit(a), _expit(b)
    p = fa + q * (fb - fa)
    with np.errstate(divide="ignore"):
        z = np.log(p) - np.log1p(-p)
    return mu + s * np.where(flip, -z, z)


def _nudge(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, delta: int) -> np.ndarray:
    """Move the integer sum of ``x`` by ``delta`` within [lo, hi]: ±1 to as many students as possible
    first (in order), then whatever slack is left."""
    x, step = x.copy(), int(np.sign(delta))
    for cap in (1, None):
        if delta == 0:
            break
        slack = (hi - x) if step > 0 else (x - lo)
        slack = slack if cap is None else np.minimum(slack, cap)
        take = np.clip(abs(delta) - (np.cumsum(slack) - slack), 0, slack)
        x += step * take
        delta -= step * int(take.sum())
    return x


def fit_scale_scores(levels: np.ndarray, u: np.ndarray, g: GradeCuts, target: float) -> np.ndarray:
    """Integer scores in each student's level range, rising with ``u`` within a level (up to a final
    ±1 nudge), with a mean as close to ``target`` as the ranges allow: the sum is round(target × n)
    when that is feasible, else every score sits at its level's bound."""
    lo, hi = level_ranges(levels, g)
    s = SPREAD * (g.cuts[-1] - g.cuts[0])

    def draw(mu: float) -> np.ndarray:
        return np.clip(np.rint(_trunc_logistic(u, lo, hi, mu, s)), lo, hi)

    if np.isnan(target) or len(u) == 0:
        return draw(float(g.cuts[1]))
    a, b = g.loss - 20 * s, g.hoss + 20 * s
    for _ in range(60):
        mid = (a + b) / 2
        a, b = (mid, b) if draw(mid).mean() < target else (a, mid)
    x = draw((a + b) / 2)
    want = int(np.clip(np.floor(target * len(x) + 0.5), lo.sum(), hi.sum()))
    return _nudge(x, lo, hi, want - int(x.sum()))


def sem_for(x: np.ndarray, g: GradeCuts, rng: np.random.Generator) -> np.ndarray:
    """An SB-like SEM: about 18 near the level-3 cut, growing towards LOSS/HOSS, capped at 35."""
    d = np.abs(x - g.cuts[1]) / (g.cuts[1] - g.cuts[0])
    return np.clip(np.rint(18 + 2.5 * d**2 + rng.normal(0, 1.5, len(x))), 18, 35)


def _scores(rec: pd.DataFrame, own: pd.DataFrame, table_of: Any, year: int,
            rng: np.random.Generator) -> pd.DataFrame:
    """Levels, scale scores and SEMs for the scored records of each test × grade."""
    rec = rec.assign(level=NO_SCORE_LEVEL, scale_score=np.nan, sem=np.nan)
    latent = rec["ability"].to_numpy() + TEST_NOISE * rng.standard_normal(len(rec))
    decimals = pct_decimals(year)
    for _, row in own.iterrows():
        idx = np.flatnonzero(((rec["test_id"] == row["test_id"]) & (rec["grade"] == row["grade"])
                              & (rec["include_indicator"] == "Y")).to_numpy())
        if len(idx) == 0:
            continue
        where = f"LEA {row['cds']} {year} test {row['test_id']} grade {row['grade']}"
        try:
            counts = level_counts(row[PCT_COLS].to_numpy(dtype=float), len(idx), decimals)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if (issue := met_issue(row, counts, decimals)) is not None:
            warnings.warn(f"LEA {row['cds']} {year}, {issue}", SynthWarning, stacklevel=3)
        g = table_of(row["test_id"]).for_grade(row["grade"])
        level, u = _levels_and_positions(latent[idx], counts, rng)
        x = fit_scale_scores(level, u, g, float(row["mean_scale_score"]))
        if abs(x.mean() - row["mean_scale_score"]) > MEAN_TOL + 1e-9:
            warnings.warn(f"{where}: mean {x.mean():.3f} cannot meet the published "
                          f"{row['mean_scale_score']} within the level ranges", SynthWarning, stacklevel=3)
        rec.iloc[idx, rec.columns.get_indexer(["level", "scale_score", "sem"])] = np.column_stack(
            [level, x, sem_for(x, g, rng)])
    return rec


def _levels_and_positions(latent: np.ndarray, counts: np.ndarray, rng: np.random.Generator
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Levels by rank of the latent (lowest → level 1) and a stratified position u ∈ (0, 1) within
    the level that rises with the latent."""
    order = np.argsort(latent, kind="stable")
    sorted_level = np.repeat(np.arange(1, N_LEVELS + 1), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(len(latent)) - start
    u_sorted = (rank + rng.uniform(0.02, 0.98, len(latent))) / np.repeat(np.maximum(counts, 1), counts)
    level, u = np.empty_like(sorted_level), np.empty(len(latent))
    level[order], u[order] = sorted_level, u_sorted
    return level, u


# ---------------------------------------------------------------- public API


def students_for_lea(store: Path | str, cds: str, year: int, seed: int = 0, tests: Sequence[int] = (1, 2),
                     tables: Sequence[CutTable] | None = None) -> pd.DataFrame:
    """Synthetic student × test records reproducing the LEA's published All-Students rows (see module
    docstring). ``tables`` defaults to ``cuts.load_all()``."""
    cds, year = str(cds), int(year)
    tables = list(tables) if tables is not None else cutting.load_all()
    own, schools = published_rows(store, cds, year, tests)
    rng = np.random.default_rng(seed)
    plan = _plan(own, schools, cds)
    rec = _records(plan, *_roster(plan, rng))
    rec = _scores(rec, own, lambda t: cutting.find(tables, t, year), year, rng)
    return _finish(rec, cds, year, tables, rng)


def _finish(rec: pd.DataFrame, cds: str, year: int, tables: Sequence[CutTable],
            rng: np.random.Generator) -> pd.DataFrame:
    """Codes, condition codes, the level check against levels.classify, column order and dtypes."""
    status = rec["include_indicator"]
    not_tested = (status == "N").to_numpy()
    pge = rng.random(len(rec)) < PGE_SHARE
    rec = rec.assign(
        year=year, lea_cds=cds, county_code=rec["cds"].str[:2], district_code=rec["cds"].str[2:7],
        school_code=rec["cds"].str[7:], attemptedness=status.map(ATTEMPTEDNESS),
        score_status=np.where(status == "Y", "V", ""),
        condition_code=np.where(not_tested, np.where(pge, "PGE", "NT"), ""),
    )
    classified = leveling.classify_frame(rec, tables).to_numpy().copy()
    classified[classified == leveling.NO_SCORE] = NO_SCORE_LEVEL
    if not np.array_equal(classified, rec["level"].to_numpy(dtype=np.int64)):
        raise RuntimeError("synthetic scores do not classify to their planned levels")
    rec["achievement_level"] = classified
    out = rec[COLUMNS].astype({"year": "int64", "test_id": "int64", "grade": "int64", "race": "int64",
                               "scale_score": "float64", "sem": "float64"})
    return out.sort_values(["test_id", "grade", "cds"], kind="stable").reset_index(drop=True)


def aggregate_check(students: pd.DataFrame, by: Sequence[str] = ("test_id", "grade"),
                    decimals: int = 2) -> pd.DataFrame:
    """Per ``by`` group: enrolled, tested (Y/T/R), with_scores (Y), pct_level_1..4 (half-up rounded)
    and the unrounded mean_scale_score, for comparison with the published rows."""
    s = students.assign(
        tested=students["include_indicator"].isin(["Y", "T", "R"]),
        scored=students["include_indicator"].eq("Y") & students["scale_score"].notna(),
        **{f"c{k}": students["achievement_level"].eq(k) for k in range(1, N_LEVELS + 1)},
    )
    s["score"] = s["scale_score"].where(s["scored"])
    out = s.groupby(list(by), sort=True).agg(
        enrolled=("scored", "size"), tested=("tested", "sum"), with_scores=("scored", "sum"),
        mean_scale_score=("score", "mean"), **{f"c{k}": (f"c{k}", "sum") for k in range(1, N_LEVELS + 1)},
    ).reset_index()
    n = out["with_scores"].where(out["with_scores"] > 0)
    for k in range(1, N_LEVELS + 1):
        out[f"pct_level_{k}"] = round_half_up(100 * out.pop(f"c{k}") / n, decimals)
    return out[[*by, "enrolled", "tested", "with_scores", *PCT_COLS, "mean_scale_score"]]


def write_students(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write the records as Parquet (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


# ---------------------------------------------------------------- a TOMS Student Score Data File


SB_TESTS = (1, 2)
LEXILE = (2.0, 2050.0)    # illustrative: Lexile ≈ 2 × (ELA scale score − 2050), rounded to 5 (no MetaMetrics link)
QUANTILE = (2.1, 2130.0)  # illustrative: Quantile ≈ 2.1 × (math scale score − 2130), rounded to 5
DOMAIN_BASE = {1: 1, 2: 2, 3: 2, 4: 3}  # CAST domain level (1 Below, 2 Near, 3 Above) around the overall level
LAST_NAMES = ("Quillfeather", "Marrowind", "Thistlecombe", "Brackenridge", "Ollivant", "Peregrine")
FIRST_NAMES = ("Avel", "Brisa", "Corin", "Dalia", "Emrys", "Farah")


def add_score_details(frame: pd.DataFrame, tables: Sequence[CutTable] | None = None,
                      seed: int = 0) -> pd.DataFrame:
    """The fields a Student Score Data File adds to the records: SB error bands (score ± SEM within
    LOSS–HOSS), illustrative Lexile (ELA) and Quantile (math) measures, CAST domain levels; SEM is kept
    for SB only (the layout's SEM and error band are SB-only fields, facts §4f)."""
    tables = list(tables) if tables is not None else cutting.load_all()
    rng = np.random.default_rng(seed)
    out = frame.copy()
    scored = out["scale_score"].notna()
    sb = out["test_id"].isin(SB_TESTS)
    out["sem"] = out["sem"].where(sb)
    lo = np.full(len(out), np.nan)
    hi = np.full(len(out), np.nan)
    for (test, year, grade), idx in out[scored & sb].groupby(["test_id", "year", "grade"]).indices.items():
        g = cutting.find(tables, test, year).for_grade(grade)
        rows = np.flatnonzero((scored & sb).to_numpy())[idx]
        x, s = out["scale_score"].to_numpy()[rows], out["sem"].to_numpy()[rows]
        lo[rows], hi[rows] = np.maximum(g.loss, x - s), np.minimum(g.hoss, x + s)
    out["error_band_min"], out["error_band_max"] = lo, hi
    x = out["scale_score"]
    round5 = lambda v: (5 * np.round(v / 5)).astype("Int64")  # noqa: E731
    out["lexile"] = round5(LEXILE[0] * (x - LEXILE[1])).where(scored & out["test_id"].eq(1))
    out["quantile"] = round5(QUANTILE[0] * (x - QUANTILE[1])).where(scored & out["test_id"].eq(2))
    cast = (scored & out["test_id"].eq(17)).to_numpy()
    base = out["achievement_level"].map(DOMAIN_BASE).fillna(0).to_numpy(dtype=np.int64)
    for k in (1, 2, 3):
        level = np.clip(base + rng.choice([-1, 0, 1], size=len(out), p=[0.2, 0.6, 0.2]), 1, 3)
        out[f"domain_{k}_level"] = pd.Series(level, index=out.index, dtype="Int64").where(cast)
    return out


def _measure_text(values: pd.Series, suffix: str, below: str) -> pd.Series:
    v = values.astype("Int64")
    text = v.abs().astype(str) + suffix
    return text.where(v >= 0, below + text).where(v.notna(), "")


def _whole(values: pd.Series, width: int = 0) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{int(v):0{width}d}")


def write_student_file(frame: pd.DataFrame, path: Path | str, dialect: str = "camel") -> Path:
    """Write student × test records as a caret-delimited TOMS Student Score Data File with a header row
    in one dialect of params/student_file.yml (``camel``, ``spaced``, ``w401``): every column of that
    header in its order, the mapped fields filled from the records, plausible CALPADS fields (grade,
    district and school codes, race flags, test dates), invented names and birth dates, blanks elsewhere."""
    from helpers.ingest import student_file

    d = student_file.dialect(dialect)
    lay = student_file.layout()
    f = d.fields
    n, year = len(frame), frame["year"].astype(int)
    ssid = frame["ssid"].astype(str)
    tested = frame["include_indicator"].isin(["Y", "T", "R"])
    pick = ssid.str[-6:].astype(int)
    record_of = {v: k for k, v in lay.record_types.items()}
    code_of = {v: k for k, v in lay.race_codes.items()}
    yes_no = lambda col: frame[col].map({True: "Yes", False: "No"}).fillna("")  # noqa: E731
    grade = _whole(frame["grade"], 2)
    values: dict[str, pd.Series | str] = {
        "record_type": frame["test_id"].map(record_of), "ssid": ssid,
        "last_name": pick.map(lambda i: LAST_NAMES[i % len(LAST_NAMES)]),
        "first_name": pick.map(lambda i: FIRST_NAMES[i // 7 % len(FIRST_NAMES)]), "middle_name": "",
        "birth_date": (year - frame["grade"] - 6).astype(str) + "-" + (pick % 12 + 1).map("{:02d}".format)
                      + "-" + (pick % 28 + 1).map("{:02d}".format),
        "sex": frame["sex"].map(lambda s: d.writer["sex"].get(s, s)),
        "calpads_grade": grade, "grade": grade, "district_code": frame["lea_cds"],
        "school_code": frame["cds"].where(frame["school_code"] != "0000000", ""), "charter_indicator": "",
        "el_status": frame["el_status"], "race": _whole(frame["race"].map(code_of)),
        "condition_code": frame["condition_code"], "attemptedness": frame["attemptedness"],
        "score_status": frame["score_status"], "include_indicator": frame["include_indicator"],
        "test_mode": tested.map({True: "O", False: ""}),
        "window_start": year.astype(str) + "-03-13", "window_end": year.astype(str) + "-06-09",
        "scale_score": _whole(frame["scale_score"]), "sem": _whole(frame["sem"], 4),
        "achievement_level": _whole(frame["achievement_level"]),
        "uin": pd.Series(np.arange(1, n + 1), index=frame.index).map("{:016d}".format), "end_of_record": "ZZ",
    }
    completed = (year.astype(str) + "-04-" + (pick % 15 + 10).astype(str)).where(tested, "")
    values["test_completed"] = values["final_completed"] = completed
    for flag in FLAG_P:
        values[flag] = values[f"{flag}_calpads"] = yes_no(flag)
    for gid in RACE_P:
        values[f"race_{gid}"] = frame["race"].eq(gid).map({True: "Yes", False: "No"})
    for col in ("error_band_min", "error_band_max", "domain_1_level", "domain_2_level", "domain_3_level"):
        if col in frame:
            values[col] = _whole(frame[col])
    if "lexile" in frame:
        values["lexile_quantile"] = _measure_text(frame["lexile"], "L", "BR").where(
            frame["lexile"].notna(), _measure_text(frame["quantile"], "Q", "EM"))
    columns = {name: "" for name in d.columns}
    for tidy, value in values.items():
        if tidy in f:
            columns[f[tidy]] = value
    table = pd.DataFrame(columns, index=frame.index)[list(d.columns)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=d.writer["encoding"], newline="") as out:
        out.write(d.delimiter.join(d.columns) + "\n")
        table.to_csv(out, sep=d.delimiter, header=False, index=False, lineterminator="\n",
                     quoting=csv.QUOTE_NONE)
    return path


# ---------------------------------------------------------------- a large synthetic district


DISTRICT_SPANS = ((3, 4, 5), (6, 7, 8), (11,))  # elementary, middle and high schools, in turn
DISTRICT_LEVELS = (0.30, 0.25, 0.25, 0.20)  # the district's share of students at each level
DISTRICT_TESTED = (0.97, 0.99)  # tested / enrolled, with scores / tested


def district_rows(cds: str, n_schools: int, n_students: int, year: int, tables: Sequence[CutTable],
                  tests: Sequence[int] = SB_TESTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Published-style LEA rows (test × grade) and school rows of an invented district: `n_schools`
    schools (elementary, middle and high in turn) sharing `n_students` students evenly, every student
    enrolled for each of `tests`; `DISTRICT_LEVELS` of the scored students at each level, mean scale
    score from the level mid-points."""
    per_school = np.full(n_schools, n_students // n_schools) + (np.arange(n_schools) < n_students % n_schools)
    school_rows = []
    for i, size in enumerate(per_school):
        grades = DISTRICT_SPANS[i % len(DISTRICT_SPANS)]
        for grade, enrolled in zip(grades, largest_remainder(int(size), np.ones(len(grades)))):
            tested = int(round(enrolled * DISTRICT_TESTED[0]))
            school_rows += [{"cds": f"{cds[:7]}{6_000_001 + i:07d}", "test_id": t, "grade": grade,
                             "enrolled": int(enrolled), "tested": tested,
                             "with_scores": int(round(tested * DISTRICT_TESTED[1]))} for t in tests]
    schools = pd.DataFrame(school_rows)
    own = schools.groupby(["test_id", "grade"], as_index=False)[["enrolled", "tested", "with_scores"]].sum()
    own["cds"] = cds
    decimals = pct_decimals(year)
    for k in range(N_LEVELS):
        own[PCT_COLS[k]] = 0.0
    own["mean_scale_score"] = 0.0
    for i, row in own.iterrows():
        counts = largest_remainder(int(row["with_scores"]), np.asarray(DISTRICT_LEVELS))
        own.loc[i, PCT_COLS] = round_half_up(100 * counts / counts.sum(), decimals)
        g = cutting.find(tables, int(row["test_id"]), year).for_grade(int(row["grade"]))
        edges = [g.loss, *g.cuts, g.hoss + 1]
        mids = [(edges[k] + edges[k + 1] - 1) / 2 for k in range(N_LEVELS)]
        own.loc[i, "mean_scale_score"] = round(float(np.dot(counts, mids) / counts.sum()), 1)
    return own, schools


def district(cds: str = "01999990000000", n_schools: int = 60, n_students: int = 40_000, year: int = 2022,
             seed: int = 0, tables: Sequence[CutTable] | None = None) -> pd.DataFrame:
    """Student × test records (ELA and mathematics) of an invented district of `n_schools` schools and
    `n_students` students (`district_rows`), made as `students_for_lea` makes a real LEA's."""
    tables = list(tables) if tables is not None else cutting.load_all()
    own, schools = district_rows(cds, n_schools, n_students, year, tables)
    rng = np.random.default_rng(seed)
    plan = _plan(own, schools, cds)
    rec = _records(plan, *_roster(plan, rng))
    rec = _scores(rec, own, lambda t: cutting.find(tables, t, year), year, rng)
    return _finish(rec, cds, year, tables, rng)
