"""Read CAASPP research files, entities files and lookups of every era into one typed Parquet store.

Research files can be large (a statewide year is ~3M rows), so their rows stay as Arrow columns from parsing
to Parquet: each column is typed on its own, '*' patterns and entity attributes are kept once and looked up
per row, and the store's results table is written in row groups. `read_file` and `build` give pandas frames.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helpers.core import atomic
from helpers.core.errors import InputError
from helpers.ingest import layouts, student_file

ENCODING = "cp1252"  # CDE files are Windows-1252 (ñ, the en dash in "Ever–EL"), not UTF-8
GZIP_MAGIC = b"\x1f\x8b"
SUFFIXES = (".txt", ".csv", ".txt.gz", ".csv.gz")
HEADERLESS_SUBGROUPS = re.compile(r'^"\d{3}", ?\d+, ?"')
STORE_TABLES = ("results", "entities", "student_groups", "tests", "sources", "students", "student_issues")
KEY = ["year", "cds", "test_id", "test_type", "student_group_id", "grade"]
KEY_INTS = ("year", "student_group_id", "grade", "test_id", "type_id")
CODE_WIDTHS = {"county_code": 2, "district_code": 5, "school_code": 7}
ENTITY_COLUMNS = ("county_name", "district_name", "school_name", "entity_name", "lea_cds")
ROW_GROUP = 1 << 19  # rows per Parquet row group: each is assembled in memory before it is written
PLAIN_DIGITS = 15  # characters: below 2**53, so pandas (via float64 when a column has "*") and Arrow agree
TRANSCODE_BLOCK = 1 << 24
STAR, NO_TEXT = pa.scalar("*"), pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Source:
    file: str
    sha256: str
    kind: str
    era: str
    delimiter: str
    rows_read: int
    bytes: int
    rows_rejected: int = 0  # a public file with a bad row is rejected whole; student files drop bad records


def is_count(col: str) -> bool:
    return col in layouts.COUNT_COLUMNS or "_count_" in col or col.endswith("_total")


def is_pct(col: str) -> bool:
    return col.startswith("pct_") or "_pct_" in col or col == "mean_percent_correct"


# pandas dtypes of a research file's typed rows (read_file), and of the store's results table
TYPED_DTYPES = {c: "str" for c in (*CODE_WIDTHS, "cds")} | {c: "Int64" for c in KEY_INTS} | {"test_type": "str"} | {
    c: "Int64" if is_count(c) else "Float64" for c in layouts.RESULT_NUMERIC} | {
    "suppressed_fields": "string", "counts_suppressed": "bool", "results_suppressed": "bool", "suppressed": "bool",
    "source_line": "int64"}
RESULT_DTYPES = TYPED_DTYPES | {"source_file": "str", "county_name": "str", "district_name": "str",
                                "school_name": "str", "entity_name": "string", "lea_cds": "string"}


# ---------------------------------------------------------------- reading text


def read_text(path: Path) -> tuple[bytes, str, int]:
    """The file's text as UTF-8 bytes (gunzipped if gzip, checked as cp1252), and sha256 and size of the
    uncompressed bytes. An undecodable byte names its line."""
    raw = path.read_bytes()
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(path, f"cannot gunzip: {exc}") from None
    return _utf8(path, raw), hashlib.sha256(raw).hexdigest(), len(raw)


def _utf8(path: Path, raw: bytes) -> bytes:
    """cp1252 → UTF-8; ASCII (most research files) is both already. Block by block, to bound the copies."""
    if raw.isascii():
        return raw
    blocks = []
    for start in range(0, len(raw), TRANSCODE_BLOCK):
        try:
            blocks.append(raw[start:start + TRANSCODE_BLOCK].decode(ENCODING).encode("utf-8"))
        except UnicodeDecodeError as exc:
            at = start + exc.start
            raise InputError(path, f"byte 0x{raw[at]:02x} is not valid {ENCODING} text",
                             raw.count(b"\n", 0, at) + 1) from None
    return b"".join(blocks)


def header_line(data: bytes) -> str:
    """The first line of UTF-8 `data`."""
    end = data.find(b"\n")
    return data[: end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")


def split_header(path: Path, data: bytes) -> tuple[str, list[str]]:
    """Return (delimiter, header names) from the first line."""
    first = header_line(data)
    if not first.strip():
        raise InputError(path, "empty file or blank header row", 1)
    if "^" in first:
        delim = "^"
    elif "," in first:
        delim = ","
    else:
        raise InputError(path, "cannot tell the delimiter: the header has neither '^' nor ','", 1)
    return delim, [n.strip().strip('"').strip() for n in first.split(delim)]


def parse_rows(path: Path, data: bytes, delim: str, names: list[str], skip_header: bool = True) -> list[pa.ChunkedArray]:
    """Parse every row as text with pyarrow; a row with the wrong field count is an error naming its line and
    the first header field it lacks (or, for a row too long, the header's last field)."""
    width = len(names)
    try:
        return _parse(data, delim, width, skip_header, threads=True)
    except pa.ArrowInvalid:
        pass
    bad: list[pacsv.InvalidRow] = []  # again on one thread, which numbers the rows
    try:
        return _parse(data, delim, width, skip_header, threads=False,
                      on_invalid=lambda row: bad.append(row) or "error")
    except pa.ArrowInvalid as exc:
        if bad:
            found = bad[0].actual_columns
            field, what = (names[found], "missing") if found < width else (names[-1], "more fields after it")
            raise InputError(path, f"{what}: expected {bad[0].expected_columns} fields ('{delim}'-delimited, "
                             f"as the header), found {found}", bad[0].number, field) from None
        raise InputError(path, f"cannot parse: {exc}") from None


def _parse(data: bytes, delim: str, width: int, skip_header: bool, threads: bool,
           on_invalid: Callable | None = None) -> list[pa.ChunkedArray]:
    cols = [f"c{i}" for i in range(width)]
    read = pacsv.ReadOptions(column_names=cols, skip_rows=int(skip_header), use_threads=threads, block_size=1 << 26)
    quote = '"' if b'"' in data else False  # without quotes to honour, the parser is twice as fast
    parse = pacsv.ParseOptions(delimiter=delim, quote_char=quote, invalid_row_handler=on_invalid)
    # read as bytes: `data` is valid UTF-8 already, so the parser need not check it again
    conv = pacsv.ConvertOptions(column_types={c: pa.binary() for c in cols}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=conv)
    return [pa.chunked_array([c.view(pa.string()) for c in col.chunks], pa.string()) for col in table.columns]


# ---------------------------------------------------------------- typing


@dataclass
class Text:
    """One file's rows as text columns under canonical names; row i is on line `first_line + i`."""

    path: Path
    columns: dict[str, pa.ChunkedArray]
    header: dict[str, str]  # canonical name → the header's spelling
    first_line: int
    rows: int

    def field(self, col: str) -> str:
        return self.header.get(col, col)

    def check(self, mask, field: str, message: Callable[[object], str], values) -> None:
        """Fail on the first row where `mask` (Arrow or numpy) is true, quoting `values` there."""
        i = first_true(mask)
        if i is not None:
            value = values[i].as_py() if isinstance(values, (pa.Array, pa.ChunkedArray)) else values.iloc[i]
            raise InputError(self.path, message(value), self.first_line + i, field)

    def source_lines(self) -> np.ndarray:
        return np.arange(self.first_line, self.first_line + self.rows, dtype=np.int64)


def first_true(mask) -> int | None:
    if isinstance(mask, (pa.Array, pa.ChunkedArray)):
        i = pc.index(mask, True).as_py()
        return None if i < 0 else i
    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) if len(hits) else None


def canonical(path: Path, names: list[str], columns: list[pa.ChunkedArray], aliases: dict[str, str],
              first_line: int = 2) -> Text:
    """Rename header names to canonical ones; an unknown or repeated name is an error."""
    seen: dict[str, str] = {}
    for name in names:
        if name not in aliases:
            raise InputError(path, "unknown column in header: not a known CAASPP layout", 1, name)
        key = aliases[name]
        if key in seen:
            raise InputError(path, f"column repeats '{seen[key]}'", 1, name)
        seen[key] = name
    rows = len(columns[0]) if columns else 0
    return Text(path, {aliases[n]: c for n, c in zip(names, columns)}, seen, first_line, rows)


def numeric(text: Text, col: str, *, whole: bool, lo: float | None = None,
            hi: float | None = None) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Type one column: '*' → missing + suppressed flag, blank → missing, anything else must be a number."""
    raw, allowed = text.columns[col], b"0123456789*" if whole else b"0123456789.*"
    plain = only_bytes(raw, allowed)
    trimmed = raw if plain else pc.utf8_trim_whitespace(raw)  # plain text has no spaces to trim
    plain = plain or only_bytes(trimmed, allowed)
    star = pc.equal(trimmed, STAR)
    given = pc.if_else(pc.or_(star, pc.equal(pc.binary_length(trimmed), 0)), NO_TEXT, trimmed)
    values = _plain_number(given, whole) if plain else None
    if values is None:
        return _parsed_number(text, col, trimmed, star, whole, lo, hi), star
    field = text.field(col)
    if lo is not None and lo > 0:  # plain numbers are never negative
        text.check(pc.less(values, lo), field, lambda v: f"below {lo:g}: {v!r}", trimmed)
    if hi is not None:
        text.check(pc.greater(values, hi), field, lambda v: f"above {hi:g}: {v!r}", trimmed)
    return values, star


def only_bytes(col: pa.ChunkedArray, allowed: bytes) -> bool:
    """Whether every value of a text column is made of `allowed` characters (checked on its data buffers)."""
    ok = np.zeros(256, dtype=bool)
    ok[list(allowed)] = True
    for chunk in col.chunks:
        _, offsets, data = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[[chunk.offset, chunk.offset + len(chunk)]]
        if data is not None and not ok[np.frombuffer(data, dtype=np.uint8)[bounds[0]:bounds[1]]].all():
            return False
    return True


def _plain_number(given: pa.ChunkedArray, whole: bool) -> pa.ChunkedArray | None:
    """`given` (digits, '.', '*') as int64 (whole) or float64, if each is one number that pandas would
    read the same: not '*' or '1.2.3', not too long."""
    if (pc.max(pc.binary_length(given)).as_py() or 0) > PLAIN_DIGITS:
        return None
    try:
        return pc.cast(given, pa.int64() if whole else pa.float64())
    except pa.ArrowInvalid:
        return None


def _parsed_number(text: Text, col: str, trimmed: pa.ChunkedArray, star: pa.ChunkedArray, whole: bool,
                   lo: float | None, hi: float | None) -> pa.ChunkedArray:
    """pandas' number parser for values that are not plain digits (signs, exponents, other scripts' digits,
    words): the values and the errors are the ones it has always given."""
    strings, starred = trimmed.to_pandas(), star.to_numpy(zero_copy_only=False)
    blank = (strings == "").to_numpy()
    values = pd.to_numeric(strings.mask(starred | blank), errors="coerce")
    field = text.field(col)
    text.check(~starred & ~blank & values.isna().to_numpy(), field, lambda v: f"not a number: {v!r}", strings)
    if whole:
        text.check(values.notna() & (values % 1 != 0), field, lambda v: f"not a whole number: {v!r}", strings)
    if lo is not None:
        text.check(values < lo, field, lambda v: f"below {lo:g}: {v!r}", strings)
    if hi is not None:
        text.check(values > hi, field, lambda v: f"above {hi:g}: {v!r}", strings)
    return pa.chunked_array([pa.array(values.astype("Int64" if whole else "Float64").array)])


def code(text: Text, col: str, width: int) -> pa.ChunkedArray:
    """A zero-padded code column (county 2, district 5, school 7 digits)."""
    trimmed = pc.utf8_trim_whitespace(text.columns[col])
    if pc.all(pc.string_is_ascii(trimmed), min_count=0).as_py():
        bad = pc.invert(pc.and_(pc.ascii_is_decimal(trimmed), pc.less_equal(pc.binary_length(trimmed), width)))
    else:  # Python's \d, as pandas used for non-ASCII text: other scripts' digits are digits too
        bad = ~trimmed.to_pandas().str.fullmatch(r"\d{1,%d}" % width).to_numpy()
    text.check(bad, text.field(col), lambda v: f"not a {width}-digit code: {v!r}", trimmed)
    return pc.utf8_zfill(trimmed, width)


def cds_of(text: Text) -> pa.ChunkedArray:
    """The 14-digit CDS code from the three checked code columns."""
    return pc.binary_join_element_wise(*(code(text, c, w) for c, w in CODE_WIDTHS.items()), "")


def series(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Arrow → pandas as the store types it: int64 → Int64, float64 → Float64, text → str."""
    if pa.types.is_integer(values.type):
        return pd.Series(pd.Int64Dtype().__from_arrow__(values))
    if pa.types.is_floating(values.type):
        return pd.Series(pd.Float64Dtype().__from_arrow__(values))
    return values.to_pandas()


@cache
def _schema(dtypes: tuple[tuple[str, str], ...]) -> pa.Schema:
    """The Arrow schema (with pandas metadata) pandas would write for a frame of these dtypes."""
    empty = pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes})
    return pa.Schema.from_pandas(empty, preserve_index=False)


def arrow_table(columns: Mapping[str, object], dtypes: dict[str, str]) -> pa.Table:
    """A table of `columns` (Arrow or numpy) in the order and types of `dtypes`."""
    schema = _schema(tuple(dtypes.items()))
    arrays = []
    for f in schema:
        a = columns[f.name]
        a = pa.array(a) if isinstance(a, np.ndarray) else a
        arrays.append(a if a.type == f.type else a.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# ---------------------------------------------------------------- research files


@dataclass
class ResultPart:
    """One research file's typed rows, kept as Arrow columns until the store is assembled."""

    path: Path
    columns: dict[str, pa.ChunkedArray]  # cds, the key numbers, test_type and the file's numeric columns
    pattern: pa.Array  # per row: its index in `patterns`
    patterns: pa.Table  # suppressed_fields and the three flags, one row per distinct set of '*' fields
    first_line: int = 2

    def __len__(self) -> int:
        return len(self.pattern)

    def to_pandas(self) -> pd.DataFrame:
        """The rows as `read_file` gives them: typed, before the entity join."""
        cds = self.columns["cds"]
        cols: dict[str, object] = {"cds": cds, "source_line": np.arange(self.first_line, self.first_line + len(self))}
        for (c, width), start in zip(CODE_WIDTHS.items(), (0, 2, 7)):
            cols[c] = pc.utf8_slice_codeunits(cds, start, start + width)
        cols["type_id"] = self.columns.get("type_id", pa.nulls(len(self), pa.int64()))
        cols |= row_columns(self.columns, take_rows(self.patterns, self.pattern), len(self))
        return arrow_table(cols, TYPED_DTYPES).to_pandas()


def read_results(text: Text) -> ResultPart:
    cols = {"cds": cds_of(text)}
    for col in KEY_INTS:
        if col in text.columns:
            cols[col], star = numeric(text, col, whole=True, lo=0)
            text.check(pc.or_(star, pc.is_null(cols[col])), text.field(col),
                       lambda v: f"a key field must have a value, found {v!r}", text.columns[col])
        elif col != "type_id":
            raise InputError(text.path, f"no {col} column: a research file needs {', '.join(KEY_INTS[:4])}", 1)
    if "test_type" in text.columns:
        cols["test_type"] = pc.utf8_trim_whitespace(text.columns["test_type"])
    stars = {}
    for col in layouts.RESULT_NUMERIC:
        if col in text.columns:
            cols[col], stars[col] = numeric(text, col, whole=is_count(col), lo=0, hi=100 if is_pct(col) else None)
            del text.columns[col]  # free the text as soon as it is typed
    pattern, patterns = suppression_patterns(stars, text.rows)
    return ResultPart(text.path, cols, pattern, patterns, text.first_line)


def suppression_patterns(stars: dict[str, pa.ChunkedArray], rows: int) -> tuple[pa.Array, pa.Table]:
    """`suppressed_fields` names every field that was '*'; three flags summarise them. Rows share a few
    patterns, so each distinct pattern is spelled out once and rows point at theirs."""
    names = list(stars)
    bits = np.zeros((rows, len(names)), dtype=bool)
    for j, col in enumerate(names):
        bits[:, j] = stars[col].to_numpy(zero_copy_only=False)
    pattern, first = group_rows(bits)
    chosen = bits[first]
    fields = ["|".join(c for c, on in zip(names, row) if on) for row in chosen]
    counts = chosen[:, [j for j, c in enumerate(names) if c in layouts.COUNT_FIELDS]].any(axis=1)
    results = chosen[:, [j for j, c in enumerate(names) if c in layouts.RESULT_FIELDS]].any(axis=1)
    patterns = pa.table({"suppressed_fields": pa.array(fields, pa.large_string()), "counts_suppressed": counts,
                         "results_suppressed": results, "suppressed": counts | results})
    return pa.array(pattern, pa.int32()), patterns


def group_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group per row, first row of each group): rows with equal bits share a group number 0, 1, …"""
    packed = np.packbits(bits, axis=1)
    words = np.pad(packed, ((0, 0), (0, -packed.shape[1] % 8))).view(np.uint64)
    group = np.zeros(len(bits), dtype=np.int64)
    for word in words.T:  # one 64-bit word per 64 fields
        codes, uniques = pd.factorize(word)
        group, _ = pd.factorize(group * len(uniques) + codes)
    return group, np.unique(group, return_index=True)[1]


def row_columns(rows: Mapping[str, pa.ChunkedArray], patterns: Mapping[str, pa.ChunkedArray],
                n: int) -> dict[str, object]:
    """The per-row result columns shared by a file's typed rows and the store: keys, numbers, suppression."""
    out: dict[str, object] = {c: rows[c] for c in ("year", "student_group_id", "grade", "test_id")}
    out["test_type"] = rows.get("test_type", pa.repeat("", n))
    nulls = {t: pa.nulls(n, t) for t in (pa.int64(), pa.float64())}  # one per type, shared by absent columns
    for col in layouts.RESULT_NUMERIC:
        out[col] = rows[col] if col in rows else nulls[pa.int64() if is_count(col) else pa.float64()]
    return out | dict(patterns)


# ---------------------------------------------------------------- other file kinds


def read_entities(text: Text) -> pd.DataFrame:
    cols = {c: code(text, c, w) for c, w in CODE_WIDTHS.items()}
    cols["cds"] = pc.binary_join_element_wise(*cols.values(), "")
    out = pd.DataFrame({c: series(v) for c, v in cols.items()})
    out["year"] = series(numeric(text, "year", whole=True, lo=2000)[0])
    if "type_id" in text.columns:
        out["type_id"] = series(numeric(text, "type_id", whole=True, lo=0)[0])
    else:
        out["type_id"] = derive_type_id(out)
    for col in ("county_name", "district_name", "school_name", "zip_code"):
        out[col] = series(pc.utf8_trim_whitespace(text.columns[col])) if col in text.columns else ""
    out["source_line"] = text.source_lines()
    dup = out.duplicated(["year", "cds"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        first = out[(out["year"] == out["year"].iloc[i]) & (out["cds"] == out["cds"].iloc[i])]["source_line"].iloc[0]
        raise InputError(text.path, f"duplicate entity {out['cds'].iloc[i]} (first on line {first})",
                         int(out["source_line"].iloc[i]), "School Code")
    return out


def derive_type_id(keys: pd.DataFrame) -> pd.Series:
    """Type ID from the codes, for entity files without one (charters cannot be told apart: 7)."""
    t = pd.Series(7, index=keys.index, dtype="Int64")
    t[keys["school_code"] == "0000000"] = 6
    t[keys["district_code"] == "00000"] = 5
    t[keys["county_code"] == "00"] = 4
    return t


def read_student_groups(text: Text) -> pd.DataFrame:
    out = pd.DataFrame({"student_group_id": series(numeric(text, "student_group_id", whole=True, lo=0)[0])})
    out["name"] = series(pc.utf8_trim_whitespace(text.columns["name"]))
    out["category"] = series(pc.utf8_trim_whitespace(text.columns["category"]))
    return out


def read_tests(text: Text) -> pd.DataFrame:
    return pd.DataFrame({"test_id": series(numeric(text, "test_id", whole=True, lo=0)[0]),
                         "name": series(pc.utf8_trim_whitespace(text.columns["name"]))})


def read_headerless_subgroups(path: Path, data: bytes) -> pd.DataFrame:
    names = ["Demographic ID", "Demographic ID Num", "Demographic Name", "Student Group"]
    # comma + space separated, quoted text: strip the space after each comma before parsing
    cleaned = re.sub(r',\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', ",", data.decode("utf-8"), flags=re.M)
    columns = parse_rows(path, cleaned.encode("utf-8"), ",", names, skip_header=False)
    return read_student_groups(canonical(path, names, columns, layouts.STUDENT_GROUP_ALIASES, first_line=1))


# ---------------------------------------------------------------- one file


def read_file(path: Path) -> tuple[str, pd.DataFrame, Source]:
    """Read one file of any supported kind; return (kind, typed frame, source record)."""
    kind, rows, source = _read(path)
    return kind, rows.to_pandas() if isinstance(rows, ResultPart) else rows, source


def _read(path: Path) -> tuple[str, ResultPart | pd.DataFrame, Source]:
    """As `read_file`, but a research file's rows stay in Arrow."""
    data, sha, size = read_text(path)
    if HEADERLESS_SUBGROUPS.match(header_line(data)):
        frame = read_headerless_subgroups(path, data)
        return "student_groups", frame, Source(path.name, sha, "student_groups", "2015–2019 headerless lookup",
                                               ",", len(frame), size)
    delim, names = split_header(path, data)
    if student_file.is_student_file(names):  # TOMS Student Score Data File: SSID dropped, bad records reported
        frame, report = student_file.read(path, data=data)
        frame.attrs["issues"] = report.to_frame()
        return "students", frame, Source(path.name, sha, "students", report.label, delim, report.records, size,
                                         report.excluded)
    columns = parse_rows(path, data, delim, names)
    del data  # the text lives on in `columns`
    kind, era, aliases, reader = classify(path, names, delim)
    text = canonical(path, names, columns, aliases)
    del columns  # `text` alone holds the columns: readers free each one once typed
    rows = reader(text)
    return kind, rows, Source(path.name, sha, kind, era, delim, len(rows), size)


def classify(path: Path, names: list[str], delim: str = "^") -> tuple[str, str, dict[str, str], Callable]:
    """(kind, era label, header aliases, reader) of a file with this header."""
    header = set(names)
    if "Demographic ID Num" in header:
        return "student_groups", "lookup", layouts.STUDENT_GROUP_ALIASES, read_student_groups
    if "Test ID Num" in header:
        return "tests", "lookup", layouts.TEST_ALIASES, read_tests
    if "County Name" in header and not header & {"Test Id", "Test ID"}:
        era = layouts.detect_entity_era(names, delim)
        return "entities", era.label, layouts.ENTITY_ALIASES, read_entities
    era = layouts.detect_result_era(names)
    if era is None:
        raise InputError(path, "unknown header: not a CAASPP research, entities or lookup file "
                         f"(starts {', '.join(names[:4])})", 1)
    return "results", era.label, layouts.RESULTS_ALIASES, read_results


# ---------------------------------------------------------------- entities


def entity_name(type_id: int, county: str, district: str, school: str) -> str:
    if type_id == 4:
        return "State of California"
    if type_id == 5:
        return f"{county} County"
    if type_id == 6:
        return district
    return school


def entity_names(frame: pd.DataFrame) -> pd.Series:
    """`entity_name` of every row, vectorised."""
    t = frame["type_id"].to_numpy(dtype=float, na_value=np.nan)
    names = np.select([t == 4, t == 5, t == 6], [
        np.full(len(frame), "State of California", dtype=object),
        (frame["county_name"] + " County").to_numpy(dtype=object), frame["district_name"].to_numpy(dtype=object)],
        frame["school_name"].to_numpy(dtype=object))
    return pd.Series(names, index=frame.index, dtype="string")


def lea_of(frame: pd.DataFrame) -> pd.Series:
    """The LEA a row belongs to: districts and charters are their own; schools belong to their district."""
    district = frame["county_code"] + frame["district_code"] + "0000000"
    lea = frame["cds"].where(frame["type_id"].isin([6, 9, 10]), district)
    return lea.where(frame["type_id"].isin([6, 7, 9, 10]), pd.NA).astype("string")


def _entities(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["year", "cds", "type_id", "county_name", "district_name", "school_name"])
    ent = pd.concat(frames, ignore_index=True)
    # SB and CAST entity files of one year overlap; the first (by file name) names an entity
    return ent.drop_duplicates(["year", "cds"], keep="first").reset_index(drop=True)


@dataclass
class Entities:
    """What a result row takes from its entity, one row per entity, and the (year, cds) keys to find it."""

    frame: pd.DataFrame
    table: pa.Table
    keys: pa.Array

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Entities:
        cols = [*CODE_WIDTHS, "cds", "type_id", *ENTITY_COLUMNS]
        if frame.empty:
            return cls(frame, arrow_table({c: pa.array([], pa.null()) for c in cols},
                                          {c: RESULT_DTYPES[c] for c in cols}), pa.array([], pa.string()))
        attrs = frame.assign(entity_name=entity_names(frame), lea_cds=lea_of(frame))[cols]
        table = arrow_table({c: pa.array(attrs[c].array) for c in cols}, {c: RESULT_DTYPES[c] for c in cols})
        return cls(frame, table, join_key(pa.array(frame["year"].array), table["cds"]))

    def find(self, part: ResultPart) -> pa.ChunkedArray:
        """Each row's entity (its row in `table`); a row without one, or whose Type ID disagrees, is an error."""
        year, cds = part.columns["year"], part.columns["cds"]
        index = pc.index_in(join_key(year, cds), value_set=self.keys)
        type_id = self.table["type_id"].take(index)
        i = first_true(pc.is_null(type_id))
        if i is not None:
            y = year[i].as_py()
            have = sorted(set(self.frame["year"].astype(int))) if len(self.frame) else []
            why = (f"entity {_dashed(cds[i].as_py())} is not in the {y} entities file"
                   if y in have else f"no entities file for test year {y} was given")
            raise InputError(part.path, why, part.first_line + i, "School Code" if y in have else "Test Year")
        own = part.columns.get("type_id")
        if own is not None:
            i = first_true(pc.and_(pc.is_valid(own), pc.not_equal(own, type_id)))
            if i is not None:
                raise InputError(part.path, f"Type ID {own[i].as_py()} disagrees with the entities file "
                                 f"({type_id[i].as_py()}) for {_dashed(cds[i].as_py())}", part.first_line + i,
                                 "Type ID")
        return index


def join_key(year, cds) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(pc.cast(year, pa.string()), pc.cast(cds, pa.string()), "|")


def _dashed(cds: str) -> str:
    return f"{cds[:2]}-{cds[2:7]}-{cds[7:]}"


# ---------------------------------------------------------------- all research rows


@dataclass
class Results:
    """Every research row as Arrow columns in file order, with the order that sorts them by KEY; entity
    attributes and suppression patterns are looked up per row when a table is made."""

    rows: dict[str, pa.Array]  # the key numbers, test_type, numeric columns, entity, pattern, file, line
    order: pa.Array
    entities: pa.Table
    patterns: pa.Table
    files: pa.Array

    def __len__(self) -> int:
        return len(self.order)

    def table(self, start: int = 0, length: int | None = None) -> pa.Table:
        """Rows [start, start + length) of the store's results table."""
        at = self.order.slice(start, length)
        rows = {c: a.take(at) for c, a in self.rows.items()}
        cols = take_rows(self.entities, rows["entity"])
        cols |= row_columns(rows, take_rows(self.patterns, rows["pattern"]), len(at))
        cols |= {"source_line": rows["source_line"], "source_file": self.files.take(rows["file"])}
        return arrow_table(cols, RESULT_DTYPES)

    def row_groups(self) -> Iterator[pa.Table]:
        for start in range(0, len(self), ROW_GROUP):
            yield self.table(start, ROW_GROUP)

    def to_pandas(self) -> pd.DataFrame:
        return self.table().to_pandas()


def take_rows(table: pa.Table, index: pa.Array) -> dict[str, pa.ChunkedArray]:
    """The table's rows at `index`, column by column (several times faster than Table.take)."""
    return {c: table[c].take(index) for c in table.column_names}


def combine(parts: list[ResultPart], entities: Entities) -> Results:
    """Join every file's rows to their entities (file by file), check the keys are unique, sort by KEY."""
    found = [entities.find(p) for p in parts]
    offsets = np.cumsum([0] + [len(p.patterns) for p in parts])
    per_part = [_part_rows(p, i, e, int(o)) for i, (p, e, o) in enumerate(zip(parts, found, offsets))]
    files = pa.array([p.path.name for p in parts], pa.large_string())
    patterns = pa.concat_tables([p.patterns for p in parts])
    parts.clear()
    del found
    names = ["cds", "year", "student_group_id", "grade", "test_id", "test_type",
             *(c for c in layouts.RESULT_NUMERIC if any(c in r for r in per_part)),
             "entity", "pattern", "file", "source_line"]
    # one contiguous column at a time, each file's chunks dropped as soon as they are copied
    rows = {c: _contiguous([r.pop(c) if c in r else _nulls(c, len(r["source_line"])) for r in per_part]) for c in names}
    order = pc.sort_indices(pa.table({k: rows[k] for k in KEY}), sort_keys=[(k, "ascending") for k in KEY])
    check_unique(rows, order, files)
    del rows["cds"]  # the entity's
    return Results(rows, order, entities.table, patterns, files)


def _part_rows(part: ResultPart, i: int, entity: pa.ChunkedArray, offset: int) -> dict[str, object]:
    """One file's per-row columns for the store (its numeric columns, where it has them)."""
    n = len(part)
    rows = dict(part.columns)
    rows.setdefault("test_type", pa.repeat("", n))
    rows.pop("type_id", None)  # the entity's Type ID (checked against this one) is the store's
    return rows | {"entity": entity, "pattern": pc.add(part.pattern, pa.scalar(offset, pa.int32())),
                   "file": pa.array(np.full(n, i, dtype=np.int32)),
                   "source_line": pa.array(np.arange(part.first_line, part.first_line + n))}


def _nulls(col: str, n: int) -> pa.Array:
    return pa.nulls(n, pa.int64() if is_count(col) else pa.float64())


def _contiguous(values: list) -> pa.Array:
    chunks = [c for v in values for c in (v.chunks if isinstance(v, pa.ChunkedArray) else [v])]
    return pa.concat_arrays(chunks) if chunks else pa.array([], values[0].type)


def check_unique(rows: dict[str, pa.Array], order: pa.Array, files: pa.Array) -> None:
    """Two rows with one KEY are an error naming both, the later one (by file and line) as the place."""
    if len(order) < 2:
        return
    same = None
    for k in KEY:
        col = rows[k].take(order)
        eq = pc.equal(col.slice(1), col.slice(0, len(col) - 1))
        same = eq if same is None else pc.and_(same, eq)
    pairs = np.flatnonzero(same.to_numpy(zero_copy_only=False))
    if not len(pairs):
        return
    at = pa.array(np.sort(order.to_numpy()[np.union1d(pairs, pairs + 1)]))  # in the order the files were read
    dup = pd.DataFrame({k: series(rows[k].take(at)) for k in KEY})
    dup["source_file"] = files.take(rows["file"].take(at)).to_pandas()
    dup["source_line"] = rows["source_line"].take(at).to_numpy()
    dup = dup.sort_values(["source_file", "source_line"])
    first, second = dup.iloc[0], dup[dup[KEY].eq(dup.iloc[0][KEY]).all(axis=1)].iloc[1]
    raise InputError(second["source_file"], f"duplicate key (year {first['year']}, {_dashed(first['cds'])}, "
                     f"test {first['test_id']}, group {first['student_group_id']}, grade {first['grade']}) "
                     f"already on line {first['source_line']} of {first['source_file']}",
                     int(second["source_line"]), "Grade")


# ---------------------------------------------------------------- the store


def expand(paths: list[Path]) -> list[Path]:
    """Files given, and the *.txt / *.csv files (gzipped or not) under any folder given, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.name.lower().endswith(SUFFIXES) and q.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "no such file or folder")
    return sorted(set(out), key=lambda q: (q.name, str(q)))


@dataclass
class Store:
    """Every table of the store: research rows in Arrow, the small tables in pandas."""

    results: Results | None  # None: no research file among the inputs
    tables: dict[str, pd.DataFrame]  # entities, student_groups, tests, sources


def read_store(paths: list[Path]) -> Store:
    """Read every file, then join research rows to their entities and check them."""
    parts: dict[str, list] = {k: [] for k in STORE_TABLES}
    sources: list[Source] = []
    for path in expand(paths):
        kind, rows, source = _read(path)
        pa.default_memory_pool().release_unused()  # the file's text is freed: give its memory back
        sources.append(source)
        if kind != "results":
            rows["source_file"] = path.name
        if kind == "students":
            parts["student_issues"].append(rows.attrs.pop("issues"))
        parts[kind].append(rows)
    entities = _entities(parts["entities"])
    results = combine(parts["results"], Entities.of(entities)) if parts["results"] else None
    return Store(results, {
        "entities": entities,
        "student_groups": _concat(parts["student_groups"], ["student_group_id", "name", "category", "source_file"]),
        "tests": _concat(parts["tests"], ["test_id", "name", "source_file"]),
        "students": _concat(parts["students"], student_file.COLUMNS + ["source_file"]),
        "student_issues": _concat(parts["student_issues"], ["file", "line", "field", "reason", "severity"]),
        "sources": pd.DataFrame([asdict(s) for s in sources], columns=list(Source.__dataclass_fields__)),
    })


def _concat(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame(columns=KEY + ["lea_cds", "entity_name"])


def build(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Read every file and assemble the store's tables (in memory)."""
    store = read_store(paths)
    results = store.results.to_pandas() if store.results is not None else _empty_results()
    return {"results": results, **store.tables}


class StoreTables(Mapping[str, pd.DataFrame]):
    """The tables `ingest` wrote. `results` (millions of rows for a statewide year) is read back from the
    store when first asked for; the others are in memory."""

    def __init__(self, store_dir: Path, tables: dict[str, pd.DataFrame]):
        self.store_dir, self._tables = store_dir, dict(tables)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name == "results" and name not in self._tables:
            self._tables[name] = pd.read_parquet(self.store_dir / "results.parquet")
        return self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(STORE_TABLES)

    def __len__(self) -> int:
        return len(STORE_TABLES)

    def __contains__(self, name: object) -> bool:
        return name in STORE_TABLES

    def rows(self, name: str) -> int:
        """A table's row count, without reading `results` back."""
        if name == "results" and name not in self._tables:
            return pq.read_metadata(self.store_dir / "results.parquet").num_rows
        return len(self._tables[name])


def write(store: Store, store_dir: Path) -> None:
    """Write every table as Parquet (an empty results table when no research file was read); the store is
    replaced whole, so a failure leaves the old one; a folder with files the tool did not write is refused."""
    with atomic.replacing(store_dir, "store", atomic.names_in(f"{t}.parquet" for t in STORE_TABLES)) as tmp:
        with pq.ParquetWriter(tmp / "results.parquet", _schema(tuple(RESULT_DTYPES.items())),
                              compression="snappy") as out:
            for group in store.results.row_groups() if store.results is not None else ():
                out.write_table(group)
                del group
                pa.default_memory_pool().release_unused()
        for name, frame in store.tables.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)


def ingest(paths: list[Path], store_dir: Path, require_results: bool = True) -> StoreTables:
    """Read `paths` (files or folders) into a fresh store at `store_dir`; return its tables. Without
    `require_results` (LEA mode) a Student Score Data File alone is enough."""
    store = read_store(paths)
    has_results = store.results is not None and len(store.results) > 0
    if require_results and not has_results:
        raise InputError(paths[0] if paths else store_dir, "no research (results) file among the inputs")
    if not has_results and store.tables["students"].empty:
        raise InputError(paths[0] if paths else store_dir, "no research file and no Student Score Data File "
                         "records among the inputs: nothing to report")
    write(store, store_dir)
    return StoreTables(store_dir, store.tables)
