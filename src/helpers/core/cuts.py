"""Cut-score tables (``params/cuts/*.yml``): load, validate and look up.

One YAML file per assessment family; each holds one or more tables (one per
test × era × cut set). Every schema problem raises :class:`InputError` naming
the file, the line and a dotted field such as ``tables[sb_ela_2021plus].grades.5.cuts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Iterable, Mapping, NoReturn, Sequence

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from helpers.core.errors import InputError
from helpers.core.paths import default_paths

STATUSES = ("illustrative", "official")
SCORE_KINDS = ("raw", "scale")
FAMILY_KEYS = {"family", "title", "score", "levels", "met_level", "required_grades", "tables"}
TABLE_KEYS = {"id", "test_id", "subject", "years", "cut_set", "status", "source", "note",
              "required_grades", "grades"}
GRADE_KEYS = {"loss", "cuts", "hoss"}


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


# ---------------------------------------------------------------- validation


class _Doc:
    """A parsed YAML file: raises InputError with the line of a key path."""

    def __init__(self, path: Path, root: Node | None):
        self.path = path
        self.root = root
        self.table_ids: dict[int, str] = {}

    def label(self, keys: Sequence[Any]) -> str | None:
        parts: list[str] = []
        for i, key in enumerate(keys):  # ints are list positions; mapping keys are strings
            if isinstance(key, int) and parts:
                name = self.table_ids.get(key, key) if keys[i - 1] == "tables" else key
                parts[-1] += f"[{name}]"
            else:
                parts.append(str(key))
        return ".".join(parts) or None

    def line(self, keys: Sequence[Any]) -> int | None:
        node, line = self.root, None
        for key in keys:
            if isinstance(node, MappingNode):
                hit = next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line + 1, hit[1]
            elif isinstance(node, SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        if line is None and node is not None:
            line = node.start_mark.line + 1
        return line

    def fail(self, keys: Sequence[Any], message: str) -> NoReturn:
        raise InputError(self.path, message, line=self.line(keys), field=self.label(keys))

    def check_duplicate_keys(self, node: Node | None = None, keys: tuple = ()) -> None:
        node = self.root if node is None else node
        if isinstance(node, MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = str(k.value)
                if key in seen:
                    raise InputError(self.path, f"duplicate key '{key}'",
                                     line=k.start_mark.line + 1, field=self.label(keys + (key,)))
                seen.add(key)
                self.check_duplicate_keys(v, keys + (key,))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self.check_duplicate_keys(item, keys + (i,))


def _parse(path: Path) -> tuple[_Doc, Any]:
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(path, f"YAML syntax error: {problem}",
                         line=mark.line + 1 if mark else None) from None
    return _Doc(path, root), data


def _require(doc: _Doc, obj: dict, key: str, at: tuple) -> Any:
    if obj.get(key) is None:
        doc.fail(at + (key,), f"missing required key '{key}'")
    return obj[key]


def _text(doc: _Doc, obj: dict, key: str, at: tuple) -> str:
    value = _require(doc, obj, key, at)
    if not isinstance(value, str) or not value.strip():
        doc.fail(at + (key,), f"'{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _choice(doc: _Doc, obj: dict, key: str, allowed: Sequence[str], at: tuple) -> str:
    value = _require(doc, obj, key, at)
    if value not in allowed:
        doc.fail(at + (key,), f"unknown {key} {value!r} (expected one of: {', '.join(allowed)})")
    return value


def _int(doc: _Doc, value: Any, keys: tuple, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        doc.fail(keys, f"{what} must be an integer, got {value!r}")
    return value


def _number(doc: _Doc, value: Any, keys: tuple, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        doc.fail(keys, f"{what} must be a finite number, got {value!r}")
    return float(value)


def _mapping(doc: _Doc, value: Any, keys: tuple, allowed: set[str], what: str) -> dict:
    if not isinstance(value, dict):
        doc.fail(keys, f"expected {what}, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        doc.fail(keys + (unknown[0],), f"unknown key '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})")
    return value


def _levels(doc: _Doc, fam: dict) -> tuple[tuple[int, ...], tuple[str, ...]]:
    levels = _require(doc, fam, "levels", ())
    if not isinstance(levels, list) or len(levels) < 2:
        doc.fail(("levels",), "levels must be a list of at least two {code, name} entries")
    codes, names = [], []
    for i, item in enumerate(levels):
        item = _mapping(doc, item, ("levels", i), {"code", "name"}, "a mapping {code, name}")
        codes.append(_int(doc, _require(doc, item, "code", ("levels", i)), ("levels", i, "code"), "level code"))
        names.append(_text(doc, item, "name", ("levels", i)))
    if any(b <= a for a, b in zip(codes, codes[1:])) or codes[0] < 1:
        doc.fail(("levels",), f"level codes must be positive and strictly increasing, got {codes}")
    return tuple(codes), tuple(names)


def _required_grades(doc: _Doc, obj: dict, keys: tuple) -> list[str] | None:
    value = obj.get("required_grades")
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        doc.fail(keys + ("required_grades",), "required_grades must be a non-empty list")
    return [norm_grade(g) for g in value]


def _years(doc: _Doc, table: dict, at: tuple) -> tuple[int, int | None]:
    years = _mapping(doc, _require(doc, table, "years", at), at + ("years",), {"from", "to"},
                     "a mapping {from, to}")
    start = _int(doc, _require(doc, years, "from", at + ("years",)), at + ("years", "from"), "years.from")
    end = years.get("to")
    if end is not None:
        _int(doc, end, at + ("years", "to"), "years.to")
        if end < start:
            doc.fail(at + ("years",), f"years.to {end} is before years.from {start}")
    return start, end


def _grade(doc: _Doc, value: Any, keys: tuple, n_levels: int) -> GradeCuts:
    g = _mapping(doc, value, keys, GRADE_KEYS, "a mapping {loss, cuts, hoss}")
    loss = _number(doc, _require(doc, g, "loss", keys), keys + ("loss",), "loss")
    hoss = _number(doc, _require(doc, g, "hoss", keys), keys + ("hoss",), "hoss")
    raw = _require(doc, g, "cuts", keys)
    at = keys + ("cuts",)
    if not isinstance(raw, list):
        doc.fail(at, f"cuts must be a list of numbers, got {raw!r}")
    cuts = [_number(doc, c, at, "each cut") for c in raw]
    if loss >= hoss:
        doc.fail(keys + ("loss",), f"LOSS {_fmt(loss)} must be below HOSS {_fmt(hoss)}")
    if len(cuts) != n_levels - 1:
        doc.fail(at, f"expected {n_levels - 1} cuts for {n_levels} levels, got {len(cuts)}: {_fmt_list(cuts)}")
    if any(b <= a for a, b in zip(cuts, cuts[1:])):
        doc.fail(at, f"cuts must be strictly increasing, got {_fmt_list(cuts)}")
    if cuts[0] <= loss:
        doc.fail(at, f"first cut {_fmt(cuts[0])} must be above LOSS {_fmt(loss)}")
    if cuts[-1] > hoss:
        doc.fail(at, f"last cut {_fmt(cuts[-1])} must not exceed HOSS {_fmt(hoss)}")
    return GradeCuts(loss, tuple(cuts), hoss)


def _grades(doc: _Doc, table: dict, at: tuple, required: list[str], n_levels: int) -> dict[str, GradeCuts]:
    raw = _require(doc, table, "grades", at)
    if not isinstance(raw, dict):
        doc.fail(at + ("grades",), "grades must be a mapping grade → {loss, cuts, hoss}")
    keys = {norm_grade(k): str(k) for k in raw}
    raw = {str(k): v for k, v in raw.items()}
    missing = [g for g in required if g not in keys]
    if missing:
        doc.fail(at + ("grades",), f"grade {missing[0]} missing (required grades: {', '.join(required)})")
    extra = [g for g in keys if g not in required]
    if extra:
        doc.fail(at + ("grades", keys[extra[0]]),
                 f"grade {extra[0]} is not a required grade ({', '.join(required)})")
    return {g: _grade(doc, raw[keys[g]], at + ("grades", keys[g]), n_levels) for g in required}


def _table(doc: _Doc, i: int, raw: Any, fam: dict) -> CutTable:
    at = ("tables", i)
    t = _mapping(doc, raw, at, TABLE_KEYS, "a table mapping")
    table_id = _text(doc, t, "id", at)
    test_id = _require(doc, t, "test_id", at)
    if isinstance(test_id, bool) or not isinstance(test_id, (int, str)) or not str(test_id).strip():
        doc.fail(at + ("test_id",), f"test_id must be an integer or a name, got {test_id!r}")
    status = _choice(doc, t, "status", STATUSES, at)
    note = t.get("note")
    if note is not None and not isinstance(note, str):
        doc.fail(at + ("note",), "note must be a string")
    if status == "illustrative" and not (note or "").strip():
        doc.fail(at + ("note",), "an illustrative table needs a note saying why it is not official")
    required = _required_grades(doc, t, at) or fam["required_grades"]
    if required is None:
        doc.fail(at + ("required_grades",), "required_grades missing (give it for the family or the table)")
    year_from, year_to = _years(doc, t, at)
    return CutTable(
        id=table_id, family=fam["family"], test_id=norm_test_id(test_id),
        subject=_text(doc, t, "subject", at), year_from=year_from, year_to=year_to,
        cut_set=_text(doc, t, "cut_set", at), status=status, source=_text(doc, t, "source", at),
        note=note.strip() if note else None, score_kind=fam["score"],
        level_codes=fam["codes"], level_names=fam["names"], met_level=fam["met_level"],
        grades=_grades(doc, t, at, required, len(fam["codes"])), path=doc.path, line=doc.line(at),
    )


def _family(doc: _Doc, data: Any) -> list[CutTable]:
    fam = _mapping(doc, data, (), FAMILY_KEYS, "a mapping with family, title, score, levels, met_level, tables")
    codes, names = _levels(doc, fam)
    met = _int(doc, _require(doc, fam, "met_level", ()), ("met_level",), "met_level")
    if met not in codes:
        doc.fail(("met_level",), f"met_level {met} is not one of the level codes {list(codes)}")
    info = {"family": _text(doc, fam, "family", ()), "score": _choice(doc, fam, "score", SCORE_KINDS, ()),
            "codes": codes, "names": names, "met_level": met,
            "required_grades": _required_grades(doc, fam, ())}
    _text(doc, fam, "title", ())
    tables = _require(doc, fam, "tables", ())
    if not isinstance(tables, list) or not tables:
        doc.fail(("tables",), "tables must be a non-empty list")
    return [_table(doc, i, t, info) for i, t in enumerate(tables)]


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
    path = Path(path)
    doc, data = _parse(path)
    tables = data.get("tables") if isinstance(data, dict) else None
    if isinstance(tables, list):  # names tables in field labels: tables[<id>]
        doc.table_ids = {i: t["id"] for i, t in enumerate(tables)
                         if isinstance(t, dict) and isinstance(t.get("id"), str)}
    doc.check_duplicate_keys()
    tables = _family(doc, data)
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
