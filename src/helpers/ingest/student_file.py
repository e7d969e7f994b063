"""Read a TOMS Student Score Data File (CAASPP; one record per student × test) into tidy student records.

The file and its header dialect are recognised by header names alone, and columns are mapped by name
(``params/student_file.yml``; docs/caaspp-facts.md §4f, S26). Only the mapped columns are read: names and
birth dates never enter memory, and the SSID column is read only to find duplicate records, then dropped,
so it is never in the returned frame or in any message. Bad records (unknown record type, grade or CDS
code, non-numeric numbers, a scale score outside LOSS–HOSS of its test, grade and year, a duplicate
student × test) are excluded and reported by file, line and field; a file of the wrong layout raises
:class:`InputError` naming the file, line 1 and the field.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pydantic import Field, model_validator

from helpers.core import cuts as cutting
from helpers.core import levels as leveling
from helpers.core import yamldoc
from helpers.core.errors import InputError
from helpers.core.paths import default_paths
from helpers.core.yamldoc import At, ParamsModel, Text
from helpers.ingest import counting
from helpers.ingest.text import FileText, header_line, read_text, source_name

NO_SCORE_LEVEL = 9  # achievement level of a record without a score (S9 field 150)
FLAGS = ("sed", "disability", "migrant", "homeless", "foster", "military")
NUMBERS = ("scale_score", "sem", "error_band_min", "error_band_max")
LEVEL_FIELDS = ("achievement_level", "domain_1_level", "domain_2_level", "domain_3_level")
DATE_FIELDS = ("window_start", "window_end", "test_completed", "final_completed")
READ_FIELDS = ("record_type", "ssid", "grade", "district_code", "school_code", "charter_indicator", "sex",
               "el_status", *FLAGS, "race", "condition_code", "attemptedness", "score_status",
               "include_indicator", *NUMBERS, *LEVEL_FIELDS, "lexile_quantile", *DATE_FIELDS)
COLUMNS = ["year", "county_code", "district_code", "school_code", "cds", "lea_cds", "test_id", "grade",
           "include_indicator", "condition_code", "attemptedness", "score_status", "scale_score", "sem",
           "achievement_level", "sex", "el_status", *FLAGS, "race", "error_band_min", "error_band_max",
           "domain_1_level", "domain_2_level", "domain_3_level", "lexile", "quantile", "source_line"]
GRADES = range(3, 13)  # CAASPP tests grades 3–12
SSID_DIGITS = 10  # a Statewide Student Identifier
SHOWN = 6  # a bad value is quoted only up to this length: an SSID (10 digits) is never echoed
WHOLE_RECORD, WRONG_WIDTH = "(whole record)", "wrong number of '^'-separated fields"
MEASURE = re.compile(r"^(BR|EM)?(\d{1,4})([LQ])$")


def key(name: str) -> str:
    """Header names compared without case, spaces or punctuation ("Scale Score" = "ScaleScore")."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


# ---------------------------------------------------------------- layout (params/student_file.yml)


@dataclass(frozen=True)
class Dialect:
    name: str
    label: str
    source: str
    delimiter: str
    signature: tuple[str, ...]
    fields: dict[str, str]  # tidy name → header name
    columns: tuple[str, ...]  # the full header, in order
    writer: dict


@dataclass(frozen=True)
class Layout:
    dialects: tuple[Dialect, ...]
    record_types: dict[str, int]
    race_codes: dict[int, int]
    sex_values: dict[str, str]
    yes_no: dict[str, bool]
    required: tuple[str, ...]


class WriterModel(ParamsModel):
    encoding: Text
    sex: dict[str, str]


class DialectModel(ParamsModel):
    label: Text
    source: Text
    delimiter: str = Field(min_length=1)
    signature: list[str] = Field(min_length=1)
    writer: WriterModel
    fields: dict[str, str] = Field(min_length=1)  # header names are kept as written (some end in a space)
    columns: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _fields_are_columns(self) -> DialectModel:
        have = set(self.columns)
        for tidy, name in self.fields.items():
            if name not in have:
                raise At(("fields", tidy), f"header name {name!r} is not one of this dialect's columns")
        return self


class StudentFileLayout(ParamsModel):
    """``params/student_file.yml``: header dialects and value vocabularies of the Student Score Data File."""

    record_types: dict[str, int] = Field(min_length=1)
    race_codes: dict[int, int] = Field(min_length=1)
    sex_values: dict[str, str] = Field(min_length=1)
    yes_no: dict[str, bool] = Field(min_length=1)
    required: list[str] = Field(min_length=1)
    dialects: dict[str, DialectModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _required_fields_mapped(self) -> StudentFileLayout:
        for name, d in self.dialects.items():
            missing = [f for f in self.required if f not in d.fields]
            if missing:
                raise At(("dialects", name, "fields"), f"required field '{missing[0]}' has no header name")
        return self


@lru_cache(maxsize=None)
def layout(params_dir: Path | None = None) -> Layout:
    """The dialects and value vocabularies of ``<params>/student_file.yml``."""
    doc = yamldoc.load((params_dir or default_paths().params) / "student_file.yml", StudentFileLayout)
    dialects = tuple(Dialect(name, d.label, d.source, d.delimiter, tuple(d.signature), dict(d.fields),
                             tuple(d.columns), d.writer.model_dump())
                     for name, d in doc.dialects.items())
    return Layout(dialects, dict(doc.record_types), dict(doc.race_codes), dict(doc.sex_values), dict(doc.yes_no),
                  tuple(doc.required))


def dialect(name: str) -> Dialect:
    found = [d for d in layout().dialects if d.name == name]
    if not found:
        raise KeyError(f"unknown Student Score Data File dialect {name!r} "
                       f"(known: {', '.join(d.name for d in layout().dialects)})")
    return found[0]


def detect(names: Sequence[str]) -> Dialect | None:
    """The first dialect whose signature names are all in the header, else None."""
    have = {key(n) for n in names}
    return next((d for d in layout().dialects if {key(s) for s in d.signature} <= have), None)


def is_student_file(names: Sequence[str]) -> bool:
    """True when a header row is a Student Score Data File's (any dialect)."""
    return detect(names) is not None


# ---------------------------------------------------------------- the report


class Issue(NamedTuple):
    line: int
    field: str
    reason: str


@dataclass
class ReadReport:
    """What `read` did: the dialect, the year, and every excluded record (`bad`) or kept-but-inconsistent
    record (`warnings`) by line and field; `counts` / `warning_counts` tally them by reason."""

    file: str
    dialect: str
    label: str
    encoding: str
    year: int
    year_from: str  # "given" or "test dates"
    records: int  # data lines in the file
    kept: int
    bad: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    unchecked: int = 0  # scores of tests without a cut table here: LOSS–HOSS not checked

    @property
    def excluded(self) -> int:
        return self.records - self.kept

    def messages(self) -> list[str]:
        """One line per issue, 'file, line N, field 'F': reason' (errors first)."""
        return [InputError(self.file, f"{what}: {i.reason}", i.line, i.field).render()
                for what, issues in (("excluded", self.bad), ("warning", self.warnings)) for i in issues]

    def to_frame(self) -> pd.DataFrame:
        rows = [(self.file, i.line, i.field, i.reason, sev)
                for sev, issues in (("excluded", self.bad), ("warning", self.warnings)) for i in issues]
        return pd.DataFrame(rows, columns=["file", "line", "field", "reason", "severity"])


class _Issues:
    """Collects (mask, field, kind, values) checks; builds the sorted issue lists at the end."""

    def __init__(self, lines: np.ndarray, malformed: list[Issue]):
        self.lines, self.malformed = lines, malformed  # malformed: lines not in the frame
        self.checks: list[tuple[np.ndarray, str, str, pd.Series | None, bool, bool]] = []

    def add(self, mask: pd.Series | np.ndarray, header: str, kind: str, values: pd.Series | None = None,
            bad: bool = True, quote: bool = True) -> None:
        """Records where `mask` holds: excluded (`bad`) or warned. `values` (from the file: quoted and
        length-limited; else as given) follow the reason in brackets."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.checks.append((mask, header, kind, values, bad, quote))

    def bad_rows(self) -> np.ndarray:
        out = np.zeros(len(self.lines), dtype=bool)
        for mask, *_, bad, _ in self.checks:
            if bad:
                out |= mask
        return out

    def build(self) -> tuple[list[Issue], list[Issue], dict[str, int], dict[str, int]]:
        bad, warn, nbad, nwarn = list(self.malformed), [], Counter(), Counter()
        if self.malformed:
            nbad[WRONG_WIDTH] = len(self.malformed)
        for mask, header, kind, values, is_bad, quote in self.checks:
            rows = np.flatnonzero(mask)
            (nbad if is_bad else nwarn)[kind] += len(rows)
            for i in rows:
                detail = "" if values is None else _shown(values.iloc[i]) if quote else f" ({values.iloc[i]})"
                (bad if is_bad else warn).append(Issue(int(self.lines[i]), header, kind + detail))
        order = lambda i: (i.line, i.field, i.reason)  # noqa: E731
        return sorted(bad, key=order), sorted(warn, key=order), dict(nbad), dict(nwarn)


def _value(value: object) -> str:
    """A value from the file, quoted; a long one (an SSID has 10 digits) only by its length."""
    text = str(value)
    return repr(text) if len(text) <= SHOWN else f"a value of {len(text)} characters"


def _shown(value: object) -> str:
    return f" ({_value(value)})"


# ---------------------------------------------------------------- reading


def read(path: str | Path, year: int | None = None, tables: Sequence[cutting.CutTable] | None = None,
         decoded: FileText | None = None) -> tuple[pd.DataFrame, ReadReport]:
    """Tidy records (``COLUMNS``) of the good records of one Student Score Data File, and the report.

    ``year``: the test (spring) year; default from the file's test-window and completion dates.
    ``tables``: cut tables for the LOSS–HOSS check (default ``cuts.load_all()``).
    ``decoded``: the file's text as ingest read it; default: read `path` (``text.read_text``: UTF-8 when
    the bytes are valid UTF-8, as the 2018–19 sample is, else Windows-1252)."""
    path = Path(path)
    file = decoded or read_text(path)
    data, encoding = file.data, file.encoding
    del file, decoded  # `data` alone holds the text, freed once parsed
    dia, index, width = _header(path, header_line(data))
    frame, lines, records, malformed = _parse(path, data, dia, index, width)
    del data
    issues = _Issues(lines, malformed)
    _ssids(frame, dia, issues)
    _duplicates(frame, dia, issues)
    frame = frame.drop(columns="ssid")
    year, year_from = (int(year), "given") if year is not None else (_year(path, frame, dia), "test dates")
    out = _typed(frame, dia, issues, year)
    out["source_line"] = lines
    tables = list(tables) if tables is not None else list(_all_tables())
    unchecked = _score_ranges(out, dia, issues, tables)
    _warnings(out, dia, issues, tables)
    keep = ~issues.bad_rows()
    bad, warn, nbad, nwarn = issues.build()
    report = ReadReport(source_name(path), dia.name, dia.label, encoding, year, year_from, records, int(keep.sum()),
                        bad, warn, nbad, nwarn, unchecked)
    return out.loc[keep, COLUMNS].reset_index(drop=True), report


def records(path: str | Path, year: int | None = None) -> tuple[pd.DataFrame, ReadReport | None]:
    """Student records from a Parquet file of tidy records (recognised by its PAR1 magic bytes) or from a
    Student Score Data File (with its report)."""
    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return pd.read_parquet(path), None
    return read(path, year)


@lru_cache(maxsize=1)
def _all_tables() -> tuple[cutting.CutTable, ...]:
    return tuple(cutting.load_all())


def _header(path: Path, header: str) -> tuple[Dialect, dict[str, int], int]:
    """The dialect and the position of each mapped field; InputError (line 1) for a wrong layout."""
    if not header.strip():
        raise InputError(path, "empty file or blank header row", 1)
    if "^" not in header:
        first = re.split(r"[,\t|]", header)[0].strip().strip('"')
        raise InputError(path, "not a caret-delimited Student Score Data File: the header has no '^' "
                         "(TOMS files are '^'-delimited)", 1, first)
    names = [n.strip() for n in header.split("^")]
    dia = detect(names)
    if dia is None:
        raise InputError(path, "unknown header: not a Student Score Data File (no Record Type and SSID "
                         "columns of a known dialect)", 1, names[0])
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        positions.setdefault(key(name), []).append(i)
    index = {}
    for tidy, name in dia.fields.items():
        at = positions.get(key(name), [])
        if len(at) > 1:
            raise InputError(path, f"column appears {len(at)} times in the header", 1, name)
        if at:
            index[tidy] = at[0]
    for tidy in layout().required:
        if tidy not in index:
            raise InputError(path, f"missing required column of the {dia.label} layout", 1, dia.fields[tidy])
    return dia, {t: i for t, i in index.items() if t in READ_FIELDS}, len(names)


def _parse(path: Path, data: bytes, dia: Dialect, index: dict[str, int],
           width: int) -> tuple[pd.DataFrame, np.ndarray, int, list[Issue]]:
    """The mapped columns as stripped text, each record's line number, and the number of data lines.
    A line with the wrong number of fields is a bad record; if every line has, the file is rejected."""
    names = [f"c{i}" for i in range(width)]
    wanted = {f"c{i}": tidy for tidy, i in index.items()}
    invalid: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False, block_size=1 << 26),
        parse_options=pacsv.ParseOptions(delimiter=dia.delimiter, quote_char=False, ignore_empty_lines=False,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in wanted},
                                             include_columns=list(wanted), strings_can_be_null=False))
    frame = pd.DataFrame({wanted[c]: table.column(c).to_pandas().str.strip() for c in wanted})
    records = len(frame) + len(invalid)
    bad_lines = {int(r.number) for r in invalid}
    lines = np.array([n for n in range(2, records + 2) if n not in bad_lines] if bad_lines
                     else np.arange(2, records + 2), dtype=np.int64)
    if invalid and frame.empty:
        row = invalid[0]
        raise InputError(path, f"expected {row.expected_columns} '^'-separated fields as in the header, found "
                         f"{row.actual_columns} (on every line)", int(row.number))
    issues = [Issue(int(r.number), WHOLE_RECORD, f"{WRONG_WIDTH} (expected {r.expected_columns}, found "
                    f"{r.actual_columns})") for r in invalid]
    return frame, lines, records, issues


def _ssids(frame: pd.DataFrame, dia: Dialect, issues: _Issues) -> None:
    """A record whose SSID is blank, not all digits or not 10 digits is excluded; the message says which
    of these, never the SSID."""
    ssid = frame["ssid"]
    blank = ssid.eq("")
    letters = ~blank & ~ssid.str.fullmatch(r"\d+")
    length = ~blank & ~letters & (ssid.str.len() != SSID_DIGITS)
    field = dia.fields["ssid"]
    issues.add(blank, field, "blank SSID")
    issues.add(letters, field, "SSID is not all digits")
    issues.add(length, field, f"SSID is not {SSID_DIGITS} digits", ssid.str.len().astype(str) + " digits",
               quote=False)


def _duplicates(frame: pd.DataFrame, dia: Dialect, issues: _Issues) -> None:
    """A second record of the same student and record type is excluded (first on line N)."""
    keys = frame[["ssid", "record_type"]]
    dup = keys.duplicated(keep="first").to_numpy() & frame["ssid"].ne("").to_numpy()
    if dup.any():  # the message gives the first record's line, never the SSID
        first = pd.Series(issues.lines, index=frame.index).groupby(
            [keys["ssid"], keys["record_type"]]).transform("first")
        issues.add(dup, dia.fields["ssid"], "duplicate student × test record",
                   "first on line " + first.astype(str), quote=False)


Parsed = pd.Series | pd.DataFrame


def _by_distinct(values: pd.Series, func: Callable[[pd.Series], Parsed]) -> Parsed:
    """`func` of the distinct values only, spread back to every record (a file has few distinct codes,
    scores and dates, so parsing is per distinct value, not per record)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    result = func(pd.Series(uniques, dtype=values.dtype)).iloc[codes]
    result.index = values.index
    return result


def _dates(values: pd.Series) -> pd.Series:
    """Spring test year of each date (ISO: August or later counts for the next spring; other forms: the
    four-digit year)."""
    iso = values.str.extract(r"^(\d{4})-(\d{2})-\d{2}$")
    other = values.str.extract(r"^\d{1,2}[-/]\d{1,2}[-/](\d{4})$")[0]
    year = pd.to_numeric(iso[0], errors="coerce") + (pd.to_numeric(iso[1], errors="coerce") >= 8)
    return year.fillna(pd.to_numeric(other, errors="coerce"))


def _year(path: Path, frame: pd.DataFrame, dia: Dialect) -> int:
    years = pd.concat([_by_distinct(frame[f], _dates) for f in DATE_FIELDS if f in frame],
                      ignore_index=True).dropna()
    if years.empty:
        fields = [dia.fields[f] for f in DATE_FIELDS if f in dia.fields]
        raise InputError(path, "cannot tell the test year: no test-window or completion dates; give the year",
                         None, fields[0] if fields else None)
    counts = years.astype(int).value_counts()
    return int(counts.index[counts.to_numpy() == counts.max()].min())


# ---------------------------------------------------------------- typing


def _typed(frame: pd.DataFrame, dia: Dialect, issues: _Issues, year: int) -> pd.DataFrame:
    lay, h = layout(), dia.fields
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    out["year"] = np.full(n, year, dtype=np.int64)
    test = _by_distinct(frame["record_type"], lambda u: u.map(lay.record_types))
    issues.add(test.isna(), h["record_type"], "unknown record type", frame["record_type"])
    out["test_id"] = test.fillna(0).astype(np.int64)
    grade = _by_distinct(frame["grade"], lambda u: pd.to_numeric(u, errors="coerce"))
    bad_grade = ~grade.isin(list(GRADES))
    issues.add(bad_grade, h["grade"], f"grade assessed is not a grade {GRADES[0]}–{GRADES[-1]}", frame["grade"])
    out["grade"] = grade.where(~bad_grade, 0).astype(np.int64)
    _codes(out, frame, h, issues)
    indicator = frame["include_indicator"].str.upper()
    issues.add(~indicator.isin(counting.rules().indicators), h["include_indicator"], "unknown include indicator",
               frame["include_indicator"])
    out["include_indicator"] = indicator
    for col in ("condition_code", "attemptedness", "score_status"):
        out[col] = frame[col].str.upper() if col in frame else ""
    for col in NUMBERS:
        out[col] = _number(frame, col, h, issues)
    for col in LEVEL_FIELDS:
        values = _number(frame, col, h, issues, whole=True)
        out[col] = (values.fillna(NO_SCORE_LEVEL).astype(np.int64) if col == "achievement_level"
                    else values.astype("Int64"))
    out["sex"] = ""
    if "sex" in frame:
        out["sex"] = _by_distinct(frame["sex"], lambda u: u.map(lambda v: lay.sex_values.get(v, v)))
    out["el_status"] = frame["el_status"].str.upper() if "el_status" in frame else ""
    for col in FLAGS:
        out[col] = _yes_no(frame, col, h, issues)
    out["race"] = _race(frame, h, issues)
    out["lexile"], out["quantile"] = _measures(frame, h, issues)
    return out


def _codes(out: pd.DataFrame, frame: pd.DataFrame, h: dict[str, str], issues: _Issues) -> None:
    """14-digit cds from the CALPADS school code (14 digits, or 7 after a 7- or 14-digit district code;
    blank or 0000000: the district). The LEA is the CALPADS district (its 14-digit code as given), or the
    school itself for a directly funded charter (indicator DF)."""
    district, school = frame["district_code"], frame["school_code"]
    d7 = district.where(district.str.fullmatch(r"\d{7}(\d{7})?"), "").str[:7]
    full = school.str.fullmatch(r"\d{14}")
    short = school.str.fullmatch(r"\d{7}") & school.ne("0000000")
    at_lea = school.isin(["", "0000000"])
    cds = pd.Series(np.select([full.to_numpy(), short.to_numpy(), at_lea.to_numpy()],
                              [school.to_numpy(), (d7 + school).to_numpy(), (d7 + "0000000").to_numpy()],
                              ""), index=frame.index)
    bad_district = d7.eq("") & ~full
    issues.add(bad_district, h["district_code"], "not a 7- or 14-digit district code", district)
    bad_school = ~bad_district & (cds.str.len() != 14)
    issues.add(bad_school, h["school_code"], "not a 7- or 14-digit CDS school code", school)
    cds = cds.where(cds.str.len() == 14, "0" * 14)
    out["county_code"], out["district_code"], out["school_code"] = cds.str[:2], cds.str[2:7], cds.str[7:]
    out["cds"] = cds
    lea = district.where(district.str.fullmatch(r"\d{14}"), cds.str[:7] + "0000000")
    charter = frame["charter_indicator"].str.upper() if "charter_indicator" in frame else ""
    out["lea_cds"] = cds.where(pd.Series(charter, index=frame.index).eq("DF"), lea)


def _number(frame: pd.DataFrame, col: str, h: dict[str, str], issues: _Issues, whole: bool = False) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    text = frame[col]
    values = _by_distinct(text, lambda u: pd.to_numeric(u.where(u.ne("")), errors="coerce"))
    bad = text.ne("") & (values.isna() | (whole & (values % 1 != 0)))
    issues.add(bad, h[col], "not a whole number" if whole else "not a number", text)
    return values.where(~bad).astype("float64")


def _yes_no(frame: pd.DataFrame, col: str, h: dict[str, str], issues: _Issues) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="boolean")
    values = _by_distinct(frame[col], lambda u: u.map(layout().yes_no))
    issues.add(values.isna() & frame[col].ne(""), h[col], "not Yes or No: kept as missing", frame[col], bad=False)
    return values.astype("boolean")


def _race(frame: pd.DataFrame, h: dict[str, str], issues: _Issues) -> pd.Series:
    if "race" not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    group = _by_distinct(frame["race"], lambda u: pd.to_numeric(u, errors="coerce").map(layout().race_codes))
    issues.add(group.isna() & frame["race"].ne(""), h["race"], "unknown ethnicity code: kept as missing",
               frame["race"], bad=False)
    return group.astype("Int64")


def _measures(frame: pd.DataFrame, h: dict[str, str], issues: _Issues) -> tuple[pd.Series, pd.Series]:
    """Lexile ("980L", "BR120L" = −120) and Quantile ("550Q", "EM50Q" = −50) measures."""
    if "lexile_quantile" not in frame:
        empty = pd.Series(pd.NA, index=frame.index, dtype="Int64")
        return empty, empty.copy()
    text = frame["lexile_quantile"].str.upper()
    parts = _by_distinct(text, lambda u: u.str.extract(MEASURE.pattern))
    value = pd.to_numeric(parts[1], errors="coerce") * np.where(parts[0].notna(), -1, 1)
    issues.add(value.isna() & text.ne(""), h["lexile_quantile"], "not a Lexile or Quantile measure: kept as missing",
               frame["lexile_quantile"], bad=False)
    return (value.where(parts[2].eq("L")).astype("Int64"), value.where(parts[2].eq("Q")).astype("Int64"))


# ---------------------------------------------------------------- checks against cut tables and rules


def _score_ranges(out: pd.DataFrame, dia: Dialect, issues: _Issues, tables: list[cutting.CutTable]) -> int:
    """Scores outside LOSS–HOSS of the year's cut table for the test and grade are bad records; a scored
    grade the table lacks too. Returns how many scores had no table to check against."""
    h = dia.fields["scale_score"]
    scored = out["scale_score"].notna() & ~issues.bad_rows()
    unchecked = 0
    for (test, grade), idx in out[scored].groupby(["test_id", "grade"], sort=True).groups.items():
        try:
            table = cutting.find(tables, test, int(out["year"].iloc[0]))
        except LookupError:
            unchecked += len(idx)
            continue
        mask = out.index.isin(idx)
        try:
            g = table.for_grade(grade)
        except KeyError:
            issues.add(mask, dia.fields["grade"], "no cut scores for this test and grade",
                       pd.Series(f"test {test}, grade {grade}, {table.id}", index=out.index), quote=False)
            continue
        x = out["scale_score"]
        where = f" not in {g.loss:g}–{g.hoss:g}, {table.id} grade {grade}"
        outside = mask & ((x < g.loss) | (x > g.hoss)).to_numpy()
        if outside.any():
            text = pd.Series("", index=out.index)
            text[outside] = x[outside].map(lambda v: _value(f"{v:.0f}" if float(v).is_integer() else v) + where)
            issues.add(outside, h, "scale score outside LOSS–HOSS", text, quote=False)
    return unchecked


def _warnings(out: pd.DataFrame, dia: Dialect, issues: _Issues, tables: list[cutting.CutTable]) -> None:
    """Kept records that disagree with the counting rules or the cut tables."""
    ok = ~issues.bad_rows()
    for mask, why in counting.condition_issues(out):
        issues.add(mask & ok, dia.fields["condition_code"], why, out["condition_code"], bad=False)
    no_score = out["include_indicator"].isin(counting.rules().with_scores) & out["scale_score"].isna()
    issues.add(no_score & ok, dia.fields["scale_score"], "include indicator Y without a scale score: not counted "
               "as scored", bad=False)
    scored = out["scale_score"].notna() & ok & out["test_id"].isin(_tests_with_tables(out, tables))
    if scored.any():
        level = leveling.classify_frame(out[scored], tables)
        differs = pd.Series(False, index=out.index)
        differs[scored] = level.to_numpy() != out.loc[scored, "achievement_level"].to_numpy()
        issues.add(differs, dia.fields["achievement_level"], "achievement level disagrees with the cut table",
                   out["achievement_level"], bad=False)


def _tests_with_tables(out: pd.DataFrame, tables: list[cutting.CutTable]) -> list[int]:
    year = int(out["year"].iloc[0]) if len(out) else 0
    have = []
    for test in out["test_id"].unique():
        try:
            cutting.find(tables, int(test), year)
            have.append(int(test))
        except LookupError:
            pass
    return have
