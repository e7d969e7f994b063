"""One text reader for every file (helpers.ingest.text): valid UTF-8 is read as UTF-8, anything else as
cp1252; a UTF-8 byte-order mark is dropped; UTF-16 is refused naming the file; CR-only line ends are lines.
Research, entities and Student Score Data Files follow the same policy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.core.errors import InputError
from helpers.ingest import build, detect, student_file, text

from .conftest import ROOT

REAL = ROOT / "tests" / "fixtures" / "real"
STUDENT = ROOT / "tests" / "fixtures" / "student"
NINOS = REAL / "sb_ca2022entities_csv__nino_rows.txt"  # cp1252, CRLF: "Para Los Niños Middle" on line 3
CAAS = REAL / "caas_ca2019_all_27_csv_v1__first60.txt"  # a comma-delimited, quoted research file (CRLF)
MIDDLE = "19647330117846"
UTF16 = "the file is UTF-16 text ({how}): re-save it as UTF-8 or in its original encoding (Windows-1252)"


def entities_text() -> str:
    """The Niños entities rows, with "Peña Middle" as the charter's district and school name."""
    return NINOS.read_bytes().decode("cp1252").replace("Para Los Niños Middle", "Peña Middle")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def middle(path: Path) -> pd.Series:
    kind, frame, _ = detect.read_file(path)
    assert kind == "entities"
    return frame.set_index("cds").loc[MIDDLE]


# ---------------------------------------------------------------- UTF-8 and cp1252


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("cp1252", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_entities_names_read_the_same_in_utf8_cp1252_and_with_a_bom(tmp_path, encoding, bom):
    path = write(tmp_path / "entities.txt", bom + entities_text().encode(encoding))
    got = text.read_text(path)
    assert got.encoding == encoding and got.size == len(bom) + len(entities_text().encode(encoding))
    assert text.split_header(path, got.data)[1][:3] == ["County Code", "District Code", "School Code"]
    row = middle(path)
    assert (row["school_name"], row["district_name"], row["county_code"], row["type_id"]) == (
        "Peña Middle", "Peña Middle", "19", 9)


def test_a_bom_no_longer_makes_the_first_column_unknown(tmp_path):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + NINOS.read_bytes())
    store = build.build([path])
    assert store["entities"]["county_code"].tolist() == ["19", "19", "19"]
    assert store["entities"].set_index("cds").loc[MIDDLE, "school_name"] == "Para Los Niños Middle"
    assert store["sources"].iloc[0][["kind", "bytes", "rows_read"]].tolist() == [
        "entities", len(NINOS.read_bytes()) + 3, 3]


def test_utf8_split_across_blocks_is_still_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "TRANSCODE_BLOCK", 7)  # "ñ" (2 bytes) falls across many block boundaries
    path = write(tmp_path / "entities.txt", entities_text().encode("utf-8"))
    assert text.read_text(path).encoding == "utf-8"
    assert middle(path)["school_name"] == "Peña Middle"
    cp = write(tmp_path / "cp.txt", entities_text().encode("cp1252"))
    assert (text.read_text(cp).encoding, middle(cp)["school_name"]) == ("cp1252", "Peña Middle")


def test_a_byte_neither_utf8_nor_cp1252_names_its_line(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "TRANSCODE_BLOCK", 16)  # the line is counted across blocks
    data = entities_text().encode("cp1252").replace("Peña Middle".encode("cp1252"), b"Pe\x81a Middle", 1)
    path = write(tmp_path / "bad.txt", data)
    with pytest.raises(InputError) as caught:
        detect.read_file(path)
    assert str(caught.value) == "bad.txt, line 3: byte 0x81 is not valid cp1252 text"


# ---------------------------------------------------------------- UTF-16 and line ends


@pytest.mark.parametrize("codec, how", [
    ("utf-16", "byte-order mark FF FE"),  # Python writes little-endian with its mark
    ("utf-16-be", None),
    ("utf-16-le", "a NUL byte beside every other character"),
])
def test_utf16_is_refused_naming_the_file(tmp_path, codec, how):
    data = entities_text().encode(codec)
    if codec == "utf-16-be":
        data, how = b"\xfe\xff" + data, "byte-order mark FE FF"
    path = write(tmp_path / "utf16.txt", data)
    with pytest.raises(InputError) as caught:
        build.build([path])
    assert str(caught.value) == f"{path}: {UTF16.format(how=how)}"  # ingest names the path as given
    assert caught.value.path == str(path)


@pytest.mark.parametrize("fixture", [NINOS, CAAS])
def test_cr_only_line_ends_read_as_lines(tmp_path, fixture):
    crlf = fixture.read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") > 3
    path = write(tmp_path / fixture.name, crlf.replace(b"\r\n", b"\r"))
    kind, frame, src = detect.read_file(path)
    want_kind, want, want_src = detect.read_file(fixture)
    assert (kind, src.rows_read, src.era) == (want_kind, want_src.rows_read, want_src.era)
    pd.testing.assert_frame_equal(frame, want)
    assert frame["source_line"].tolist() == list(range(2, want_src.rows_read + 2))
    if fixture == NINOS:
        assert frame.set_index("cds").loc[MIDDLE, "school_name"] == "Para Los Niños Middle"


# ---------------------------------------------------------------- Student Score Data Files


def student_text() -> str:
    """tiny_camel.txt with "Peña Elementary" as every record's CALPADS school name and "Peña" as line 2's
    Lexile/Quantile measure (a value the reader quotes in a warning)."""
    lines = [line.split("^") for line in (STUDENT / "tiny_camel.txt").read_text(encoding="utf-8").splitlines()]
    school, measure = lines[0].index("CALPADSSchoolName"), lines[0].index("LexileorQuantileMeasure")
    for row in lines[1:]:
        row[school] = "Peña Elementary"
    lines[1][measure] = "Peña"
    return "\n".join("^".join(row) for row in lines) + "\n"


WARNINGS = [(2, "LexileorQuantileMeasure", "not a Lexile or Quantile measure: kept as missing ('Peña')"),
            (10, "ConditionCode", "condition code NEL does not apply to this test ('NEL')")]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_student_file_follows_the_same_policy(tmp_path, encoding):
    path = write(tmp_path / "students.txt", student_text().encode(encoding))
    assert "Peña Elementary" in text.read_text(path).data.decode("utf-8")
    got, report = student_file.read(path)
    assert (report.encoding, report.records, report.kept) == (encoding, 12, 12)
    assert report.warnings == WARNINGS
    want, _ = student_file.read(STUDENT / "tiny_camel.txt")
    pd.testing.assert_frame_equal(got, want)
    # through ingest: the same text, and the issue quotes the decoded value
    store = build.build([path])
    assert len(store["students"]) == 12 and store["sources"]["kind"].tolist() == ["students"]
    issues = store["student_issues"]
    assert issues[issues["line"] == 2]["reason"].tolist() == [WARNINGS[0][2]]


def test_student_file_bom_utf16_cr_only_and_bad_bytes(tmp_path):
    want, _ = student_file.read(STUDENT / "tiny_camel.txt")
    data = student_text().encode("utf-8")
    bom = write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + data)
    got, report = student_file.read(bom)
    assert (report.encoding, report.dialect, report.kept) == ("utf-8", "camel", 12)
    pd.testing.assert_frame_equal(got, want)
    cr = write(tmp_path / "cr.txt", data.replace(b"\n", b"\r"))
    got, report = student_file.read(cr)
    assert (report.records, report.kept, report.warnings) == (12, 12, WARNINGS)
    pd.testing.assert_frame_equal(got, want)
    utf16 = write(tmp_path / "utf16.txt", student_text().encode("utf-16"))
    with pytest.raises(InputError) as caught:
        student_file.read(utf16)
    assert str(caught.value) == f"utf16.txt: {UTF16.format(how='byte-order mark FF FE')}"
    bad = write(tmp_path / "bad.txt", student_text().encode("cp1252").replace("Peña".encode("cp1252"), b"Pe\x81a"))
    with pytest.raises(InputError) as caught:
        student_file.read(bad)
    assert str(caught.value) == "bad.txt, line 2: byte 0x81 is not valid cp1252 text"
