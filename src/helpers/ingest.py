"""Read CAASPP research files, entities files and lookups of every era into one typed Parquet store."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import atomic, layouts
from .errors import InputError

ENCODING = "cp1252"  # CDE files are Windows-1252 (ñ, the en dash in "Ever–EL"), not UTF-8
HEADERLESS_SUBGROUPS = re.compile(r'^"\d{3}", ?\d+, ?"')
STORE_TABLES = ("results", "entities", "student_groups", "tests", "sources")


@dataclass(frozen=True)
class Source:
    file: str
    sha256: str
    kind: str
    era: str
    delimiter: str
    rows_read: int
    bytes: int


# ---------------------------------------------------------------- reading text


def read_text(path: Path) -> tuple[str, str, int]:
    """Decode a file as cp1252; return (text, sha256, size). Undecodable bytes name their line."""
    raw = path.read_bytes()
    try:
        text = raw.decode(ENCODING)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"byte 0x{raw[exc.start]:02x} is not valid {ENCODING} text", line) from None
    return text.lstrip("\ufeff"), hashlib.sha256(raw).hexdigest(), len(raw)


def split_header(path: Path, text: str) -> tuple[str, list[str]]:
    """Return (delimiter, header names) from the first line."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise InputError(path, "empty file or blank header row", 1)
    if "^" in first:
        delim = "^"
    elif "," in first:
        delim = ","
    else:
        raise InputError(path, "cannot tell the delimiter: the header has neither '^' nor ','", 1)
    names = [n.strip().strip('"').strip() for n in first.split(delim)]
    return delim, names


def parse_rows(path: Path, text: str, delim: str, names: list[str], skip_header: bool = True) -> pd.DataFrame:
    """Parse every row as text with pyarrow; a row with the wrong field count is an error naming its line."""
    bad: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(row)
        return "error"

    cols = [f"c{i}" for i in range(len(names))]
    read = pacsv.ReadOptions(column_names=cols, skip_rows=1 if skip_header else 0, use_threads=False,
                             block_size=1 << 26)
    parse = pacsv.ParseOptions(delimiter=delim, quote_char='"', invalid_row_handler=on_invalid)
    conv = pacsv.ConvertOptions(column_types={c: pa.string() for c in cols}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    try:
        table = pacsv.read_csv(io.BytesIO(text.encode("utf-8")), read_options=read,
                               parse_options=parse, convert_options=conv)
    except pa.ArrowInvalid as exc:
        if bad:
            row = bad[0]
            raise InputError(path, f"expected {row.expected_columns} fields ('{delim}'-delimited, as the header), "
                             f"found {row.actual_columns}", row.number) from None
        raise InputError(path, f"cannot parse: {exc}") from None
    frame = table.to_pandas()
    frame.columns = names
    return frame


# ---------------------------------------------------------------- typing


def canonical(path: Path, frame: pd.DataFrame, aliases: dict[str, str]) -> pd.DataFrame:
    """Rename header names to canonical ones; an unknown or repeated name is an error."""
    seen: dict[str, str] = {}
    for name in frame.columns.drop("source_line", errors="ignore"):
        if name not in aliases:
            raise InputError(path, "unknown column in header: not a known CAASPP layout", 1, name)
        key = aliases[name]
        if key in seen:
            raise InputError(path, f"column repeats '{seen[key]}'", 1, name)
        seen[key] = name
    out = frame.rename(columns=aliases)
    out.attrs["header"] = seen
    return out


def numeric(path: Path, frame: pd.DataFrame, col: str, *, whole: bool, lo: float | None = None,
            hi: float | None = None) -> tuple[pd.Series, pd.Series]:
    """Type one column: '*' → missing + suppressed flag, blank → missing, anything else must be a number."""
    text = frame[col].str.strip()
    star = text == "*"
    blank = text == ""
    values = pd.to_numeric(text.mask(star | blank), errors="coerce")
    field = frame.attrs["header"].get(col, col)
    _check(path, frame, ~star & ~blank & values.isna(), field, lambda v: f"not a number: {v!r}", text)
    if whole:
        _check(path, frame, values.notna() & (values % 1 != 0), field, lambda v: f"not a whole number: {v!r}", text)
    if lo is not None:
        _check(path, frame, values < lo, field, lambda v: f"below {lo:g}: {v!r}", text)
    if hi is not None:
        _check(path, frame, values > hi, field, lambda v: f"above {hi:g}: {v!r}", text)
    typed = values.astype("Int64") if whole else values.astype("Float64")
    return typed, star


def _check(path: Path, frame: pd.DataFrame, mask: pd.Series, field: str, message, text: pd.Series) -> None:
    if mask.any():
        i = int(mask.to_numpy().nonzero()[0][0])
        raise InputError(path, message(text.iloc[i]), int(frame["source_line"].iloc[i]), field)


def code(path: Path, frame: pd.DataFrame, col: str, width: int) -> pd.Series:
    """A zero-padded code column (county 2, district 5, school 7 digits)."""
    text = frame[col].str.strip()
    bad = ~text.str.fullmatch(r"\d{1,%d}" % width)
    field = frame.attrs["header"].get(col, col)
    _check(path, frame, bad, field, lambda v: f"not a {width}-digit code: {v!r}", text)
    return text.str.zfill(width)


def with_keys(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for col, width in zip(layouts.KEY_COLUMNS, (2, 5, 7)):
        frame[col] = code(path, frame, col, width)
    frame["cds"] = frame["county_code"] + frame["district_code"] + frame["school_code"]
    return frame


# ---------------------------------------------------------------- file kinds


def read_results(path: Path, frame: pd.DataFrame, era: layouts.Era) -> pd.DataFrame:
    frame = with_keys(path, canonical(path, frame, layouts.RESULTS_ALIASES))
    out = frame[["county_code", "district_code", "school_code", "cds"]].copy()
    for col in ("year", "student_group_id", "grade", "test_id", "type_id"):
        if col in frame:
            out[col], star = numeric(path, frame, col, whole=True, lo=0)
            _check(path, frame, star | out[col].isna(), frame.attrs["header"][col],
                   lambda v: f"a key field must have a value, found {v!r}", frame[col])
    if "type_id" not in out:
        out["type_id"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["test_type"] = frame["test_type"].str.strip() if "test_type" in frame else ""
    stars = {}
    for col in layouts.RESULT_NUMERIC:
        if col in frame:
            is_count = col in layouts.COUNT_COLUMNS or "_count_" in col or col.endswith("_total")
            is_pct = col.startswith("pct_") or "_pct_" in col or col == "mean_percent_correct"
            out[col], stars[col] = numeric(path, frame, col, whole=is_count, lo=0, hi=100 if is_pct else None)
        else:
            out[col] = pd.array([pd.NA] * len(out), dtype="Int64" if col in layouts.COUNT_COLUMNS
                                or "_count_" in col or col.endswith("_total") else "Float64")
    out = _flag_suppressed(out, stars)
    out["source_line"] = frame["source_line"].to_numpy()
    return out


def _flag_suppressed(out: pd.DataFrame, stars: dict[str, pd.Series]) -> pd.DataFrame:
    """`suppressed_fields` names every field that was '*'; three flags summarise them."""
    listed = pd.Series("", index=out.index, dtype="string")
    for col, star in stars.items():
        listed = listed.mask(star, listed + "|" + col)
    out["suppressed_fields"] = listed.str.lstrip("|")
    none = pd.Series(False, index=out.index)
    any_of = lambda cols: pd.concat([stars[c] for c in cols if c in stars] or [none], axis=1).any(axis=1)
    out["counts_suppressed"] = any_of(layouts.COUNT_FIELDS)
    out["results_suppressed"] = any_of(layouts.RESULT_FIELDS)
    out["suppressed"] = out["counts_suppressed"] | out["results_suppressed"]
    return out


def read_entities(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    frame = with_keys(path, canonical(path, frame, layouts.ENTITY_ALIASES))
    out = frame[["county_code", "district_code", "school_code", "cds"]].copy()
    out["year"], _ = numeric(path, frame, "year", whole=True, lo=2000)
    if "type_id" in frame:
        out["type_id"], _ = numeric(path, frame, "type_id", whole=True, lo=0)
    else:
        out["type_id"] = derive_type_id(out)
    for col in ("county_name", "district_name", "school_name", "zip_code"):
        out[col] = frame[col].str.strip() if col in frame else ""
    out["source_line"] = frame["source_line"].to_numpy()
    dup = out.duplicated(["year", "cds"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        first = out[(out["year"] == out["year"].iloc[i]) & (out["cds"] == out["cds"].iloc[i])]["source_line"].iloc[0]
        raise InputError(path, f"duplicate entity {out['cds'].iloc[i]} (first on line {first})",
                         int(out["source_line"].iloc[i]), "School Code")
    return out


def derive_type_id(keys: pd.DataFrame) -> pd.Series:
    """Type ID from the codes, for entity files without one (charters cannot be told apart: 7)."""
    t = pd.Series(7, index=keys.index, dtype="Int64")
    t[keys["school_code"] == "0000000"] = 6
    t[keys["district_code"] == "00000"] = 5
    t[keys["county_code"] == "00"] = 4
    return t


def read_student_groups(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    frame = canonical(path, frame, layouts.STUDENT_GROUP_ALIASES)
    out = pd.DataFrame({"student_group_id": numeric(path, frame, "student_group_id", whole=True, lo=0)[0]})
    out["name"] = frame["name"].str.strip()
    out["category"] = frame["category"].str.strip()
    return out


def read_tests(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    frame = canonical(path, frame, layouts.TEST_ALIASES)
    return pd.DataFrame({"test_id": numeric(path, frame, "test_id", whole=True, lo=0)[0],
                         "name": frame["name"].str.strip()})


def read_headerless_subgroups(path: Path, text: str) -> pd.DataFrame:
    names = ["Demographic ID", "Demographic ID Num", "Demographic Name", "Student Group"]
    # comma + space separated, quoted text: strip the space after each comma before parsing
    cleaned = re.sub(r',\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', ",", text, flags=re.M)
    frame = parse_rows(path, cleaned, ",", names, skip_header=False)
    frame["source_line"] = range(1, len(frame) + 1)
    return read_student_groups(path, frame)


def read_file(path: Path) -> tuple[str, pd.DataFrame, Source]:
    """Read one file of any supported kind; return (kind, typed frame, source record)."""
    text, sha, size = read_text(path)
    if HEADERLESS_SUBGROUPS.match(text):
        frame = read_headerless_subgroups(path, text)
        return "student_groups", frame, Source(path.name, sha, "student_groups", "2015–2019 headerless lookup",
                                               ",", len(frame), size)
    delim, names = split_header(path, text)
    frame = parse_rows(path, text, delim, names)
    frame["source_line"] = range(2, len(frame) + 2)
    kind, era, typed = classify_and_type(path, names, frame, delim)
    return kind, typed, Source(path.name, sha, kind, era, delim, len(typed), size)


def classify_and_type(path: Path, names: list[str], frame: pd.DataFrame,
                      delim: str = "^") -> tuple[str, str, pd.DataFrame]:
    header = set(names)
    if "Demographic ID Num" in header:
        return "student_groups", "lookup", read_student_groups(path, frame)
    if "Test ID Num" in header:
        return "tests", "lookup", read_tests(path, frame)
    if "County Name" in header and not header & {"Test Id", "Test ID"}:
        era = layouts.detect_entity_era(names, delim)
        return "entities", era.label, read_entities(path, frame)
    era = layouts.detect_result_era(names)
    if era is None:
        raise InputError(path, "unknown header: not a CAASPP research, entities or lookup file "
                         f"(starts {', '.join(names[:4])})", 1)
    return "results", era.label, read_results(path, frame, era)


# ---------------------------------------------------------------- the store


def expand(paths: list[Path]) -> list[Path]:
    """Files given, and the *.txt / *.csv files under any folder given, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() in (".txt", ".csv") and q.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise InputError(p, "no such file or folder")
    return sorted(set(out), key=lambda q: (q.name, str(q)))


def build(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Read every file and assemble the store's tables (in memory)."""
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in STORE_TABLES}
    sources: list[Source] = []
    results_by_file: list[tuple[Path, pd.DataFrame]] = []
    for path in expand(paths):
        kind, frame, source = read_file(path)
        sources.append(source)
        frame["source_file"] = path.name
        if kind == "results":
            results_by_file.append((path, frame))
        else:
            parts[kind].append(frame)
    entities = _entities(parts["entities"])
    results = [_join_entities(p, f, entities) for p, f in results_by_file]
    store = {
        "results": _check_unique(pd.concat(results, ignore_index=True) if results else _empty_results()),
        "entities": entities,
        "student_groups": _concat(parts["student_groups"], ["student_group_id", "name", "category", "source_file"]),
        "tests": _concat(parts["tests"], ["test_id", "name", "source_file"]),
        "sources": pd.DataFrame([asdict(s) for s in sources], columns=list(Source.__dataclass_fields__)),
    }
    return store


def _concat(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _entities(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["year", "cds", "type_id", "county_name", "district_name", "school_name"])
    ent = pd.concat(frames, ignore_index=True)
    # SB and CAST entity files of one year overlap; the first (by file name) names an entity
    return ent.drop_duplicates(["year", "cds"], keep="first").reset_index(drop=True)


def _join_entities(path: Path, results: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    cols = ["year", "cds", "type_id", "county_name", "district_name", "school_name"]
    merged = results.merge(entities[cols], on=["year", "cds"], how="left", suffixes=("", "_entity"),
                           validate="many_to_one")
    missing = merged["type_id_entity"].isna()
    if missing.any():
        i = int(missing.to_numpy().nonzero()[0][0])
        year = int(merged["year"].iloc[i])
        have = sorted(set(entities["year"].astype(int))) if len(entities) else []
        why = (f"entity {_dashed(merged['cds'].iloc[i])} is not in the {year} entities file"
               if year in have else f"no entities file for test year {year} was given")
        raise InputError(path, why, int(merged["source_line"].iloc[i]), "School Code" if year in have else "Test Year")
    clash = merged["type_id"].notna() & (merged["type_id"] != merged["type_id_entity"])
    if clash.any():
        i = int(clash.to_numpy().nonzero()[0][0])
        raise InputError(path, f"Type ID {merged['type_id'].iloc[i]} disagrees with the entities file "
                         f"({merged['type_id_entity'].iloc[i]}) for {_dashed(merged['cds'].iloc[i])}",
                         int(merged["source_line"].iloc[i]), "Type ID")
    merged["type_id"] = merged["type_id_entity"].astype("Int64")
    merged = merged.drop(columns=["type_id_entity"])
    merged["entity_name"] = entity_names(merged)
    merged["lea_cds"] = lea_of(merged)
    return merged


def entity_name(type_id: int, county: str, district: str, school: str) -> str:
    if type_id == 4:
        return "State of California"
    if type_id == 5:
        return f"{county} County"
    if type_id == 6:
        return district
    return school


def entity_names(frame: pd.DataFrame) -> pd.Series:
    return pd.Series([entity_name(int(t), c, d, s) for t, c, d, s in zip(
        frame["type_id"], frame["county_name"], frame["district_name"], frame["school_name"])],
        index=frame.index, dtype="string")


def lea_of(frame: pd.DataFrame) -> pd.Series:
    """The LEA a row belongs to: districts and charters are their own; schools belong to their district."""
    district = frame["county_code"] + frame["district_code"] + "0000000"
    lea = frame["cds"].where(frame["type_id"].isin([6, 9, 10]), district)
    return lea.where(frame["type_id"].isin([6, 7, 9, 10]), pd.NA).astype("string")


def _dashed(cds: str) -> str:
    return f"{cds[:2]}-{cds[2:7]}-{cds[7:]}"


KEY = ["year", "cds", "test_id", "test_type", "student_group_id", "grade"]


def _check_unique(results: pd.DataFrame) -> pd.DataFrame:
    dup = results.duplicated(KEY, keep=False)
    if dup.any():
        rows = results[dup].sort_values(["source_file", "source_line"])
        first, second = rows.iloc[0], rows[rows[KEY].eq(rows.iloc[0][KEY]).all(axis=1)].iloc[1]
        raise InputError(second["source_file"], f"duplicate key (year {first['year']}, {_dashed(first['cds'])}, "
                         f"test {first['test_id']}, group {first['student_group_id']}, grade {first['grade']}) "
                         f"already on line {first['source_line']} of {first['source_file']}",
                         int(second["source_line"]), "Grade")
    return results.sort_values(KEY, kind="stable").reset_index(drop=True)


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame(columns=KEY + ["lea_cds", "entity_name"])


def write(store: dict[str, pd.DataFrame], store_dir: Path) -> None:
    """Write every table as Parquet; the store is replaced whole, so a failure leaves the old one."""
    with atomic.replacing(store_dir) as tmp:
        for name, frame in store.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)


def ingest(paths: list[Path], store_dir: Path) -> dict[str, pd.DataFrame]:
    """Read `paths` (files or folders) into a fresh store at `store_dir`; return the tables."""
    store = build(paths)
    if store["results"].empty:
        raise InputError(paths[0] if paths else store_dir, "no research (results) file among the inputs")
    write(store, store_dir)
    return store
