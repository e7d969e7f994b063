"""helpers.stats.csvbytes writes the bytes DataFrame.to_csv writes, for every column kind of the tables."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from helpers.stats import csvbytes

EDGE_FLOATS = [0.0, -0.0, 0.1, 0.1 + 0.2, 1 / 3, -2.5, 62.0, 100.0, 1e-5, 1e-4, 123456.789, 1e15, 1e16, 1.5e16,
               -1e22, 2.0**53, 5e-324, 1.7976931348623157e308, np.inf, -np.inf, np.nan, 2405.1, 24.55, -26.9]


def pandas_bytes(frame: pd.DataFrame, header: bool = True) -> bytes:
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    frame.to_csv(text, index=False, header=header, lineterminator="\n")
    text.flush()
    return out.getvalue()


def fast_bytes(frame: pd.DataFrame, header: bool = True) -> bytes:
    out = io.BytesIO()
    csvbytes.write(frame, out, header=header)
    return out.getvalue()


def sample(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.choice(np.array(EDGE_FLOATS + list(np.round(rng.normal(0, 100, 40), 2))), n)
    missing = rng.random(n) < 0.2
    texts = np.array(["", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "tab\there", " lead", "Niño é ü",
                      "ünïcødé, with comma", "|3|4", "'single'"], dtype=object)
    text = rng.choice(texts, n).astype(object)
    text_missing = text.copy()
    text_missing[missing] = None
    obj_nan = text.copy()
    obj_nan[missing] = np.nan
    return pd.DataFrame({
        "year": rng.integers(2015, 2025, n),
        "big": rng.integers(-2**62, 2**62, n),
        "small": rng.integers(0, 200, n).astype(np.int8),
        "unsigned": rng.integers(0, 2**63, n, dtype=np.uint64),
        "flag": rng.random(n) < 0.5,
        "flag_na": pd.array(np.where(missing, None, rng.random(n) < 0.5), dtype="boolean"),
        "count": pd.array(np.where(missing, None, rng.integers(0, 10**6, n)), dtype="Int64"),
        "f64": floats,
        "f64_rounded": np.round(rng.normal(0, 50, n), 1),
        "F64": pd.array(np.where(missing, None, floats), dtype="Float64"),
        "str": pd.array(text_missing, dtype="str"),
        "string": pd.array(text_missing, dtype="string"),
        "object": text_missing,
        "object_nan": obj_nan,
        "all_missing": pd.Series([None] * n, dtype=object),
        "object_flag": pd.Series(np.where(missing, np.where(rng.random(n) < 0.5, None, np.nan),
                                          rng.choice(np.array([True, False, np.True_, np.False_], dtype=object), n)),
                                 dtype=object),
    })


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("header", [True, False])
def test_the_bytes_of_to_csv(seed, header):
    frame = sample(500, seed)
    assert csvbytes.csv_bytes(frame, header) is not None  # formatted here, not left to pandas
    assert fast_bytes(frame, header) == pandas_bytes(frame, header)


def test_every_row_block(monkeypatch):
    monkeypatch.setattr(csvbytes, "BLOCK", 7)
    frame = sample(50, 11)
    assert fast_bytes(frame) == pandas_bytes(frame)
    assert fast_bytes(frame.iloc[13:41]) == pandas_bytes(frame.iloc[13:41])


@pytest.mark.parametrize("column", [
    pd.Series(pd.Categorical(["a", "b,c", "a"])),
    pd.Series(pd.to_datetime(["2023-01-01", None, "2024-05-06"])),
    pd.Series(np.array([1.5, np.nan, 0.1], dtype=np.float32)),
    pd.Series(np.array([1, "a", 2.5], dtype=object)),
    pd.Series(pd.arrays.FloatingArray(np.array([1.0, np.nan, 2.0]), np.array([False, False, True]))),
])
def test_other_columns_are_left_to_pandas(column):
    frame = pd.DataFrame({"x": [1, 2, 3], "y": column})
    assert csvbytes.csv_bytes(frame) is None
    assert fast_bytes(frame) == pandas_bytes(frame)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": pd.Series([], dtype="Int64"), "b": pd.Series([], dtype="str")}),
    pd.DataFrame({"only": ["", "x", None]}),
    pd.DataFrame([[1, 2]], columns=["a,b", 'c"d']),
])
def test_edge_frames(frame):
    for header in (True, False):
        assert fast_bytes(frame, header) == pandas_bytes(frame, header)


def test_a_levels_chunk(sample_tables):
    levels = pd.read_parquet(sample_tables / "levels.parquet")
    assert csvbytes.csv_bytes(levels) is not None
    assert fast_bytes(levels) == pandas_bytes(levels)


def test_a_trends_chunk(sample_tables):
    """Trends' `suppressed` is an object column of booleans where a join left some missing (the trends of
    five statewide years were formatted by pandas because of it, 14 of 55 s of `tables`)."""
    trends = pd.read_parquet(sample_tables / "trends.parquet")
    trends["suppressed"] = trends["suppressed"].astype(object)
    trends.loc[trends.index[::7], "suppressed"] = np.nan
    assert pd.api.types.infer_dtype(trends["suppressed"], skipna=True) == "boolean"
    assert csvbytes.csv_bytes(trends) is not None
    assert fast_bytes(trends) == pandas_bytes(trends)


def test_text_in_several_arrow_chunks_and_repeated_texts():
    """A text column is quoted once per distinct text (`_text_column`), also across Arrow chunks and missing
    values in any of them."""
    import pyarrow as pa

    chunks = pa.chunked_array([["a,b", None, 'say "hi"', "x"], ["x", "a,b", None], [], ['say "hi"', "line\nbreak"]])
    frame = pd.DataFrame({"n": range(9), "t": pd.Series(pd.arrays.ArrowStringArray(chunks))})
    assert pa.array(frame["t"].array).num_chunks > 1
    assert csvbytes.csv_bytes(frame) is not None
    assert fast_bytes(frame) == pandas_bytes(frame)
