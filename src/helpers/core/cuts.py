"""Cut-score tables (``params/cuts/*.yml``): load, validate and look up.

One YAML file per assessment family; each holds one or more tables (one per
test × era × cut set). The file is validated into :class:`CutFamilyFile` (pydantic,
through :mod:`helpers.core.yamldoc`): every schema problem raises :class:`InputError`
naming the file, the line and a dotted field such as ``tables[sb_ela_2021plus].grades.5.cuts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping, Sequence

from pydantic import Field, field_validator, model_validator

from helpers.core import yamldoc
from helpers.core.errors import InputError
from helpers.core.paths import default_paths
from helpers.core.yamldoc import At, ParamsModel, Text

STATUSES = ("illustrative", "official")
SCORE_KINDS = ("raw", "scale")


def norm_grade(grade: Any) -> str:
    """Canonical grade key: 5, "05", 5.0 and np.int64(5) → "5"; "iii" → "III"."""
    if isinstance(grade, Integral):
        return str(int(grade))
    if isinstance(grade, Real) and float(grade).is_integer():
        return str(int(grade))
    text = str(grade).strip()
    return str(int(text)) if text.isdigit() else text.upper()


def norm_test_id(test_id: Any) -> int | str:
    """Canonical test id: 1, "01" and np.int64(1) → 1; other strings stay strings."""
    if isinstance(test_id, Integral):
        return int(test_id)
    if isinstance(test_id, Real) and float(test_id).is_integer():
        return int(test_id)
    text = str(test_id).strip()
    return int(text) if text.isdigit() else text


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _fmt_list(values: Iterable[float]) -> str:
    return "[" + ", ".join(_fmt(v) for v in values) + "]"


@dataclass(frozen=True)
class GradeCuts:
    """One grade's score range and cuts (the minimum score of levels 2..n)."""

    loss: float
    cuts: tuple[float, ...]
    hoss: float


@dataclass(frozen=True)
class CutTable:
    """One cut table: a test, the years it applies to, a cut set and per-grade cuts."""

    id: str
    family: str
    test_id: int | str
    subject: str
    year_from: int
    year_to: int | None
    cut_set: str
    status: str
    source: str
    note: str | None
    score_kind: str
    level_codes: tuple[int, ...]
    level_names: tuple[str, ...]
    met_level: int
    grades: Mapping[str, GradeCuts] = field(hash=False)
    path: Path = field(compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def n_levels(self) -> int:
        return len(self.level_codes)

    @property
    def is_illustrative(self) -> bool:
        return self.status == "illustrative"

    @property
    def years_text(self) -> str:
        return f"{self.year_from}–{self.year_to if self.year_to is not None else 'present'}"

    def covers(self, year: Any) -> bool:
        """True when the (spring) administration year falls in this table's years."""
        y = int(year)
        return self.year_from <= y and (self.year_to is None or y <= self.year_to)

    def for_grade(self, grade: Any) -> GradeCuts:
        """The cuts for one grade (or CAPA level); KeyError names the table and the grades it has."""
        key = norm_grade(grade)
        try:
            return self.grades[key]
        except KeyError:
            have = ", ".join(self.grades)
            raise KeyError(f"cut table '{self.id}' has no grade {key!r} (grades: {have})") from None


# ---------------------------------------------------------------- the file's models

Number = Annotated[float, Field(allow_inf_nan=False)]
GradeKey = int | str  # 5 or "III" (CAPA level)


class LevelModel(ParamsModel):
    code: int
    name: Text


class GradeModel(ParamsModel):
    """One grade's LOSS, cuts and HOSS, in order (the count of cuts is the family's check)."""

    loss: Number
    cuts: list[Number] = Field(min_length=1)
    hoss: Number

    @model_validator(mode="after")
    def _ordered(self) -> GradeModel:
        cuts = self.cuts
        if self.loss >= self.hoss:
            raise At(("loss",), f"LOSS {_fmt(self.loss)} must be below HOSS {_fmt(self.hoss)}")
        if any(b <= a for a, b in zip(cuts, cuts[1:])):
            raise At(("cuts",), f"cuts must be strictly increasing, got {_fmt_list(cuts)}")
        if cuts[0] <= self.loss:
            raise At(("cuts",), f"first cut {_fmt(cuts[0])} must be above LOSS {_fmt(self.loss)}")
        if cuts[-1] > self.hoss:
            raise At(("cuts",), f"last cut {_fmt(cuts[-1])} must not exceed HOSS {_fmt(self.hoss)}")
        return self


class YearsModel(ParamsModel):
    from_: int = Field(alias="from")
    to: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> YearsModel:
        if self.to is not None and self.to < self.from_:
            raise At((), f"years.to {self.to} is before years.from {self.from_}")
        return self


def _choice(value: str, key: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {key} {value!r} (expected one of: {', '.join(allowed)})")
    return value


class TableModel(ParamsModel):
    id: Text
    test_id: int | str
    subject: Text
    years: YearsModel
    cut_set: Text
    status: str
    source: Text
    note: str | None = None
    required_grades: list[GradeKey] | None = Field(None, min_length=1)
    grades: dict[GradeKey, GradeModel]

    @field_validator("test_id", mode="before")
    @classmethod
    def _test_id(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
            raise ValueError(f"test_id must be an integer or a name, got {value!r}")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return _choice(value, "status", STATUSES)

    @model_validator(mode="after")
    def _noted(self) -> TableModel:
        if self.status == "illustrative" and not (self.note or "").strip():
            raise At(("note",), "an illustrative table needs a note saying why it is not official")
        return self


class CutFamilyFile(ParamsModel):
    """One ``params/cuts/*.yml`` (or ``params/alt_cuts/*.yml``) file: a family of cut tables."""

    family: Text
    title: Text
    score: str
    levels: list[LevelModel] = Field(min_length=2)
    met_level: int
    required_grades: list[GradeKey] | None = Field(None, min_length=1)
    tables: list[TableModel] = Field(min_length=1)

    @field_validator("score")
    @classmethod
    def _score(cls, value: str) -> str:
        return _choice(value, "score", SCORE_KINDS)

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[LevelModel]) -> list[LevelModel]:
        codes = [level.code for level in levels]
        if any(b <= a for a, b in zip(codes, codes[1:])) or codes[0] < 1:
            raise ValueError(f"level codes must be positive and strictly increasing, got {codes}")
        return levels

    @model_validator(mode="after")
    def _consistent(self) -> CutFamilyFile:
        codes = [level.code for level in self.levels]
        if self.met_level not in codes:
            raise At(("met_level",), f"met_level {self.met_level} is not one of the level codes {codes}")
        for i, table in enumerate(self.tables):
            try:
                _check_cut_counts(_grade_keys(self, table), table, len(codes))
            except At as exc:
                raise At(("tables", i, *exc.keys), exc.message) from None
        return self


def _required(fam: CutFamilyFile, table: TableModel) -> list[str] | None:
    """The table's required grades, else the family's (normalised)."""
    grades = table.required_grades or fam.required_grades
    return None if grades is None else [norm_grade(g) for g in grades]


def _grade_keys(fam: CutFamilyFile, table: TableModel) -> dict[str, GradeKey]:
    """Required grade → its key in the file, in required order; At if a grade is missing or extra."""
    required = _required(fam, table)
    if required is None:
        raise At(("required_grades",), "required_grades missing (give it for the family or the table)")
    keys = {norm_grade(k): k for k in table.grades}
    missing = [g for g in required if g not in keys]
    if missing:
        raise At(("grades",), f"grade {missing[0]} missing (required grades: {', '.join(required)})")
    extra = [g for g in keys if g not in required]
    if extra:
        raise At(("grades", keys[extra[0]]), f"grade {extra[0]} is not a required grade ({', '.join(required)})")
    return {g: keys[g] for g in required}


def _check_cut_counts(keys: dict[str, GradeKey], table: TableModel, n_levels: int) -> None:
    """Each grade has one cut fewer than the family has levels."""
    for key in keys.values():
        cuts = table.grades[key].cuts
        if len(cuts) != n_levels - 1:
            raise At(("grades", key, "cuts"), f"expected {n_levels - 1} cuts for {n_levels} levels, "
                     f"got {len(cuts)}: {_fmt_list(cuts)}")


def _tables(doc: yamldoc.Doc, fam: CutFamilyFile) -> list[CutTable]:
    codes = tuple(level.code for level in fam.levels)
    names = tuple(level.name for level in fam.levels)
    out = []
    for i, t in enumerate(fam.tables):
        grades = {g: GradeCuts(t.grades[k].loss, tuple(t.grades[k].cuts), t.grades[k].hoss)
                  for g, k in _grade_keys(fam, t).items()}
        out.append(CutTable(
            id=t.id, family=fam.family, test_id=norm_test_id(t.test_id), subject=t.subject,
            year_from=t.years.from_, year_to=t.years.to, cut_set=t.cut_set, status=t.status, source=t.source,
            note=t.note.strip() if t.note else None, score_kind=fam.score, level_codes=codes, level_names=names,
            met_level=fam.met_level, grades=grades, path=doc.path, line=doc.line(("tables", i))))
    return out


def check_unique(tables: Sequence[CutTable]) -> None:
    """Table ids are unique, and no two tables of one test and cut set share a year."""
    seen: dict[str, CutTable] = {}
    for t in tables:
        if t.id in seen:
            raise InputError(t.path, f"duplicate table id '{t.id}' (first defined in {seen[t.id].path.name})",
                             line=t.line, field=f"tables[{t.id}].id")
        for other in seen.values():
            if (other.test_id, other.cut_set) == (t.test_id, t.cut_set) and _overlap(t, other):
                raise InputError(t.path, f"years {t.years_text} overlap table '{other.id}' "
                                 f"({other.path.name}, years {other.years_text}) for test {t.test_id!r}, "
                                 f"cut set '{t.cut_set}'", line=t.line, field=f"tables[{t.id}].years")
        seen[t.id] = t


def _overlap(a: CutTable, b: CutTable) -> bool:
    inf = 10**9
    return a.year_from <= (b.year_to or inf) and b.year_from <= (a.year_to or inf)


# ---------------------------------------------------------------- public API


def load_family(path: str | Path) -> list[CutTable]:
    """Load and validate one family file; InputError on any schema problem."""
    doc = yamldoc.read(path)
    tables = _tables(doc, yamldoc.validate(doc, CutFamilyFile))
    check_unique(tables)
    return tables


def load_all(params_dir: str | Path | None = None) -> list[CutTable]:
    """Every table in ``<params>/cuts/*.yml`` (files in sorted order), checked for clashes across files."""
    folder = Path(params_dir) if params_dir is not None else default_paths().params
    files = sorted((folder / "cuts").glob("*.yml"))
    if not files:
        raise InputError(folder / "cuts", "no cut-table files (*.yml) found")
    tables = [t for f in files for t in load_family(f)]
    check_unique(tables)
    return tables


def find(tables: Iterable[CutTable], test_id: Any, year: Any, cut_set: str = "official") -> CutTable:
    """The one table for a test, a (spring) year and a cut set; LookupError if none or several."""
    tables = list(tables)
    key = norm_test_id(test_id)
    same_test = [t for t in tables if t.test_id == key]
    hits = [t for t in same_test if t.cut_set == cut_set and t.covers(year)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise LookupError(f"ambiguous cut tables for test {key!r}, year {year}, cut set '{cut_set}': "
                          + ", ".join(t.id for t in hits))
    have = "; ".join(f"{t.id} ({t.cut_set}, {t.years_text})" for t in same_test) or "none"
    raise LookupError(f"no cut table for test {key!r}, year {year}, cut set '{cut_set}' "
                      f"(tables for this test: {have})")
