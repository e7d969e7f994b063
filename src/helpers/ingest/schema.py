"""The store's tables, its key and its column types, and Arrow ↔ pandas as the store types them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.ingest import layouts

STORE_TABLES = ("results", "entities", "student_groups", "tests", "sources", "students", "student_issues",
                "findings")
KEY = ["year", "cds", "test_id", "test_type", "student_group_id", "grade"]
KEY_INTS = ("year", "student_group_id", "grade", "test_id", "type_id")
CODE_WIDTHS = {"county_code": 2, "district_code": 5, "school_code": 7}
ENTITY_COLUMNS = ("county_name", "district_name", "school_name", "entity_name", "lea_cds")


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


def series(values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Arrow → pandas as the store types it: int64 → Int64, float64 → Float64, text → str."""
    if pa.types.is_integer(values.type):
        return pd.Series(pd.Int64Dtype().__from_arrow__(values))
    if pa.types.is_floating(values.type):
        return pd.Series(pd.Float64Dtype().__from_arrow__(values))
    return values.to_pandas()


@cache
def arrow_schema(dtypes: tuple[tuple[str, str], ...]) -> pa.Schema:
    """The Arrow schema (with pandas metadata) pandas would write for a frame of these dtypes."""
    empty = pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes})
    return pa.Schema.from_pandas(empty, preserve_index=False)


def arrow_table(columns: Mapping[str, object], dtypes: dict[str, str]) -> pa.Table:
    """A table of `columns` (Arrow or numpy) in the order and types of `dtypes`."""
    schema = arrow_schema(tuple(dtypes.items()))
    arrays = []
    for f in schema:
        a = columns[f.name]
        a = pa.array(a) if isinstance(a, np.ndarray) else a
        arrays.append(a if a.type == f.type else a.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
