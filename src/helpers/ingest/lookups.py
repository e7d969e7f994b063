"""Entities files and the student-group and test lookup files, typed as pandas frames."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from helpers.core.errors import InputError
from helpers.ingest import layouts
from helpers.ingest.fields import Text, canonical, code, numeric
from helpers.ingest.schema import CODE_WIDTHS, series
from helpers.ingest.text import parse_rows


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
