"""Primary and complementary suppression of published tables.

**Two policies.** Numbers read from CDE's public research files (rows with ``source == "published"``) are
public already: by default (policy ``published``) they are shown exactly as CDE published them, with every
``*`` of the file kept and the year's primary rule below applied on top (CDE never publishes a value it
forbids, so on real files this hides nothing more); no complementary suppression is added, since hiding a
public number protects no one. Numbers the book computes itself (from student records: LEA mode, custom
aggregates) always get primary *and* complementary suppression (policy ``complementary``), and a public
book can ask for it on the published rows too (``caaspp-book tables --suppression complementary``). Each
row of the levels table records the policy applied to it (``suppression_policy``).

Published tables are tidy frames, one row ("cell") per year × entity (``cds``) × test × grade ×
student group, with three counts (``enrolled``, ``tested``, ``with_scores``) and the results (mean
scale score, percentage and number of students at each level). Small cells are hidden in two steps.

**Primary suppression.** Following each year's rule in ``params/suppression.yml``, the results of
a cell are hidden when fewer than ``min_results`` students have scores (0 < with scores <
min_results) or when the number with scores is missing, and each count is hidden when it is below
``min_count`` (0 < count < min_count). A zero is not hidden by these rules: it describes no student.

**Why that is not enough.** The same students are counted at several levels of a table, and four
additive relations hold exactly for the students with scores, for every count and for the number of
students at every level (= students with scores × % at the level):

* a district (type 6) is the sum of its schools (type 7) and of the locally funded charters (type 10)
  whose code lies in it, for each year, test, grade and student group (a locally funded charter is part
  of its district although this book also reports it as an LEA; a direct-funded charter, type 9, is not);
* a county (type 5) is the sum of its LEAs: its districts, the county office of education among them
  (type 6), and its direct-funded charters (type 9), which CDE treats as districts; and the state (type 4)
  is the sum of the counties;
* All Grades (grade 13) is the sum of the single grades (3–8 and 11 for Smarter Balanced; 5, 8 and
  10–12 for science); for science, All High School (grade 14) is grades 10 + 11 + 12, and so All
  Grades is also grades 5 + 8 + All High School;
* All Students (group 1) is the sum of the groups of each partition listed in
  ``params/student_groups.yml`` (Male + Female; Socioeconomically disadvantaged + Not; the race and
  ethnicity groups; …), and the nested relations listed there hold as well (IFEP, RFEP and EO = IFEP +
  RFEP + EO; Ever-EL = EL + RFEP; each race = its economically disadvantaged + not disadvantaged groups).

Each relation whose total is in the table is a *constraint*: a total and its children (those present;
a missing child is taken as zero). If exactly one cell of a constraint is hidden, subtraction gives
it back: a hidden child is the total minus the other children, a hidden total the sum of its
children.

**Complementary suppression.** Starting from the primary cells, the algorithm repeats one pass
until no constraint has exactly one hidden cell. In a pass, every constraint with exactly one hidden
cell hides one more of its published cells: the smallest child with students (fewest students with
scores; for a count, the smallest count), ties broken by the row key (year, CDS code, test, grade,
group) so that the result does not depend on the order of the rows; the total only when no child
with students is left to hide; a cell of zero students only as a last resort. All such constraints
are treated in the same pass (when two of them choose the same cell, one extra cell serves both). A
newly hidden cell can leave another constraint — another grade, another school, another group —
with exactly one hidden cell, so passes repeat; as each pass only adds hidden cells, the loop ends
after at most one pass per cell (about a dozen on a statewide table). It works on a sparse incidence
structure of constraints × cells (numpy arrays) and, after the first pass, only on the constraints
of the cells just hidden: a table of a million rows takes a few seconds.

Counts are protected first, each count column with its own values; because with scores ≤ tested ≤
enrolled, a row whose tested count is hidden also hides its number with scores (otherwise the
published enrolled and with-scores counts could pin it down), and a row whose number with scores is
hidden also hides its results (percentages given to two decimals betray their denominator). The
results are then protected with the same passes, starting from the primary cells and the rows whose
number with scores is hidden. Rows already marked ``suppressed`` in the input (a research file's
``*``) stay hidden and keep their reason, so suppressing twice changes nothing.

**Guarantee** (complementary policy). In every constraint, for the results and for each count, the number of hidden cells
is zero or at least two: no hidden value is a total minus published values, or a sum of published
values, within one relation.

**Limits.** This is protection against exact disclosure through any *single* relation. (1) It does
not defend against attacks that combine several relations — a system of linear equations or a
linear programme over a whole table (schools × grades × groups) can bound a hidden cell, and in some
patterns of hidden cells determine it; auditing for that needs a linear-programming check of the
kind done by statistical disclosure control software (e.g. τ-Argus), which this module does not do.
Nor does it protect against intervals: two hidden cells in a relation are known to add up to a
published difference, so each lies between zero and that difference. (2) "Hide the smallest other
cell" is a local heuristic: it keeps the information loss of each step small, but it is not an
optimal (fewest students hidden) pattern, and the cell it picks may itself be small. (3) Only the
relations above, among rows present in the table, are protected; a relation that is not modelled (groups
in no relation of ``params/student_groups.yml``) is not. Counties and the state tie a whole year's table
together, so the complementary policy on published rows is computed on the whole table at once, not in
the bounded-memory chunks of the default. Where a total exceeds the sum of its children (students
reported only at the district level; a state whose other counties are not in the data) the relation
is treated as exact, which can only hide more.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import params

KEY_COLUMNS = ("year", "cds", "lea_cds", "type_id", "test_id", "grade", "student_group_id")
COUNT_COLUMNS = ("enrolled", "tested", "with_scores")
RESULT_PREFIXES = ("mean_scale_score", "sd_scale_score", "sem_mean", "count_level_", "pct_")
ALL_STUDENTS = 1
ALL_GRADES = 13
ALL_HIGH_SCHOOL = 14
HIGH_SCHOOL_GRADES = (10, 11, 12)
STATE_TYPE = 4
COUNTY_TYPE = 5
LEA_TYPE = 6
SCHOOL_TYPE = 7
DIRECT_CHARTER_TYPE = 9  # an LEA of its county, not a school of its district
LOCAL_CHARTER_TYPE = 10  # a school of its district, though this book also reports it as its own LEA
STATE_CDS = "0" * 14

PUBLISHED = "published"  # CDE's values as published: the file's `*` and the primary rule, nothing more
COMPLEMENTARY = "complementary"  # primary and complementary suppression (always for computed numbers)
POLICIES = (PUBLISHED, COMPLEMENTARY)

# the kinds of relation (part of a constraint's identity)
_SCHOOLS, _GRADES, _GROUPS, _COUNTIES, _STATE = 0, 1, 2, 3, 4


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: faster than np.unique's hashing on millions of int64)."""
    v = np.sort(values)
    return v[np.r_[True, v[1:] != v[:-1]]] if v.size else v


@dataclass(frozen=True)
class Constraint:
    """An additive relation: the row `total` is the sum of the rows `children` (index labels)."""

    total: Hashable
    children: tuple[Hashable, ...]


@dataclass(frozen=True, eq=False)
class Incidence:
    """Constraints × cells in sparse form: entry i says that row position `cell[i]` is a member of
    constraint `con[i]` (its total when `is_total[i]`). Entries are ordered by constraint."""

    con: np.ndarray
    cell: np.ndarray
    is_total: np.ndarray
    n_constraints: int

    @classmethod
    def from_pairs(cls, total: np.ndarray, child: np.ndarray, ident: np.ndarray) -> Incidence:
        """From (total position, child position) pairs; `ident` (int64) tells constraints apart
        among pairs with the same total."""
        total, child, ident = (np.asarray(a, dtype=np.int64) for a in (total, child, ident))
        keep = total != child
        total, child, ident = total[keep], child[keep], ident[keep]
        if total.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, np.zeros(0, dtype=bool), 0)
        n = int(max(total.max(), child.max())) + 1
        key = ident * n + total
        by_key = np.argsort(key, kind="stable")
        first = np.r_[True, key[by_key][1:] != key[by_key][:-1]]
        con = np.empty(key.size, dtype=np.int64)
        con[by_key] = np.cumsum(first) - 1
        n_con = int(first.sum())
        totals = total[by_key][first]
        con_c, cell_c = np.divmod(_unique(con * n + child), n)  # drops duplicate children
        con_all = np.concatenate([np.arange(n_con), con_c])
        cell_all = np.concatenate([totals, cell_c])
        is_total = np.concatenate([np.ones(n_con, dtype=bool), np.zeros(con_c.size, dtype=bool)])
        order = np.argsort(con_all, kind="stable")
        return cls(con_all[order], cell_all[order], is_total[order], n_con)

    @classmethod
    def from_constraints(cls, frame: pd.DataFrame, constraints: Iterable[Constraint]) -> Incidence:
        """From Constraint objects whose labels are in `frame.index` (which must be unique)."""
        if not frame.index.is_unique:
            raise ValueError("constraints refer to index labels: the frame's index must be unique")
        total, child, ident = [], [], []
        for i, c in enumerate(constraints):
            total.extend([c.total] * len(c.children))
            child.extend(c.children)
            ident.extend([i] * len(c.children))
        tpos = frame.index.get_indexer(pd.Index(total, dtype=object)) if total else np.zeros(0, np.int64)
        cpos = frame.index.get_indexer(pd.Index(child, dtype=object)) if child else np.zeros(0, np.int64)
        if (tpos < 0).any() or (cpos < 0).any():
            raise KeyError("a constraint refers to a label that is not in the frame's index")
        return cls.from_pairs(tpos, cpos, np.asarray(ident, dtype=np.int64))

    def constraints(self, frame: pd.DataFrame) -> list[Constraint]:
        """The constraints as index labels of `frame`."""
        labels = frame.index
        starts = np.flatnonzero(np.r_[True, self.con[1:] != self.con[:-1]]) if self.con.size else []
        bounds = list(starts) + [self.con.size]
        out = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            cells, tot = self.cell[a:b], self.is_total[a:b]
            out.append(Constraint(labels[cells[tot][0]], tuple(labels[cells[~tot]])))
        return out


# ---------------------------------------------------------------- thresholds and primary


@dataclass(frozen=True)
class GroupRelation:
    """Student group `total` is the sum of groups `parts` (a partition of another group than All Students)."""

    total: int
    parts: tuple[int, ...]


Partition = Sequence[int] | GroupRelation  # a plain sequence partitions All Students


@lru_cache(maxsize=None)
def load_partitions(params_dir: Path | None = None) -> tuple[tuple[int, ...] | GroupRelation, ...]:
    """The `partitions` of params/student_groups.yml: lists of groups that add up to All Students, and
    `{total, parts}` relations of groups that add up to another group."""
    return tuple(GroupRelation(p.total, tuple(p.parts)) if isinstance(p, params.RelationModel) else tuple(p)
                 for p in params.student_groups(params_dir).partitions)


def _total_and_parts(part: Partition) -> tuple[int, list[float]]:
    if isinstance(part, GroupRelation):
        return part.total, [float(g) for g in part.parts]
    return ALL_STUDENTS, [float(g) for g in part]


def _values(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64, NaN where missing."""
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _thresholds(frame: pd.DataFrame, attr: str) -> np.ndarray:
    """Each row's threshold `attr` (min_count, min_results) under its year's rule."""
    years = pd.to_numeric(frame["year"], errors="coerce")
    if years.isna().any():
        raise ValueError("suppression needs a year on every row")
    table = {int(y): float(getattr(params.suppression_rule(int(y)), attr)) for y in pd.unique(years)}
    return years.map(table).to_numpy(dtype=float)


def _small(values: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Missing, or more than zero and below the threshold."""
    return np.isnan(values) | ((values > 0) & (values < threshold))


def primary(frame: pd.DataFrame) -> pd.Series:
    """Results hidden by the year's rule: 0 < with_scores < min_results, or with_scores missing."""
    mask = _small(_values(frame, "with_scores"), _thresholds(frame, "min_results"))
    return pd.Series(mask, index=frame.index, name="primary")


def count_primary(frame: pd.DataFrame, col: str = "tested") -> pd.Series:
    """A count hidden by the year's rule: 0 < count < min_count, or the count missing."""
    mask = _small(_values(frame, col), _thresholds(frame, "min_count"))
    return pd.Series(mask, index=frame.index, name=f"{col}_primary")


# ---------------------------------------------------------------- constraints


class _Keys:
    """The key columns as integer codes (-1 where missing) that sort like the values; CDS codes and
    LEA codes share one coding so that a school's LEA code equals its district's CDS code."""

    def __init__(self, frame: pd.DataFrame):
        self.n = len(frame)
        self.code: dict[str, np.ndarray] = {}
        self.size: dict[str, int] = {}
        self.value: dict[str, np.ndarray] = {}
        for col in ("year", "type_id", "test_id", "grade", "student_group_id"):
            if col in frame:
                values = _values(frame, col)
                codes, uniques = pd.factorize(values, sort=True)
                self.code[col], self.size[col], self.value[col] = codes.astype(np.int64), len(uniques), values
        cds = [c for c in ("cds", "lea_cds") if c in frame]
        columns = {c: frame[c].astype(object) for c in cds}
        if "cds" in frame:  # the district a code belongs to (a locally funded charter's district), its county
            code = frame["cds"].astype(object)
            columns["district"] = code.str[:7] + "0" * 7
            columns["county"] = code.str[:2] + "0" * 12
            columns["state"] = pd.Series(STATE_CDS, index=frame.index, dtype=object)
            cds = [*cds, "district", "county", "state"]
        if cds:
            both = pd.concat([columns[c] for c in cds], ignore_index=True)
            codes, uniques = pd.factorize(both.where(both.notna(), None), sort=True)
            for i, col in enumerate(cds):
                self.code[col] = codes[i * self.n:(i + 1) * self.n].astype(np.int64)
                self.size[col] = len(uniques)

    def has(self, *cols: str) -> bool:
        return all(c in self.code for c in cols)

    def combined(self, cols: Sequence[str]) -> np.ndarray:
        """One int64 per row for the tuple of `cols` (-1 where any is missing)."""
        out = np.zeros(self.n, dtype=np.int64)
        valid = np.ones(self.n, dtype=bool)
        span = 1
        for col in cols:
            code = self.code[col]
            valid &= code >= 0
            if span * (self.size[col] + 1) >= 2**62:  # renumber the tuples so far to stay in int64
                out = pd.factorize(out, sort=True)[0].astype(np.int64)
                span = int(out.max()) + 1 if out.size else 1
            out = out * (self.size[col] + 1) + code
            span *= self.size[col] + 1
        return np.where(valid, out, -1)

    def rank(self) -> np.ndarray:
        """Each row's rank in key order (missing first): the tie-break that makes the choice of
        complementary cells independent of the order of the rows."""
        cols = [c for c in KEY_COLUMNS if c in self.code]
        order = np.lexsort([self.code[c] for c in reversed(cols)]) if cols else np.arange(self.n)
        rank = np.empty(self.n, dtype=np.int64)
        rank[order] = np.arange(self.n, dtype=np.int64)
        return rank


def _match(key: np.ndarray, total: np.ndarray, child: np.ndarray,
           child_key: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(total position, child position) pairs: rows where `child` is true matched to the row where
    `total` is true with the same key (`child_key` for the children if it differs)."""
    child_key = key if child_key is None else child_key
    t = np.flatnonzero(total & (key >= 0))
    c = np.flatnonzero(child & (child_key >= 0))
    if t.size == 0 or c.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(key[t], kind="stable")
    sorted_keys = key[t][order]
    at = np.minimum(np.searchsorted(sorted_keys, child_key[c]), t.size - 1)
    hit = sorted_keys[at] == child_key[c]
    return t[order[at[hit]]], c[hit]


def incidence(frame: pd.DataFrame, partitions: Sequence[Partition] | None = None,
              keys: _Keys | None = None) -> Incidence:
    """Every additive relation among the rows of `frame`, in sparse form (see the module docstring)."""
    if partitions is None:
        partitions = load_partitions()
    k = keys or _Keys(frame)
    entity = [c for c in ("year", "cds", "type_id", "test_id") if c in k.code]
    totals, children, idents = [], [], []

    def add(pair: tuple[np.ndarray, np.ndarray], kind: int, part: int = 0) -> None:
        totals.append(pair[0])
        children.append(pair[1])
        idents.append(np.full(pair[0].size, kind * (len(partitions) + 3) + part, dtype=np.int64))

    # schools, and locally funded charters, → their district
    if k.has("type_id", "cds", "lea_cds", "district", "grade", "student_group_id"):
        typ, cds, lea = k.value["type_id"], k.code["cds"], k.code["lea_cds"]
        same = (cds >= 0) & (cds == lea)
        rest = [c for c in ("year", "test_id", "grade", "student_group_id") if c in k.code]
        school = (lea >= 0) & ~same & (typ == SCHOOL_TYPE)
        charter = typ == LOCAL_CHARTER_TYPE
        child_key = np.where(charter, k.combined(["district", *rest]), k.combined(["lea_cds", *rest]))
        add(_match(k.combined(["cds", *rest]), same & (typ == LEA_TYPE), school | charter, child_key), _SCHOOLS)

    # districts (county offices among them) and direct-funded charters → their county; counties → the state
    if k.has("type_id", "cds", "county", "state", "grade", "student_group_id"):
        typ = k.value["type_id"]
        rest = [c for c in ("year", "test_id", "grade", "student_group_id") if c in k.code]
        own = k.combined(["cds", *rest])
        lea = np.isin(typ, (LEA_TYPE, DIRECT_CHARTER_TYPE))
        add(_match(own, typ == COUNTY_TYPE, lea, k.combined(["county", *rest])), _COUNTIES)
        add(_match(own, typ == STATE_TYPE, typ == COUNTY_TYPE, k.combined(["state", *rest])), _STATE)

    # single grades → All Grades; 10–12 → All High School; grades 5 and 8 + All High School → All Grades
    if k.has("grade", "student_group_id"):
        key = k.combined([*entity, "student_group_id"])
        grade = k.value["grade"]
        single, high = grade < ALL_GRADES, np.isin(grade, HIGH_SCHOOL_GRADES)
        all_grades, all_hs = grade == ALL_GRADES, grade == ALL_HIGH_SCHOOL
        add(_match(key, all_grades, single), _GRADES, 0)
        add(_match(key, all_hs, high), _GRADES, 1)
        if all_hs.any() and all_grades.any():
            t_hs, c_hs = _match(key, all_grades, all_hs)
            with_hs = np.zeros(k.n, dtype=bool)
            with_hs[t_hs] = True
            t_lo, c_lo = _match(key, with_hs, single & ~high)
            add((np.concatenate([t_hs, t_lo]), np.concatenate([c_hs, c_lo])), _GRADES, 2)

    # groups of each partition → All Students (or the group the relation names)
    if k.has("student_group_id") and len(partitions):
        key = k.combined(entity + (["grade"] if "grade" in k.code else []))
        group = k.value["student_group_id"]
        for i, part in enumerate(partitions):
            total, parts = _total_and_parts(part)
            add(_match(key, group == total, np.isin(group, parts)), _GROUPS, i)

    if not totals:
        return Incidence.from_pairs(np.zeros(0), np.zeros(0), np.zeros(0))
    return Incidence.from_pairs(np.concatenate(totals), np.concatenate(children), np.concatenate(idents))


def constraints(frame: pd.DataFrame, partitions: Sequence[Partition] | None = None) -> list[Constraint]:
    """Every additive relation among the rows of `frame`, as (total, children) index labels.
    `partitions`: lists of student groups that add up to All Students (default: params)."""
    return incidence(frame, partitions).constraints(frame)


# ---------------------------------------------------------------- complementary


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of arange(start, start + length) for each pair."""
    if lengths.size == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _fixed_point(inc: Incidence, hidden: np.ndarray, size: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Add hidden cells until no constraint has exactly one (see the module docstring).

    Entries are sorted once by constraint and, within a constraint, by preference (published child
    with students, smallest first, then the total, then empty cells; ties by key rank). A pass hides the
    first open entry of every constraint with one hidden cell; only the constraints of the cells a pass
    hid can have one hidden cell in the next pass, so each pass works on those alone."""
    hidden = np.array(hidden, dtype=bool, copy=True)
    if inc.n_constraints == 0:
        return hidden
    n = hidden.size
    # one priority per row: cells with students by size then key; the rest after them, by key
    s = np.where(size > 0, size, np.inf)  # NaN and 0 → inf
    row_priority = np.empty(n, dtype=np.int64)
    row_priority[np.lexsort((rank, s))] = np.arange(n, dtype=np.int64)
    preference = np.where(size[inc.cell] > 0, inc.is_total.astype(np.int64), 2)
    order = np.argsort((inc.con * 3 + preference) * n + row_priority[inc.cell], kind="stable")
    con, cell = inc.con[order], inc.cell[order]
    starts = np.searchsorted(con, np.arange(inc.n_constraints))
    lengths = np.diff(np.r_[starts, con.size])
    by_cell = np.argsort(cell, kind="stable")  # entries of each cell
    cell_start = np.searchsorted(cell[by_cell], np.arange(n))
    cell_len = np.diff(np.r_[cell_start, by_cell.size])

    count = np.bincount(con, weights=hidden[cell], minlength=inc.n_constraints).astype(np.int64)
    single = np.flatnonzero(count == 1)
    while single.size:
        entries = _ranges(starts[single], lengths[single])
        entries = entries[~hidden[cell[entries]]]
        c = con[entries]
        first = entries[np.r_[True, c[1:] != c[:-1]]]  # entries are in preference order
        new = _unique(cell[first])
        hidden[new] = True
        touched = con[by_cell[_ranges(cell_start[new], cell_len[new])]]
        np.add.at(count, touched, 1)
        touched = _unique(touched)
        single = touched[count[touched] == 1]
    return hidden


def complementary(frame: pd.DataFrame, constraints: Sequence[Constraint] | Incidence,
                  size_col: str = "with_scores", primary_mask: pd.Series | np.ndarray | None = None) -> pd.Series:
    """Cells to hide in addition to `primary_mask` so that no constraint has exactly one hidden cell.

    `constraints`: Constraint objects (labels of `frame.index`) or an Incidence from `incidence()`.
    `size_col`: the column whose values choose the complement (smallest first).
    `primary_mask`: the cells hidden to begin with (default: `primary(frame)` for with_scores,
    `count_primary(frame, size_col)` for another column). Returns the added cells only."""
    inc = constraints if isinstance(constraints, Incidence) else Incidence.from_constraints(frame, constraints)
    if primary_mask is None:
        primary_mask = primary(frame) if size_col == "with_scores" else count_primary(frame, size_col)
    if isinstance(primary_mask, pd.Series):
        start = primary_mask.reindex(frame.index).fillna(False).to_numpy(dtype=bool)
    else:
        start = np.asarray(primary_mask, dtype=bool)
    final = _fixed_point(inc, start, _values(frame, size_col), _Keys(frame).rank())
    return pd.Series(final & ~start, index=frame.index, name="complementary")


# ---------------------------------------------------------------- the whole table


def result_columns(frame: pd.DataFrame) -> list[str]:
    """Columns hidden with the results: mean and SD of scale scores, % and counts at each level."""
    return [c for c in frame.columns if isinstance(c, str) and c.startswith(RESULT_PREFIXES)]


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _text(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), "", dtype=object)
    s = frame[col]
    return np.asarray(s.astype(object).where(s.notna(), ""), dtype=object)


def _listed(text: np.ndarray, name: str) -> np.ndarray:
    """Rows whose '|'-separated list names `name`."""
    codes, uniques = pd.factorize(pd.Series(text, dtype=object))
    has = np.array([name in str(u).split("|") for u in uniques], dtype=bool)
    return has[codes] if len(uniques) else np.zeros(len(text), dtype=bool)


def _hide(out: pd.DataFrame, col: str, mask: np.ndarray) -> None:
    if not mask.any():
        return
    s = out[col]
    if pd.api.types.is_integer_dtype(s.dtype) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
        s = s.astype("Int64")
    elif pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("boolean")
    out[col] = s.mask(pd.Series(mask, index=out.index))


def suppress(frame: pd.DataFrame, partitions: Sequence[Partition] | None = None,
             policy: str = COMPLEMENTARY) -> pd.DataFrame:
    """The table with small cells hidden (primary) and, under the `complementary` policy, the cells that
    would reveal them; under `published` (only for rows read from research files) the primary cells alone.

    Adds (or replaces) `suppressed` (results hidden), `suppression` ("primary", "complementary", a
    reason kept from the input such as "file", or ""), `counts_hidden` (the count columns hidden,
    separated by |) and `suppression_policy`; sets the results (mean_scale_score, sd_scale_score, sem_mean,
    pct_*, count_level_*) to NA where suppressed and each hidden count to NA. `partitions`: lists of
    student groups that add up to All Students (default: params/student_groups.yml)."""
    _check_policy(frame, policy)
    out = frame.copy()
    inc = rank = None
    if policy == COMPLEMENTARY:  # the relations and the key order matter only to complementary cells
        keys = _Keys(frame)
        inc, rank = incidence(frame, partitions, keys), keys.rank()

    def close(start: np.ndarray, size: np.ndarray) -> np.ndarray:
        return start if inc is None else _fixed_point(inc, start, size, rank)

    min_count = _thresholds(frame, "min_count")
    earlier = _text(frame, "counts_hidden")

    hidden: dict[str, np.ndarray] = {}
    newly: dict[str, np.ndarray] = {}
    for col in COUNT_COLUMNS:
        if col not in frame:
            continue
        values = _values(frame, col)
        start = _small(values, min_count)
        if col == "with_scores" and "tested" in hidden and inc is not None:
            start |= hidden["tested"]
        hidden[col] = close(start, values)
        newly[col] = hidden[col] & ~np.isnan(values)

    with_scores = _values(frame, "with_scores")
    flagged = _flag(frame, "suppressed")
    rule = _small(with_scores, _thresholds(frame, "min_results"))
    ws_hidden = hidden.get("with_scores", np.zeros(len(frame), dtype=bool))
    suppressed = close(rule | ws_hidden | flagged, with_scores)

    before = _text(frame, "suppression")
    kept = flagged & (before != "")
    reason = np.select([kept, rule, flagged, suppressed], [before, "primary", "file", "complementary"], "")

    for col in result_columns(frame):
        _hide(out, col, suppressed)
    names = [c for c in COUNT_COLUMNS if c in frame]
    code = np.zeros(len(frame), dtype=np.int64)
    for i, col in enumerate(names):
        _hide(out, col, newly[col])
        code |= (newly[col] | _listed(earlier, col)).astype(np.int64) << i
    labels = np.array(["|".join(c for i, c in enumerate(names) if k >> i & 1) for k in range(1 << len(names))],
                      dtype=object)
    out["suppressed"] = suppressed
    out["suppression"] = pd.Series(reason.astype(object), index=out.index).astype(str)
    out["counts_hidden"] = pd.Series(labels[code], index=out.index).astype(str)
    out["suppression_policy"] = pd.Series(policy, index=out.index, dtype=str)
    return out


def _check_policy(frame: pd.DataFrame, policy: str) -> None:
    """`published` is for CDE's own numbers only: a computed row always gets complementary suppression."""
    if policy not in POLICIES:
        raise ValueError(f"unknown suppression policy {policy!r}: one of {', '.join(POLICIES)}")
    if policy == PUBLISHED and "source" in frame and (frame["source"].astype(str) != "published").any():
        raise ValueError("the published policy applies only to rows read from research files "
                         "(source == 'published'): computed numbers need complementary suppression")
