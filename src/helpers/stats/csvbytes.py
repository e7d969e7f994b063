"""The bytes `DataFrame.to_csv(index=False, lineterminator="\\n")` writes, formatted column by column.

pandas formats a table for CSV cell by cell in Python (its csv writer calls `str` on each value): about
16 µs a row for the levels table, most of the `tables` stage. Here each column is formatted once per
distinct value with the very call pandas makes (`ndarray.astype(str)` for a NumPy float column,
`FloatingArray.astype(str)` for a nullable float one), integers and text go through Arrow, and the rows
are joined by Arrow's element-wise join. The bytes are pandas' (tests/test_csvbytes.py compares them);
a frame with a column of another kind (categorical, dates, float32, object columns holding other things
than text or booleans) is left to `to_csv` (`csv_bytes` returns None).

Quoting is the csv module's minimal quoting as pandas uses it: a field is quoted when it holds one of
the characters the running Python's csv writer quotes for (`_QUOTED`, found by asking it), with every
quote doubled.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

BLOCK = 50_000  # rows formatted at a time (bounds the Arrow buffers)
_TEXT = pa.large_string()


def _quoted_characters() -> str:
    """The characters that make Python's csv writer (as pandas configures it) quote a field."""
    found = []
    for ch in [",", '"', "\n", "\r", "\t", " ", "'", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
               "\u2029"]:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n", delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL,
                   doublequote=True, escapechar=None).writerow([f"a{ch}b", "x"])
        if out.getvalue().startswith('"'):
            found.append(ch)
    return "".join(found)


_QUOTED = _quoted_characters()
_QUOTE_PATTERN = "[" + "".join(re.escape(c) for c in _QUOTED) + "]"


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, _TEXT)


def _from_uniques(bits: np.ndarray, format_uniques) -> pa.Array:
    """Each value's text, formatting each distinct bit pattern once (0.0 and -0.0 stay apart)."""
    codes, uniques = pd.factorize(bits)
    texts = pa.array(format_uniques(uniques), type=_TEXT)
    return texts.take(pa.array(codes.astype(np.int64, copy=False)))


def _float_column(values, masked: bool) -> pa.Array | None:
    """pandas' text of a float64 column: `astype(str)`, missing values blank."""
    if masked:
        data, missing = values._data, values._mask
        if data.dtype != np.float64 or np.isnan(data[~missing]).any():  # an unmasked NaN: pandas' own path
            return None

        def fmt(uniques: np.ndarray) -> list[str]:
            floats = pd.arrays.FloatingArray(uniques.view(np.float64), np.zeros(uniques.size, dtype=bool))
            return list(np.asarray(floats.astype(str).astype(object)))
    else:
        data = np.asarray(values)
        if data.dtype != np.float64:
            return None
        missing = np.isnan(data)

        def fmt(uniques: np.ndarray) -> list[str]:
            return list(uniques.view(np.float64).astype(str))
    out = _from_uniques(np.ascontiguousarray(data).view(np.int64), fmt)
    if missing.any():
        out = pc.if_else(pa.array(missing), _scalar(""), out)
    return out


def _text_column(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Text with missing values blank and minimal quoting, worked out once per distinct text: a table's texts
    are names and codes repeated on many rows."""
    arr = arr.cast(_TEXT)
    encoded = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    return pc.fill_null(_quoted(encoded.dictionary).take(encoded.indices), _scalar(""))


def _quoted(arr: pa.Array) -> pa.Array:
    """Each text quoted where the csv writer would quote it."""
    needs = pc.match_substring_regex(arr, _QUOTE_PATTERN)
    if pc.any(needs).as_py():
        doubled = pc.replace_substring(arr, '"', '""')
        quoted = pc.binary_join_element_wise(_scalar('"'), doubled, _scalar('"'), _scalar(""))
        arr = pc.if_else(needs, quoted, arr)
    return arr


def _flag_objects(raw: np.ndarray) -> pa.Array:
    """An object column of booleans (a flag a join left missing, such as trends' `suppressed`): True, False
    or blank, as `str` gives them."""
    missing = pd.isna(raw)
    flags = np.zeros(raw.size, dtype=bool)
    flags[~missing] = raw[~missing].astype(bool)
    out = pc.if_else(pa.array(flags), _scalar("True"), _scalar("False"))
    return pc.if_else(pa.array(missing), _scalar(""), out) if missing.any() else out


def _column(series: pd.Series) -> pa.Array | None:
    """One column's CSV fields as an Arrow text array, or None when pandas' formatting is not reproduced here."""
    dtype = series.dtype
    values = series.array
    if isinstance(dtype, np.dtype):
        if dtype.kind in "iu":
            return pa.array(np.asarray(values)).cast(_TEXT)
        if dtype.kind == "b":
            return pc.if_else(pa.array(np.asarray(values)), _scalar("True"), _scalar("False"))
        if dtype.kind == "f":
            return _float_column(values, masked=False)
        if dtype.kind == "O":
            raw = np.asarray(values, dtype=object)
            kind = pd.api.types.infer_dtype(raw, skipna=True)
            if kind == "boolean":
                return _flag_objects(raw)
            if kind not in ("string", "empty"):
                return None  # values other than text: left to pandas
            missing = pd.isna(raw)
            if missing.any():
                raw = raw.copy()
                raw[missing] = None  # pandas writes every missing value blank
            return _text_column(pa.array(raw, type=_TEXT))
        return None
    if isinstance(dtype, pd.StringDtype):
        return _text_column(pa.array(values))
    if isinstance(dtype, (pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype, pd.UInt8Dtype, pd.UInt16Dtype,
                          pd.UInt32Dtype, pd.UInt64Dtype)):
        return pc.fill_null(pa.array(values).cast(_TEXT), _scalar(""))
    if isinstance(dtype, pd.Float64Dtype):
        return _float_column(values, masked=True)
    if isinstance(dtype, pd.BooleanDtype):
        flags = pa.array(values)
        return pc.fill_null(pc.if_else(flags, _scalar("True"), _scalar("False")), _scalar(""))
    return None


def _body(frame: pd.DataFrame) -> list[pa.Buffer] | None:
    columns = []
    for i in range(frame.shape[1]):
        col = _column(frame.iloc[:, i])
        if col is None:
            return None
        columns.append(col)
    lines = pc.binary_join_element_wise(*columns, _scalar(","))
    lines = pc.binary_join_element_wise(lines, _scalar(""), _scalar("\n"))  # each line + "\n"
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    if lines.null_count:
        return None
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset:lines.offset + len(lines) + 1]
    return [lines.buffers()[2][int(offsets[0]):int(offsets[-1])]]


def csv_bytes(frame: pd.DataFrame, header: bool = True) -> list[bytes | pa.Buffer] | None:
    """The UTF-8 bytes of `frame.to_csv(index=False, header=header, lineterminator="\\n")` as a list of
    pieces to write in order, or None when a column is of a kind formatted by pandas alone."""
    if frame.shape[1] < 2 or len(frame) == 0 or not frame.columns.is_unique:
        return None  # a one-column row can need quoting of an empty field; no rows: header only
    pieces: list[bytes | pa.Buffer] = []
    if header:
        pieces.append(frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode("utf-8"))
    for start in range(0, len(frame), BLOCK):
        body = _body(frame.iloc[start:start + BLOCK])
        if body is None:
            return None
        pieces.extend(body)
    return pieces


def write(frame: pd.DataFrame, handle, header: bool = True) -> None:
    """Write `frame` to the binary `handle` as `frame.to_csv(index=False, header=header, lineterminator="\\n")`
    would write it (encoded as UTF-8)."""
    pieces = csv_bytes(frame, header)
    if pieces is None:
        handle.write(frame.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8"))
        return
    for piece in pieces:
        handle.write(piece)
