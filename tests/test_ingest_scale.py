"""Ingest at scale: gzipped inputs, the Arrow typing path against pandas' reading, and the streamed store.

The real statewide 2023 entities file is vendored gzipped (data/reference/README.md gives the hash of its
uncompressed bytes); the research rows come from helpers.synth.statewide on counties 08 and 12.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.core.errors import InputError
from helpers.ingest import build as ingest
from helpers.ingest import detect, layouts, schema
from helpers.ingest import results as result_rows
from helpers.ingest.fields import Text, numeric
from helpers.synth import statewide as synth

from .conftest import DNCUSD, ROOT, SAMPLE

REFERENCE = ROOT / "data" / "reference" / "sb_ca2023entities_csv.txt.gz"
REFERENCE_SHA256 = "931fe8f042b752f319fee1cf51ca53d4f0ade685088477e57cadcc6bff9d2ff3"  # data/reference/README.md
COUNTIES_08_12 = ROOT / "tests" / "fixtures" / "real" / "sb_ca2023entities_csv__counties_08_12.txt"
BAD = ROOT / "tests" / "fixtures" / "bad"
SB2022 = SAMPLE / "research" / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
ENT2022 = SAMPLE / "entities" / "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt"
SB = "sb_ca2023_all_synthetic_v1.txt"
CAST = "cast_ca2023_all_synthetic_v1.txt"
ERA = {e.id: e.label for e in layouts.RESULT_ERAS + layouts.ENTITY_ERAS}


def gzipped(src: Path, folder: Path, name: str | None = None) -> Path:
    out = folder / (name or src.name + ".gz")
    out.write_bytes(gzip.compress(src.read_bytes()))
    return out


# ---------------------------------------------------------------- .gz input


def test_reference_entities_read_gzipped_with_the_hash_of_the_original():
    kind, frame, src = detect.read_file(REFERENCE)
    assert (kind, src.era, src.delimiter, src.rows_read, len(frame)) == ("entities", ERA["E-2021"], "^", 11302, 11302)
    assert (src.file, src.sha256, src.bytes) == (REFERENCE.name, REFERENCE_SHA256, 951_326)
    # data/reference/README.md: the state, 58 counties, 1,019 districts, 8,963 schools, 954 + 307 charters
    assert frame["type_id"].value_counts().sort_index().to_dict() == {4: 1, 5: 58, 6: 1019, 7: 8963, 9: 954, 10: 307}
    assert set(frame["year"]) == {2023} and frame["cds"].str.fullmatch(r"\d{14}").all()
    assert frame.set_index("cds").loc[DNCUSD, "district_name"] == "Del Norte County Unified"


def test_gzipped_file_reads_as_the_plain_one(tmp_path):
    kind, frame, src = detect.read_file(SB2022)
    gz_kind, gz_frame, gz_src = detect.read_file(gzipped(SB2022, tmp_path))
    assert (gz_kind, gz_src.sha256, gz_src.bytes, gz_src.rows_read) == (kind, src.sha256, src.bytes, src.rows_read)
    assert gz_src.sha256 == hashlib.sha256(SB2022.read_bytes()).hexdigest() and gz_src.file == SB2022.name + ".gz"
    pd.testing.assert_frame_equal(gz_frame, frame, check_exact=True)


def test_folders_yield_gzipped_files_too(tmp_path):
    for name in ("a.txt", "b.txt.gz", "c.CSV.GZ", "d.gz", "e.md", "f.tar.gz"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.csv.gz").write_bytes(b"")
    assert [p.name for p in ingest.expand([tmp_path])] == ["a.txt", "b.txt.gz", "c.CSV.GZ", "g.csv.gz"]


@pytest.mark.parametrize("name, line, field, reason", [
    ("negative_count.txt", 3, "Students Tested", "below 0: '-29'"),
    ("truncated_row.txt", 3, "Area 3 Percentage Below Standard",
     "missing: expected 33 fields ('^'-delimited, as the header), found 28"),
    ("invalid_cp1252_byte.txt", 3, None, "byte 0x81 is not valid cp1252 text"),
])
def test_errors_in_gzipped_files_name_lines_of_the_uncompressed_text(tmp_path, name, line, field, reason):
    with pytest.raises(InputError) as caught:
        ingest.build([gzipped(BAD / name, tmp_path), ENT2022])
    assert (Path(caught.value.path).name, caught.value.line, caught.value.field, caught.value.reason) == (
        name + ".gz", line, field, reason)


def test_a_broken_gzip_file_is_an_input_error(tmp_path):
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(gzip.compress(SB2022.read_bytes())[:-40])
    with pytest.raises(InputError, match="broken.txt.gz: cannot gunzip"):
        detect.read_file(broken)


# ---------------------------------------------------------------- typing: Arrow where it agrees with pandas


def text_column(values: list[str], header: str = "Students Tested") -> Text:
    return Text(Path("t.txt"), {"tested": pa.chunked_array([pa.array(values, pa.string())])},
                       {"tested": header}, 2, len(values))


@pytest.mark.parametrize("values, whole, want", [
    (["12", "*", "", "0"], True, [12, None, None, 0]),  # plain digits: Arrow's cast
    ([" 7 ", "+5", "12.0", "*"], True, [7, 5, 12, None]),  # anything else: pandas' parser, as before
    (["42.36", "5.", ".5", "100", "*", ""], False, [42.36, 5.0, 0.5, 100.0, None, None]),
    ([" 3.25", "-0"], False, [3.25, 0.0]),  # exponents are errors (test_ingest_strict)
])
def test_numbers_read_as_pandas_reads_them(values, whole, want):
    typed, star = numeric(text_column(values), "tested", whole=whole, lo=0, hi=None if whole else 100)
    assert typed.to_pylist() == want
    assert star.to_pylist() == [v.strip() == "*" for v in values]
    expected = pd.to_numeric(pd.Series(values, dtype="str").str.strip().replace({"*": None, "": None}))
    assert pd.Series(typed.to_pylist(), dtype="Float64").equals(expected.astype("Float64"))


@pytest.mark.parametrize("values, whole, line, reason", [
    (["1", "12a"], True, 3, "not a number: '12a'"),
    (["1", "2", "2.5"], True, 4, "not a whole number: '2.5'"),
    (["*", "-3"], True, 3, "below 0: '-3'"),
    (["99.99", "100.01"], False, 3, "above 100: '100.01'"),
    (["1.2.3"], False, 2, "not a number: '1.2.3'"),
])
def test_number_errors_name_line_field_and_value(values, whole, line, reason):
    with pytest.raises(InputError) as caught:
        numeric(text_column(values), "tested", whole=whole, lo=0, hi=None if whole else 100)
    assert (caught.value.line, caught.value.field, caught.value.reason) == (line, "Students Tested", reason)


# ---------------------------------------------------------------- a synthetic statewide-style set


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("synth_08_12")
    synth.generate(COUNTIES_08_12, folder, year=2023, seed=11, groups=[1, 4, 31, 111])
    (folder / "sb_ca2023entities_csv.txt").unlink()  # the statewide .gz names the entities instead
    return folder


@pytest.fixture(scope="module")
def stored(synthetic, tmp_path_factory) -> tuple[Path, ingest.StoreTables]:
    store = tmp_path_factory.mktemp("scale") / "store"
    return store, ingest.ingest([synthetic / SB, synthetic / CAST, REFERENCE], store)


@pytest.fixture(scope="module")
def results(stored) -> pd.DataFrame:
    return pd.read_parquet(stored[0] / "results.parquet")


def test_research_rows_join_the_gzipped_statewide_entities(stored, results, synthetic):
    _, tables = stored
    sources = tables["sources"].set_index("file")
    assert sources.loc[REFERENCE.name, ["kind", "sha256", "bytes", "rows_read"]].tolist() == [
        "entities", REFERENCE_SHA256, 951_326, 11302]
    rows = {name: sum(1 for _ in open(synthetic / name, "rb")) - 1 for name in (SB, CAST)}
    assert sources.loc[[SB, CAST], "rows_read"].tolist() == [rows[SB], rows[CAST]]
    assert len(results) == rows[SB] + rows[CAST] == tables.rows("results")
    assert set(results["county_code"]) == {"00", "08", "12"} and set(results["test_id"]) == {1, 2, 17}
    assert results.loc[results["cds"] == DNCUSD, "entity_name"].unique().tolist() == ["Del Norte County Unified"]
    assert results.loc[results["cds"] == "00000000000000", "entity_name"].unique().tolist() == ["State of California"]


def test_store_types_and_order(results):
    assert dict(results.dtypes.astype(str)) == schema.RESULT_DTYPES
    assert not results.duplicated(schema.KEY).any()
    assert results[schema.KEY].equals(results[schema.KEY].sort_values(schema.KEY).reset_index(drop=True))
    assert results["lea_cds"].isna().eq(results["type_id"].isin([4, 5])).all()


def test_every_value_matches_its_line(results, synthetic):
    """Each typed field of every 50th line is the number written there, or missing (and listed) for '*'."""
    lines = (synthetic / SB).read_text(encoding="cp1252").splitlines()
    names = lines[0].split("^")
    rows = results[results["source_file"] == SB].set_index("source_line")
    checked = 0
    for number in range(2, len(lines) + 1, 50):
        fields = dict(zip(names, lines[number - 1].split("^")))
        row = rows.loc[number]
        assert row["cds"] == fields["County Code"] + fields["District Code"] + fields["School Code"]
        starred = []
        for name, text in fields.items():
            col = layouts.RESULTS_ALIASES[name]
            if col not in layouts.RESULT_NUMERIC:
                continue
            if text in ("*", ""):
                assert pd.isna(row[col]), (number, col)
                starred += [col] if text == "*" else []
            else:
                assert row[col] == (int(text) if schema.is_count(col) else float(text)), (number, col)
        assert row["suppressed_fields"] == "|".join(c for c in layouts.RESULT_NUMERIC if c in starred)
        assert row["results_suppressed"] == any(c in layouts.RESULT_FIELDS for c in starred)
        assert row["counts_suppressed"] == any(c in layouts.COUNT_FIELDS for c in starred)
        checked += 1
    assert checked > 50 and results["suppressed"].any() and not results["suppressed"].all()


def test_streamed_store_equals_the_in_memory_build(stored, results, synthetic, tmp_path, monkeypatch):
    """Written in many row groups, the store reads back as `build` assembles it in one piece."""
    built = ingest.build([synthetic / SB, synthetic / CAST, REFERENCE])
    pd.testing.assert_frame_equal(results, built["results"], check_exact=True)
    pd.testing.assert_frame_equal(stored[1]["results"], built["results"], check_exact=True)
    monkeypatch.setattr(result_rows, "ROW_GROUP", 1000)
    store = tmp_path / "store"
    ingest.ingest([synthetic / SB, synthetic / CAST, REFERENCE], store)
    assert pq.read_metadata(store / "results.parquet").num_row_groups == -(-len(results) // 1000)
    pd.testing.assert_frame_equal(pd.read_parquet(store / "results.parquet"), results, check_exact=True)
    for name in ("entities", "sources"):
        pd.testing.assert_frame_equal(pd.read_parquet(store / f"{name}.parquet"), built[name], check_exact=True)


def test_gzipped_research_folder_ingests_like_the_plain_one(synthetic, results, tmp_path):
    folder = tmp_path / "gz"
    folder.mkdir()
    for name in (SB, CAST):
        gzipped(synthetic / name, folder)
    shutil.copy(REFERENCE, folder)
    got = ingest.build([folder])["results"]
    assert set(got["source_file"]) == {SB + ".gz", CAST + ".gz"}
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), results.drop(columns="source_file"),
                                  check_exact=True)
    assert np.array_equal(got["source_line"], results["source_line"])
