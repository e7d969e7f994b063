"""A statewide, research-file-shaped **synthetic** CAASPP data set, for scale tests and benchmarks.

``generate(entities_path, out_dir)`` writes, for every entity of a (real) entities file — the state,
counties, districts, schools and charters — the files CDE publishes for a 2021–2023 administration, in
the exact era-C caret layout (`docs/caaspp-facts.md` §4b; header names and order as the real
2022 SB and 2021 CAST research files in ``data/sample/research``):

- ``sb_ca{year}_all_synthetic_v1.txt``: Smarter Balanced ELA (Test ID 1) and math (2), Test Type ``B``;
- ``cast_ca{year}_all_synthetic_v1.txt``: CAST (17), Test Type ``X``, with grade 14 "All High School";
- ``sb_ca{year}entities_csv.txt``: the entities file itself (original bytes), so
  ``helpers.ingest.build.ingest([out_dir], store)`` reads the folder directly.

For 2017–2019 the same numbers are written in that era's comma-delimited, quoted layout: the SB file
with the headers of the real 2017 and 2018 files (``Subgroup ID``, ``Test Id``, no Type ID), the CAST
file (2019 only) with the CAST 2019 header of facts §4b (``Demographic ID``; columns in their own order),
and the entities file in the 2015–2019 layout (``Type Id``). The suppression rule is the year's.

Every number is made up; only entity codes, names and Type IDs come from the entities file.

The model (integer counts are the ground truth; everything shown is computed from them):

- *Schools* (Type ID 7, 9, 10) get a grade span from name heuristics ("Elementary" → 3–5 or 3–6,
  "Middle"/"Junior High" → 6–8, "High" → 11, "K-8", continuation/community-day/district-program
  schools small, preschools/adult schools none, others drawn at random) and a log-normal size per
  grade; CAST is taken in grades 5, 8 and 10/11/12 (grade 14 = 10 + 11 + 12).
- Enrolled → tested → with scores are binomial draws; the with-scores students fall into the four
  levels by an ordinal-logit model whose per-grade thresholds are the real statewide level mix
  (2022 SB state rows of ``data/sample/research``, 2021 CAST) shifted once per test so the expected
  statewide percent met or exceeded equals the published 2023 figure (ELA 46.7, math 34.6, CAST 30.2;
  facts §6a); schools vary around it (a school effect, correlated with its share of socioeconomically
  disadvantaged students).
- Each level has a mean scale score drawn (integer) inside the level's own score range for the test
  year (``params/cuts``: LOSS … first cut − 1, …, last cut … HOSS; facts §1, §2a), so every mean lies in
  [LOSS, HOSS] and is consistent with the level mix; a row's mean is Σ count × level mean ÷ count.
- Student groups (``params/student_groups.yml``): each student field (sex, EL status, SED, disability,
  race, migrant, homeless, foster, military) has per-school category shares (Dirichlet around state
  shares); every count cell of All Students (not tested, tested without a score, level 1–4) is split
  into the field's categories by binomial thinning, tilted by level so groups show realistic gaps. A
  group's counts are therefore binomial shares of All Students (small groups get suppressed), never
  exceed All Students, and complementary groups (Male + Female, SED + not SED, …) add up exactly.
  A group row exists only where the group has ≥ 1 enrolled student (the real file's sparsity).
- Areas (SB claims) and CAST domains: per row, Above/Near/Below counts drawn from the row's level
  counts; math has areas 1–3 (area 4 shows 0.00, as in the real files).
- District rows are exact sums of their schools (Type 7 and 10); direct-funded charters (Type 9) are
  their own LEA and are *not* in their authorising district (as in the real 2022 Del Norte rows);
  county = its districts + its direct-funded charters; state = the counties. Grade 13 = sum over the
  grades (CAST: 5, 8, 10, 11, 12) with an empty mean; the "Total Tested … at Reporting Level" columns
  are the entity × group × test all-grades (grade 13) tested and with-scores counts.
- Shown values: percentages = round-half-up(100 × count ÷ with scores, 2), Met and Above from the
  level 3 + 4 counts, mean to 1 decimal; suppression by the year's rule of ``params/suppression.yml``
  (2021+: counts 1–3 → ``*``; results with 1–10 students with scores → ``*``; areas/domains under 30 →
  ``*``; 2015–2019: every count and result of 1–10 → ``*``); 0 with scores → blank results.

Vectorised numpy (one ``np.random.Generator`` seeded by ``seed``: same seed → byte-identical files) and
pyarrow string kernels; written in chunks.
"""

from __future__ import annotations

import gzip
import io
import re
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core import cuts, params
from helpers.ingest.layouts import RESULTS_ALIASES

SB_TESTS = (1, 2)
CAST_TESTS = (17,)
SB_GRADES = (3, 4, 5, 6, 7, 8, 11)
CAST_GRADES = (5, 8, 10, 11, 12)
CAST_HS = (10, 11, 12)
ALL_GRADES, ALL_HS = 13, 14
TEST_TYPE = {1: "B", 2: "B", 17: "X"}

_ID = ["County Code", "District Code", "School Code", "Filler", "Test Year", "Student Group ID", "Test Type",
       "Total Tested at Reporting Level", "Total Tested with Scores at Reporting Level", "Grade", "Test ID",
       "Students Enrolled", "Students Tested", "Mean Scale Score", "Percentage Standard Exceeded",
       "Percentage Standard Met", "Percentage Standard Met and Above", "Percentage Standard Nearly Met",
       "Percentage Standard Not Met", "Students with Scores"]
# The 2022 SB and 2021 CAST research-file headers (data/sample/research), names and order exactly.
SB_HEADER = tuple(_ID + [f"Area {a} Percentage {b} Standard" for a in (1, 2, 3, 4)
                         for b in ("Above", "Near", "Below")] + ["Type ID"])
CAST_HEADER = tuple(_ID + [f"{d} Domain Percent {b} Standard"
                           for d in ("Life Sciences", "Physical Sciences", "Earth and Space Sciences")
                           for b in ("Below", "Near", "Above")] + ["Type ID"])

# 2017–2019 (era B): comma-delimited, quoted except these fields, no Type ID (the real 2017 and 2018 SB files
# in ../shared/data/caaspp/research; CAST 2019: facts §4b, as tests/test_ingest.py's B_CAST_HEADER).
FIRST_ERA_B, LAST_ERA_B = 2017, 2019
ERA_B_BARE = ("Filler", "Test Year", "Subgroup ID", "Demographic ID", "Grade")
SB_HEADER_B = tuple(["County Code", "District Code", "School Code", "Filler", "Test Year", "Subgroup ID",
                     "Test Type", "Total Tested At Entity Level", "Total Tested with Scores", "Grade", "Test Id",
                     "CAASPP Reported Enrollment"] + _ID[12:] + list(SB_HEADER[20:-1]))
CAST_HEADER_B = tuple(["County Code", "District Code", "School Code", "Filler", "Test Year", "Demographic ID",
                       "Test Type", "Total Number Tested at Entity Level and Demographic",
                       "Total Number Tested with Valid Scores at this Demographic", "Grade", "Test Id",
                       "CAST Reported Enrollment", "Total Number of Students Tested",
                       "Total Number of Students with Valid Scores"] + _ID[13:19] + list(CAST_HEADER[20:-1]))
ENTITY_HEADER_B = ("County Code", "District Code", "School Code", "Filler", "Test Year", "Type Id", "County Name",
                   "District Name", "School Name", "Zip Code")

# Published statewide percent Standard Met or Exceeded, 2023 (facts §6a: CDE 2023 FAQ, release #24-46).
STATE_TARGET = {1: 46.7, 2: 34.6, 17: 30.2}
# Level mix by grade, % (Not Met, Nearly Met, Met, Exceeded): the real 2022 SB state rows and the real
# 2021 CAST state rows in data/sample/research; only their shape is used (shifted to STATE_TARGET).
PROFILE = {
    1: {3: (35.25, 22.58, 19.40, 22.77), 4: (35.57, 20.21, 20.72, 23.50), 5: (32.63, 20.28, 25.65, 21.44),
        6: (29.55, 25.35, 28.05, 17.06), 7: (27.92, 22.86, 31.75, 17.47), 8: (28.01, 25.35, 30.84, 15.80),
        11: (23.59, 21.61, 29.19, 25.61)},
    2: {3: (34.37, 22.13, 24.40, 19.11), 4: (33.30, 28.45, 21.55, 16.71), 5: (42.91, 25.53, 14.62, 16.94),
        6: (40.57, 26.96, 16.02, 16.44), 7: (42.41, 25.55, 16.49, 15.55), 8: (48.02, 22.75, 13.37, 15.87),
        11: (51.76, 21.26, 15.13, 11.84)},
    17: {5: (21.93, 48.32, 19.80, 9.94), 8: (21.02, 51.96, 18.10, 8.92), 10: (10.40, 54.80, 23.22, 11.59),
         11: (13.87, 54.63, 24.27, 7.22), 12: (14.32, 58.14, 21.84, 5.70)},
}
# Tested ÷ enrolled (2022 SB state rows) and with scores ÷ tested.
TESTED_RATE = {1: {3: .973, 4: .974, 5: .975, 6: .971, 7: .964, 8: .960, 11: .908},
               2: {3: .977, 4: .977, 5: .977, 6: .972, 7: .965, 8: .960, 11: .902},
               17: {5: .965, 8: .955, 10: .90, 11: .85, 12: .80}}
WITH_RATE = {1: .9993, 2: .9992, 17: .995}
# CAST high school: share of a school's grade-11 cohort "enrolled" for CAST in grade 10 / 11 / 12.
CAST_HS_ENROLLED = {10: .03, 11: .72, 12: .45}
# Where in its level's score range a level's mean sits (0 = bottom, 1 = top).
LEVEL_MEAN_AT = (0.74, 0.50, 0.48, 0.25)
# Level tilt of group membership, per count cell: not tested, tested without a score, levels 1–4.
CELL_Z = np.array([-0.5, -1.0, -1.5, -0.5, 0.5, 1.5])

# Area/domain band probabilities by level (rows: level 1..4); columns in header order.
_SB_AREA = np.array([[.01, .31, .68], [.04, .66, .30], [.19, .74, .07], [.62, .37, .01]])  # above, near, below
_SB_AREA_SHIFT = (np.array([1.0, 1.0, 1.0]), np.array([.85, 1.05, 1.05]), np.array([.75, 1.15, .8]),
                  np.array([.95, 1.0, 1.02]))
_CAST_DOMAIN = np.array([[.74, .25, .01], [.38, .57, .05], [.10, .64, .26], [.02, .40, .58]])  # below, near, above
_CAST_SHIFT = (np.array([.95, 1.0, 1.1]), np.array([1.05, 1.0, .9]), np.array([1.0, 1.0, 1.0]))


@dataclass(frozen=True)
class Field:
    """One student field: categories, statewide shares, per-school spread (Dirichlet κ), level tilt."""

    categories: tuple
    shares: tuple[float, ...]
    kappa: float
    gaps: dict  # test id (0 = any) → per-category tilt


FIELDS: dict[str, Field] = {
    "sex": Field(("M", "F"), (.512, .488), 400, {1: (-.10, .10), 2: (.02, -.02), 0: (0., 0.)}),
    "el_status": Field(("EO", "IFEP", "RFEP", "EL", "TBD"), (.55, .05, .21, .18, .01), 8,
                       {0: (0., .35, .25, -.85, -.30)}),
    "sed": Field((True, False), (.63, .37), 4, {0: (-.30, .30)}),
    "disability": Field((True, False), (.13, .87), 60, {0: (-.70, .10)}),
    "race": Field((74, 75, 76, 77, 78, 79, 80, 144, None),
                  (.05, .005, .10, .025, .56, .005, .20, .045, .01), 3,
                  {0: (-.35, -.30, .50, .25, -.15, -.20, .25, .20, 0.)}),
    "migrant": Field((True, False), (.015, .985), 15, {0: (-.35, 0.)}),
    "homeless": Field((True, False), (.035, .965), 15, {0: (-.30, 0.)}),
    "foster": Field((True, False), (.004, .996), 50, {0: (-.50, 0.)}),
    "military": Field((True, False), (.012, .988), 10, {0: (.10, 0.)}),
}

# School kinds: SB grades, median students per grade, log-normal spread.
KINDS = {
    "none": ((), 0, 0),
    "elem35": ((3, 4, 5), 66, .45),
    "elem36": ((3, 4, 5, 6), 58, .45),
    "middle": ((6, 7, 8), 235, .55),
    "jhigh": ((7, 8), 235, .55),
    "high": ((11,), 215, .70),
    "k8": ((3, 4, 5, 6, 7, 8), 40, .60),
    "k12": ((3, 4, 5, 6, 7, 8, 11), 24, .80),
    "small_high": ((11,), 25, .50),
    "alt": ((6, 7, 8, 11), 4, .60),
    "program": ((3, 4, 5, 6, 7, 8, 11), 3, .60),
}
KIND_NAMES = tuple(KINDS)
# Name patterns, first match wins (case-insensitive).
_NAME_RULES = (
    ("none", r"preschool|pre-school|\badult\b|infant|child development|head start"
             r"|early (?:childhood|learning|education)"),
    ("program", r"district level program|special education|\bspecial ed\b|non-?public"),
    ("alt", r"community day|juvenile|\bcourt\b|opportunity|detention|probation|\bcamp\b"),
    ("small_high", r"continuation|alternative"),
    ("k12", r"\bt?k-12\b|\bk ?- ?12\b"),
    ("k8", r"\bt?k-8\b|\bk8\b|\bk ?- ?8\b"),
    ("jhigh", r"junior high|\bjr\.? high|intermediate"),
    ("middle", r"\bmiddle\b"),
    ("high", r"\bhigh\b|early college|\bhs\b"),
    ("elem", r"elementary|primary|\belem\b"),
)
_RANDOM_CHARTER = {"elem35": .12, "elem36": .12, "middle": .15, "high": .22, "k8": .22, "k12": .17}
_RANDOM_SCHOOL = {"elem35": .45, "elem36": .20, "middle": .08, "jhigh": .02, "high": .08, "k8": .12, "k12": .05}
_CHARTERISH = r"academy|prep|charter|virtual|online|\bhome\b|learning|independent|leadership|college"


# ---------------------------------------------------------------- entities


def read_entities(path: Path) -> tuple[bytes, pd.DataFrame]:
    """The entities file's original bytes (gunzipped if needed) and its rows as text, in file order."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("cp1252")
    frame = pd.read_csv(io.StringIO(text), sep="^", dtype=str, keep_default_na=False, quoting=3)
    frame.columns = [c.strip() for c in frame.columns]
    need = {"County Code", "District Code", "School Code", "Test Year", "Type ID", "School Name"}
    if not need <= set(frame.columns):
        raise ValueError(f"{path}: not a 2021+ caret entities file (needs {sorted(need)})")
    return raw, frame


@dataclass
class Entities:
    cc: np.ndarray
    dd: np.ndarray
    ss: np.ndarray
    type_id: np.ndarray
    rank: np.ndarray      # position in CDS order
    lea: np.ndarray       # the LEA a leaf sums into (its district; itself for Type 9)
    county: np.ndarray
    state: int
    leaves: np.ndarray    # entity indices of schools/charters (Type 7, 9, 10)
    names: np.ndarray


def _entities(frame: pd.DataFrame) -> Entities:
    cc = frame["County Code"].str.strip().str.zfill(2).to_numpy(dtype=object)
    dd = frame["District Code"].str.strip().str.zfill(5).to_numpy(dtype=object)
    ss = frame["School Code"].str.strip().str.zfill(7).to_numpy(dtype=object)
    type_id = frame["Type ID"].astype(int).to_numpy()
    cds = pd.Series(cc + dd + ss)
    if cds.duplicated().any():
        raise ValueError(f"duplicate entity {cds[cds.duplicated()].iloc[0]} in the entities file")
    index = pd.Series(np.arange(len(cds)), index=cds)
    district = pd.Series(cc + dd + "0000000").map(index)
    county = pd.Series(cc + "000000000000").map(index)
    states = np.flatnonzero(type_id == 4)
    if len(states) != 1:
        raise ValueError("the entities file needs exactly one state row (Type ID 4)")
    if county[type_id != 4].isna().any():
        i = int(np.flatnonzero(county.isna().to_numpy() & (type_id != 4))[0])
        raise ValueError(f"entity {cds[i]} has no county row in the entities file")
    own = np.arange(len(cds))
    lea = np.where(np.isin(type_id, (7, 10)) & district.notna().to_numpy(),
                   district.fillna(-1).to_numpy().astype(np.int64), own)
    order = np.argsort(cds.to_numpy().astype(str), kind="stable")
    rank = np.empty(len(cds), dtype=np.int64)
    rank[order] = np.arange(len(cds))
    return Entities(cc, dd, ss, type_id, rank, lea, county.fillna(states[0]).to_numpy().astype(np.int64),
                    int(states[0]), np.flatnonzero(np.isin(type_id, (7, 9, 10))),
                    frame["School Name"].str.strip().to_numpy(dtype=object))


def school_kinds(names: Sequence[str], type_id: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A kind (key of KINDS) per school from its name; unrecognised names draw one at random."""
    names = pd.Series(list(names), dtype=object).fillna("")
    kind = np.full(len(names), "", dtype=object)
    for label, pattern in _NAME_RULES:
        hit = (kind == "") & names.str.contains(pattern, flags=re.I, regex=True).to_numpy()
        kind[hit] = label
    elem = kind == "elem"
    kind[elem] = np.where(rng.random(elem.sum()) < .7, "elem35", "elem36")
    middle = kind == "middle"
    kind[middle] = np.where(rng.random(middle.sum()) < .85, "middle", "jhigh")
    charterish = np.isin(type_id, (9, 10)) | names.str.contains(_CHARTERISH, flags=re.I, regex=True).to_numpy()
    for mask, weights in (((kind == "") & charterish, _RANDOM_CHARTER), ((kind == "") & ~charterish, _RANDOM_SCHOOL)):
        labels, p = list(weights), np.array(list(weights.values()))
        kind[mask] = np.array(labels, dtype=object)[rng.choice(len(labels), size=int(mask.sum()), p=p / p.sum())]
    return kind


# ---------------------------------------------------------------- student groups


def load_groups(params_dir: Path | None = None) -> dict[int, params.GroupModel]:
    return params.student_groups(params_dir).groups


def _group_specs(groups: Iterable[int] | None, params_dir: Path | None) -> list[tuple[int, str | None, tuple]]:
    """(id, field, category indices) per requested group, in ascending id order."""
    known = load_groups(params_dir)
    wanted = sorted(known) if groups is None else sorted({int(g) for g in groups})
    specs = []
    for gid in wanted:
        if gid not in known:
            raise ValueError(f"student group {gid} is not in params/student_groups.yml "
                             f"(known: {', '.join(map(str, sorted(known)))})")
        spec = known[gid]
        field = spec.field
        if field is None:
            specs.append((gid, None, ()))
            continue
        if field not in FIELDS:
            raise ValueError(f"student group {gid}: field {field!r} has no synthetic model")
        cats = FIELDS[field].categories
        idx = []
        for value in spec.values:
            if value not in cats:
                raise ValueError(f"student group {gid}: value {value!r} is not a category of {field}")
            idx.append(cats.index(value))
        specs.append((gid, field, tuple(idx)))
    if not specs:
        raise ValueError("no student groups requested")
    return specs


# ---------------------------------------------------------------- the model

# A typical statewide mix of All Students' count cells (not tested, no score, levels 1..4).
_TYPICAL_CELLS = np.array([.035, .001, .35, .23, .21, .17])


def effective_shares(f: Field) -> np.ndarray:
    """Category shares before the level tilt, so that after it the statewide shares are ≈ f.shares."""
    target = np.asarray(f.shares, dtype=float)
    w = np.exp(np.asarray(f.gaps[0])[:, None] * CELL_Z[None, :])     # (C, 6)
    pi = target.copy()
    for _ in range(50):
        cond = pi[:, None] * w
        marginal = (cond / cond.sum(axis=0, keepdims=True)) @ _TYPICAL_CELLS
        pi = pi * target / marginal
        pi /= pi.sum()
    return pi


@dataclass
class Schools:
    """Per-leaf attributes (index = position in Entities.leaves)."""

    kind: np.ndarray
    enrolled: np.ndarray          # (n_leaf, 13): SB enrolment by grade (0..12)
    theta: np.ndarray             # (n_leaf,) school achievement effect (logit)
    theta_test: dict              # test → (n_leaf,) deviation
    participation: np.ndarray     # (n_leaf,) logit shift of tested ÷ enrolled
    shares: dict                  # field → (n_leaf, n_categories)


def _schools(ent: Entities, rng: np.random.Generator) -> Schools:
    n = len(ent.leaves)
    kind = school_kinds(ent.names[ent.leaves], ent.type_id[ent.leaves], rng)
    enrolled = np.zeros((n, 13), dtype=np.int64)
    size = np.zeros(n)
    for label in KIND_NAMES:
        grades, median, sigma = KINDS[label]
        at = kind == label
        if not grades or not at.any():
            continue
        size[at] = median * np.exp(sigma * rng.standard_normal(at.sum()))
        for g in grades:
            lam = size[at] * np.exp(.08 * rng.standard_normal(at.sum()))
            enrolled[at, g] = rng.poisson(lam)
    shares = {}
    for name, f in FIELDS.items():
        alpha = f.kappa * effective_shares(f)
        draw = rng.dirichlet(alpha, size=n)
        shares[name] = draw / np.maximum(draw.sum(axis=1, keepdims=True), 1e-300)
    sed = shares["sed"][:, 0]
    theta = -2.0 * (sed - FIELDS["sed"].shares[0]) + .55 * rng.standard_normal(n)
    theta_test = {t: .25 * rng.standard_normal(n) for t in SB_TESTS + CAST_TESTS}
    participation = .5 * rng.standard_normal(n)
    return Schools(kind, enrolled, theta, theta_test, participation, shares)


def _cells(sch: Schools, test: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(leaf, grade, enrolled) of every leaf × grade with ≥ 1 enrolled student for one test."""
    leaves, grades, enrolled = [], [], []
    n = len(sch.kind)
    if test in SB_TESTS:
        for g in SB_GRADES:
            leaves.append(np.arange(n)); grades.append(np.full(n, g)); enrolled.append(sch.enrolled[:, g])
    else:
        for g in (g for g in CAST_GRADES if g not in CAST_HS):
            leaves.append(np.arange(n)); grades.append(np.full(n, g)); enrolled.append(sch.enrolled[:, g])
        for g in CAST_HS:
            leaves.append(np.arange(n)); grades.append(np.full(n, g))
            enrolled.append(rng.binomial(sch.enrolled[:, 11], CAST_HS_ENROLLED[g]))
    leaf, grade, enr = (np.concatenate(x) for x in (leaves, grades, enrolled))
    keep = enr > 0
    order = np.lexsort((grade[keep], leaf[keep]))
    return leaf[keep][order], grade[keep][order], enr[keep][order]


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1 - p))


def _thresholds(test: int, grade: np.ndarray) -> np.ndarray:
    """(n, 3) ordinal-logit thresholds: logit of the cumulative share at or below levels 1, 2, 3."""
    table = {g: _logit(np.cumsum(np.asarray(p) / sum(p))[:3]) for g, p in PROFILE[test].items()}
    out = np.zeros((len(grade), 3))
    for g, tau in table.items():
        out[grade == g] = tau
    return out


def _level_probs(tau: np.ndarray, theta: np.ndarray) -> np.ndarray:
    cum = _expit(tau - theta[:, None])
    cum = np.maximum.accumulate(cum, axis=1)
    return np.diff(np.c_[np.zeros(len(cum)), cum, np.ones(len(cum))], axis=1)


def _calibrate(tau: np.ndarray, theta: np.ndarray, weight: np.ndarray, target: float) -> float:
    """The shift δ with Σ w·P(level ≥ 3 | θ + δ) ÷ Σ w = target (bisection)."""
    lo, hi = -4.0, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        met = 1 - _expit(tau[:, 1] - theta - mid)
        if np.average(met, weights=weight) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _score_ranges(test: int, year: int, grade: np.ndarray, params_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(n, 4) lowest and highest scale score of each level (LOSS … cut1−1, …, cut3 … HOSS)."""
    table = cuts.find(cuts.load_all(params_dir), test, year)
    lo, hi = np.zeros((len(grade), 4)), np.zeros((len(grade), 4))
    for g in np.unique(grade):
        gc = table.for_grade(int(g))
        bounds = [gc.loss, *gc.cuts]
        lo[grade == g] = bounds
        hi[grade == g] = [c - 1 for c in gc.cuts] + [gc.hoss]
    return lo, hi


@dataclass
class Cells:
    """One test's leaf × grade cells of All Students."""

    test: int
    leaf: np.ndarray
    grade: np.ndarray
    counts: np.ndarray   # (n, 6): not tested, tested without score, level 1..4
    level_mean: np.ndarray  # (n, 4) integer scale score per level


def _all_students(sch: Schools, test: int, year: int, rng: np.random.Generator,
                  params_dir: Path | None) -> Cells:
    leaf, grade, enrolled = _cells(sch, test, rng)
    base = np.zeros(len(grade))
    for g, r in TESTED_RATE[test].items():
        base[grade == g] = _logit(r)
    tested = rng.binomial(enrolled, _expit(base + sch.participation[leaf]))
    with_scores = rng.binomial(tested, WITH_RATE[test])
    tau = _thresholds(test, grade)
    theta = sch.theta[leaf] + sch.theta_test[test][leaf] + .12 * rng.standard_normal(len(leaf))
    delta = _calibrate(tau, theta, with_scores + 1e-9, STATE_TARGET[test] / 100)
    p = _level_probs(tau, theta + delta)
    levels = np.zeros((len(leaf), 4), dtype=np.int64)
    left, p_left = with_scores.copy(), np.ones(len(leaf))
    for k in range(3):
        x = rng.binomial(left, np.clip(p[:, k] / np.maximum(p_left, 1e-12), 0, 1))
        levels[:, k] = x
        left -= x
        p_left -= p[:, k]
    levels[:, 3] = left
    lo, hi = _score_ranges(test, year, grade, params_dir)
    at = np.clip(np.asarray(LEVEL_MEAN_AT) + .05 * rng.standard_normal((len(leaf), 4)), .03, .97)
    level_mean = np.rint(lo + (hi - lo) * at).astype(np.int64)
    counts = np.c_[enrolled - tested, tested - with_scores, levels]
    return Cells(test, leaf, grade, counts, level_mean)


def _split(counts: np.ndarray, shares: np.ndarray, gaps: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Split each count cell into a field's categories (multinomial by sequential binomials), tilted by level."""
    w = np.exp(np.asarray(gaps)[:, None] * CELL_Z[None, :])            # (C, 6)
    prob = shares[:, :, None] * w[None, :, :]                          # (n, C, 6)
    prob /= np.maximum(prob.sum(axis=1, keepdims=True), 1e-300)
    left, p_left = counts.copy(), np.ones(counts.shape)
    out = []
    for c in range(shares.shape[1] - 1):
        x = rng.binomial(left, np.clip(prob[:, c] / np.maximum(p_left, 1e-12), 0, 1))
        out.append(x)
        left = left - x
        p_left = p_left - prob[:, c]
    out.append(left)
    return out


# ---------------------------------------------------------------- rows and sums


# Value columns of a row: enrolled, tested, with scores, level 1..4, then 3 bands × n areas.
ENR, TST, WS, L1 = 0, 1, 2, 3


class Rows:
    """Rows keyed by (entity, group index, test index, grade) packed into one int64."""

    def __init__(self, n_groups: int, n_tests: int):
        self.ng, self.nt = n_groups, n_tests

    def pack(self, ent, g, t, grade):
        return ((ent.astype(np.int64) * self.ng + g) * self.nt + t) * 16 + grade

    def unpack(self, key):
        rest, grade = np.divmod(key, 16)
        rest, t = np.divmod(rest, self.nt)
        ent, g = np.divmod(rest, self.ng)
        return ent, g, t, grade

    def with_entity(self, key, ent):
        return key % (self.ng * self.nt * 16) + ent.astype(np.int64) * (self.ng * self.nt * 16)


def _sum_by(key: np.ndarray, values: np.ndarray, score: np.ndarray):
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return (k[starts], np.add.reduceat(values[order], starts, axis=0, dtype=values.dtype),
            np.add.reduceat(score[order], starts, dtype=np.int64))


def _areas(levels: np.ndarray, n: np.ndarray, test: int, rng: np.random.Generator) -> np.ndarray:
    """(rows, 3 × n_areas) band counts in header order, drawn from each row's level counts."""
    if test == 17:
        tables = [_CAST_DOMAIN * s for s in _CAST_SHIFT]
    else:
        tables = [_SB_AREA * s for s in _SB_AREA_SHIFT[: 4 if test == 1 else 3]]
    out = np.zeros((len(n), 12 if test != 17 else 9), dtype=np.int64)
    safe = np.maximum(n, 1)[:, None]
    for a, table in enumerate(tables):
        table = table / table.sum(axis=1, keepdims=True)
        p = levels @ table / safe                                         # (rows, 3)
        b0 = rng.binomial(n, np.clip(p[:, 0], 0, 1))
        b1 = rng.binomial(n - b0, np.clip(p[:, 1] / np.maximum(p[:, 1] + p[:, 2], 1e-12), 0, 1))
        out[:, 3 * a], out[:, 3 * a + 1], out[:, 3 * a + 2] = b0, b1, n - b0 - b1
    return out


def _leaf_rows(ent: Entities, sch: Schools, tests: Sequence[int], specs, year: int, rng: np.random.Generator,
               rows: Rows, params_dir: Path | None):
    keys, values, scores = [], [], []
    for ti, test in enumerate(tests):
        cells = _all_students(sch, test, year, rng, params_dir)
        splits: dict[str, list[np.ndarray]] = {}
        for _, field, _ in specs:
            if field is not None and field not in splits:
                f = FIELDS[field]
                gaps = f.gaps.get(test, f.gaps[0])
                splits[field] = _split(cells.counts, sch.shares[field][cells.leaf], gaps, rng)
        for gi, (gid, field, idx) in enumerate(specs):
            c = cells.counts if field is None else sum(splits[field][i] for i in idx)
            enrolled = c.sum(axis=1)
            keep = enrolled > 0
            c, lf, gr = c[keep], cells.leaf[keep], cells.grade[keep]
            levels = c[:, 2:]
            with_scores = levels.sum(axis=1)
            v = np.c_[enrolled[keep], with_scores + c[:, 1], with_scores, levels,
                      _areas(levels, with_scores, test, rng)]
            keys.append(rows.pack(ent.leaves[lf], gi, ti, gr))
            values.append(v.astype(np.int32))
            scores.append((levels * cells.level_mean[keep]).sum(axis=1))
    width = max(v.shape[1] for v in values)
    values = [np.pad(v, ((0, 0), (0, width - v.shape[1]))) for v in values]
    return np.concatenate(keys), np.concatenate(values), np.concatenate(scores).astype(np.int64)


def _all_rows(ent: Entities, key, values, score, rows: Rows, cast: bool):
    """Leaf rows → + district, county, state rows → + grade 13 (and 14) rows, and the all-grades totals."""
    e = rows.unpack(key)[0]
    to_district = ent.lea[e] != e
    own = ~to_district
    d = _sum_by(rows.with_entity(key[to_district], ent.lea[e[to_district]]), values[to_district], score[to_district])
    # LEAs: districts, and the leaves that are their own LEA (direct-funded charters)
    lea = (np.concatenate([d[0], key[own]]), np.concatenate([d[1], values[own]]), np.concatenate([d[2], score[own]]))
    c = _sum_by(rows.with_entity(lea[0], ent.county[rows.unpack(lea[0])[0]]), lea[1], lea[2])
    del lea
    s = _sum_by(rows.with_entity(c[0], np.full(len(c[0]), ent.state)), c[1], c[2])
    key = np.concatenate([key, d[0], c[0], s[0]])
    values = np.concatenate([values, d[1], c[1], s[1]])
    score = np.concatenate([score, d[2], c[2], s[2]])
    del d, c, s
    grade = key % 16
    k13, v13, _ = _sum_by(key - grade + ALL_GRADES, values, score)
    parts = [(key, values, score), (k13, v13, np.zeros(len(k13), dtype=np.int64))]  # no mean across grades
    if cast:
        hs = np.isin(grade, CAST_HS)
        parts.append(_sum_by(key[hs] - grade[hs] + ALL_HS, values[hs], score[hs]))
    del key, values, score, grade
    key, values, score = (np.concatenate(x) for x in zip(*parts))
    del parts
    # Total Tested (with Scores) at Reporting Level: the entity × group × test grade-13 counts
    pos = np.searchsorted(k13, key - key % 16 + ALL_GRADES)
    totals = np.c_[v13[pos, TST], v13[pos, WS]]
    return key, values, score, totals


# ---------------------------------------------------------------- formatting


def _strings(v: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(v, type=pa.int64()), pa.string())


def _fixed(num: np.ndarray, den: np.ndarray, decimals: int, factor: int = 1) -> pa.Array:
    """round-half-up(factor × num ÷ den, decimals) as text with exactly `decimals` decimals (den 0 → 0)."""
    scale = factor * 10 ** decimals
    den = np.maximum(den, 1)
    q = (2 * scale * num.astype(np.int64) + den) // (2 * den)
    s = pc.utf8_lpad(_strings(q), width=decimals + 1, padding="0")
    return pc.binary_join_element_wise(pc.utf8_slice_codeunits(s, 0, -decimals),
                                       pc.utf8_slice_codeunits(s, -decimals), ".")


def _mask(values: pa.Array, star: np.ndarray | None = None, blank: np.ndarray | None = None) -> pa.Array:
    if star is not None and star.any():
        values = pc.if_else(pa.array(star), "*", values)
    if blank is not None and blank.any():
        values = pc.if_else(pa.array(blank), "", values)
    return values


def _count(v: np.ndarray, min_count: int) -> pa.Array:
    return _mask(_strings(v), star=(v >= 1) & (v < min_count))


def _format_chunk(ent: Entities, year: int, tests: Sequence[int], group_ids: np.ndarray, rows: Rows,
                  key, values, score, totals, rule, cast: bool, header: Sequence[str]) -> bytes:
    """The rows' lines: every field under its canonical name, written in `header`'s order (caret-delimited;
    comma-delimited and quoted for an era-B header)."""
    e, g, t, grade = rows.unpack(key)
    n = values[:, WS].astype(np.int64)
    no_results = n == 0
    star_results = (n >= 1) & (n < rule.min_results)
    star_area = (n >= 1) & (n < (rule.min_domain if cast else rule.min_area))
    e_idx = pa.array(e)
    test_ids = np.asarray(tests)[t]
    const = lambda s: pa.array(np.full(len(key), s, dtype=object), type=pa.string())
    named = {"county_code": pa.array(ent.cc).take(e_idx), "district_code": pa.array(ent.dd).take(e_idx),
             "school_code": pa.array(ent.ss).take(e_idx), "filler": const(""), "year": const(str(year)),
             "student_group_id": _strings(group_ids[g]), "test_type": const(TEST_TYPE[tests[0]]),
             "total_tested_entity": _count(totals[:, 0], rule.min_count),
             "total_with_scores_entity": _count(totals[:, 1], rule.min_count), "grade": _strings(grade),
             "test_id": _strings(test_ids), "enrolled": _count(values[:, ENR], rule.min_count),
             "tested": _count(values[:, TST], rule.min_count),
             "mean_scale_score": _mask(_fixed(score, n, 1), star=star_results,
                                       blank=no_results | (grade == ALL_GRADES)),
             "with_scores": _count(n, rule.min_count), "type_id": _strings(ent.type_id[e])}
    lv = values[:, L1:L1 + 4].astype(np.int64)
    for name, num in (("pct_level_4", lv[:, 3]), ("pct_level_3", lv[:, 2]), ("pct_met_and_above", lv[:, 2] + lv[:, 3]),
                      ("pct_level_2", lv[:, 1]), ("pct_level_1", lv[:, 0])):
        named[name] = _mask(_fixed(num, n, 2, 100), star=star_results, blank=no_results)
    for j, name in enumerate((CAST_HEADER if cast else SB_HEADER)[20:-1]):
        named[RESULTS_ALIASES[name]] = _mask(_fixed(values[:, L1 + 4 + j].astype(np.int64), n, 2, 100),
                                             star=star_area, blank=no_results)
    cols = [named[RESULTS_ALIASES[h]] for h in header]
    if "Type ID" in header:
        line = pc.binary_join_element_wise(*cols, "^")
    else:
        quote = const('"')
        cols = [c if h in ERA_B_BARE else pc.binary_join_element_wise(quote, c, quote, "") for h, c in zip(header, cols)]
        line = pc.binary_join_element_wise(*cols, ",")
    line = pc.binary_join_element_wise(line, "", "\n")
    return _buffer_bytes(line)


def _buffer_bytes(arr: pa.Array) -> bytes:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start, end = offsets[arr.offset], offsets[arr.offset + len(arr)]
    return arr.buffers()[2].to_pybytes()[start:end]


def _write(path: Path, header: Sequence[str], ent: Entities, year: int, tests: Sequence[int], group_ids, rows,
           key, values, score, totals, rule, cast: bool, chunk: int) -> int:
    e, g, t, grade = rows.unpack(key)
    order = np.lexsort((grade, t, g, ent.rank[e]))
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        era_b = "Type ID" not in header
        fh.write((",".join(f'"{h}"' for h in header) if era_b else "^".join(header)).encode("cp1252") + b"\n")
        for i in range(0, len(order), chunk):
            sel = order[i:i + chunk]
            fh.write(_format_chunk(ent, year, tests, group_ids, rows, key[sel], values[sel], score[sel],
                                   totals[sel], rule, cast, header))
    tmp.replace(path)
    return len(order)


# ---------------------------------------------------------------- entry point


def _entities_copy(raw: bytes, year: int) -> bytes:
    """The entities file's bytes; when `year` differs from its Test Year, that field is rewritten."""
    lines = raw.split(b"\n")
    head = lines[0].rstrip(b"\r").split(b"^")
    col = head.index(b"Test Year")
    out = [lines[0]]
    for ln in lines[1:]:
        if not ln.strip():
            out.append(ln)
            continue
        parts = ln.split(b"^")
        if parts[col] == str(year).encode():
            out.append(ln)
        else:
            parts[col] = str(year).encode()
            out.append(b"^".join(parts))
    return b"\n".join(out)


def _entities_era_b(raw: bytes) -> bytes:
    """A 2021+ caret entities file (same fields in the same order) in the 2015–2019 layout: comma-delimited,
    every field quoted but the empty Filler, the header's "Type ID" spelled "Type Id"."""
    lines = [ln for ln in raw.decode("cp1252").split("\n") if ln.strip()]
    head = [h.strip() for h in lines[0].rstrip("\r").split("^")]
    if tuple("Type Id" if h == "Type ID" else h for h in head) != ENTITY_HEADER_B:
        raise ValueError(f"cannot write a 2015–2019 entities file from a header {head}")
    out = [",".join(f'"{h}"' for h in ENTITY_HEADER_B)]
    for ln in lines[1:]:
        cells = ln.rstrip("\r").split("^")
        out.append(",".join("" if i == 3 and not c else '"' + c.replace('"', '""') + '"' for i, c in enumerate(cells)))
    return ("\n".join(out) + "\n").encode("cp1252")


def generate(entities_path: str | Path, out_dir: str | Path, year: int = 2023, seed: int = 0,
             groups: Iterable[int] | None = None, tests: Sequence[int] = (1, 2, 17),
             max_entities: int | None = None, params_dir: str | Path | None = None,
             suppress: bool = True, chunk_rows: int = 250_000) -> dict:
    """Write the synthetic SB and CAST research files and the entities file into `out_dir`.

    entities_path: a 2021+ caret entities file (plain or .gz), e.g. data/reference/sb_ca2023entities_csv.txt.gz.
    year: 2017–2019 (era B layouts; CAST from 2019) or 2021 on (era C).
    groups: Student Group IDs from params/student_groups.yml (default: all of them).
    tests: any of 1, 2 (→ the sb_ file) and 17 (→ the cast_ file).
    max_entities: use only the first N rows of the entities file (a prefix keeps every parent row).
    suppress: False writes the ground truth (every count and result shown; same draws as suppress=True).
    Returns {"files": {name: data rows}, "rows", "entities", "entities_with_rows", "schools",
    "state_met_and_above": {test: %}, "seconds", "peak_rss_mib"}.
    """
    started = time.perf_counter()
    year = int(year)
    if year < FIRST_ERA_B or year == 2020:
        raise ValueError(f"synthetic files are written for {FIRST_ERA_B}–2019 (era B) and 2021 on (era C), not {year}")
    era_b = year <= LAST_ERA_B
    if era_b and year < 2019:
        tests = tuple(t for t in tests if t in SB_TESTS)  # CAST was first given in 2019
    tests = tuple(int(t) for t in tests)
    unknown = set(tests) - set(SB_TESTS + CAST_TESTS)
    if unknown or not tests:
        raise ValueError(f"tests must be among 1, 2, 17 (got {tests})")
    pdir = Path(params_dir) if params_dir is not None else None
    rule = next(r for r in params.suppression_rules(pdir)
                if r.year_from <= year and (r.year_to is None or year <= r.year_to))
    if not suppress:
        rule = params.SuppressionRule(year, year, 1, 1, 1, 1)
    specs = _group_specs(groups, pdir)
    group_ids = np.array([s[0] for s in specs])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    raw, frame = read_entities(Path(entities_path))
    if max_entities is not None:
        frame = frame.iloc[: int(max_entities)].reset_index(drop=True)
        lines = raw.split(b"\n")
        raw = b"\n".join(lines[: int(max_entities) + 1]) + (b"\n" if len(lines) > int(max_entities) + 1 else b"")
    ent = _entities(frame)
    copy = _entities_copy(raw, year)
    (out / f"sb_ca{year}entities_csv.txt").write_bytes(_entities_era_b(copy) if era_b else copy)

    rng = np.random.default_rng(seed)
    sch = _schools(ent, rng)
    files, state, with_rows = {}, {}, set()
    for name, file_tests, header, cast in (
            (f"sb_ca{year}_all_synthetic_v1.txt", SB_TESTS, SB_HEADER_B if era_b else SB_HEADER, False),
            (f"cast_ca{year}_all_synthetic_v1.txt", CAST_TESTS, CAST_HEADER_B if era_b else CAST_HEADER, True)):
        these = tuple(t for t in file_tests if t in tests)
        if not these:
            continue
        rows = Rows(len(specs), len(these))
        key, values, score = _leaf_rows(ent, sch, these, specs, year, rng, rows, pdir)
        key, values, score, totals = _all_rows(ent, key, values, score, rows, cast)
        files[name] = _write(out / name, header, ent, year, these, group_ids, rows, key, values, score, totals,
                             rule, cast, chunk_rows)
        e, g, t, grade = rows.unpack(key)
        with_rows.update(np.unique(e).tolist())
        if 1 in group_ids:
            at = (e == ent.state) & (group_ids[g] == 1) & (grade == ALL_GRADES)
            for ti, test in enumerate(these):
                v = values[at & (t == ti)][0]
                state[test] = round(100 * (int(v[L1 + 2]) + int(v[L1 + 3])) / max(int(v[WS]), 1), 2)
        del key, values, score, totals
    return {
        "files": files,
        "rows": sum(files.values()),
        "entities": len(frame),
        "entities_with_rows": len(with_rows),
        "schools": len(ent.leaves),
        "groups": len(specs),
        "suppressed": bool(suppress),
        "state_met_and_above": state,
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
