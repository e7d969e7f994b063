"""Student Score Data File: the synthetic writer's three header dialects read back exactly; bad records and
wrong layouts are reported by file, line and field; the SSID never leaves the reader."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.cuts import load_all
from helpers.core.errors import InputError
from helpers.ingest import counting, student_file
from helpers.ingest import store as stores
from helpers.stats import tables
from helpers.synth.students import (
    COLUMNS,
    FIRST_NAMES,
    LAST_NAMES,
    add_score_details,
    students_for_lea,
    write_student_file,
)

from .conftest import DNCUSD, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "student"
TABLES = load_all(ROOT / "params")
DETAILS = ["error_band_min", "error_band_max", "domain_1_level", "domain_2_level", "domain_3_level",
           "lexile", "quantile"]
TIDY = [c for c in COLUMNS if c != "ssid"] + DETAILS
DIALECTS = ["camel", "spaced", "w401"]
PCTS = [f"pct_level_{k}" for k in range(1, 5)]


@pytest.fixture(scope="module")
def frame22(sample_store: Path) -> pd.DataFrame:
    return add_score_details(students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=TABLES), TABLES, seed=0)


@pytest.fixture(scope="module")
def cast21(sample_store: Path) -> pd.DataFrame:
    return add_score_details(students_for_lea(sample_store, DNCUSD, 2021, seed=0, tests=(17,), tables=TABLES),
                             TABLES, seed=0)


def digit_windows(text: str) -> set[str]:
    """Every 10-digit substring of the text's digit runs (an SSID hidden in a longer number too)."""
    return {run[i:i + 10] for run in re.findall(r"\d{10,}", text) for i in range(len(run) - 9)}


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_reads_back_to_the_generators_frame(frame22, tmp_path, dialect):
    path = write_student_file(frame22, tmp_path / f"{dialect}.txt", dialect)
    got, report = student_file.read(path)
    assert (report.dialect, report.year, report.year_from) == (dialect, 2022, "test dates")
    assert report.records == report.kept == len(frame22) == 3658
    assert (report.bad, report.warnings, report.counts, report.unchecked) == ([], [], {}, 0)
    assert list(got.columns) == student_file.COLUMNS and "ssid" not in got
    cols = [c for c in TIDY if not (dialect == "spaced" and c in ("lexile", "quantile"))]
    pd.testing.assert_frame_equal(got[cols], frame22[cols].astype(got[cols].dtypes.to_dict()))
    assert got["source_line"].tolist() == list(range(2, 3660))
    if dialect == "spaced":  # the 2018-19 layout has no Lexile/Quantile field
        assert got["lexile"].isna().all() and got["quantile"].isna().all()
    else:
        assert got["lexile"].notna().sum() == 1748 and got["quantile"].notna().sum() == 1738


def test_dialects_differ_in_order_and_the_reader_maps_by_name(frame22, tmp_path):
    where = {}
    for d in DIALECTS:
        header = (tmp_path / f"{d}.txt")
        write_student_file(frame22.head(50), header, d)
        names = header.read_bytes().decode("utf-8").split("\n", 1)[0].split("^")
        f = student_file.dialect(d).fields
        where[d] = (len(names), names.index(f["scale_score"]) + 1, names.index(f["achievement_level"]) + 1,
                    names.index(f["grade"]) + 1)
    assert where == {"camel": (363, 148, 152, 11), "spaced": (292, 105, 109, 9), "w401": (401, 152, 156, 11)}
    # the same file with its columns in reverse order reads to the same records
    path = tmp_path / "camel.txt"
    reversed_ = tmp_path / "camel_reversed.txt"
    reversed_.write_text("\n".join("^".join(line.split("^")[::-1]) for line in path.read_text().splitlines()) + "\n")
    pd.testing.assert_frame_equal(student_file.read(reversed_)[0], student_file.read(path)[0])


def test_computed_levels_from_the_file_equal_the_published_rows(frame22, tmp_path, sample_store):
    got, _ = student_file.read(write_student_file(frame22, tmp_path / "w401.txt", "w401"))
    levels = tables.computed_levels(got)
    pd.testing.assert_frame_equal(levels, tables.computed_levels(frame22))
    own = levels[(levels["cds"] == DNCUSD) & (levels["student_group_id"] == 1) & (levels["grade"] < 13)]
    pub = stores.query(f"""
        SELECT test_id, grade, enrolled, tested, with_scores, mean_scale_score, {', '.join(PCTS)}, pct_met_and_above
        FROM {stores.table(sample_store, 'results')}
        WHERE cds = ? AND year = 2022 AND student_group_id = 1 AND test_id IN (1, 2) AND grade < 13
        ORDER BY test_id, grade""", [DNCUSD])
    assert len(pub) == len(own) == 14
    for col in ["enrolled", "tested", "with_scores", *PCTS, "pct_met_and_above", "mean_scale_score"]:
        np.testing.assert_array_equal(own[col].to_numpy(float), pub[col].to_numpy(float), col)
    ela5 = own.set_index(["test_id", "grade"]).loc[(1, 5)]  # numbers copied from the 2022 research file
    assert (ela5["enrolled"], ela5["tested"], ela5["with_scores"]) == (266, 261, 260)
    assert ela5[PCTS].tolist() == [45.77, 22.69, 19.62, 11.92] and ela5["pct_met_and_above"] == 31.54


def test_cast_records_keep_domain_levels_and_have_no_sem(cast21, tmp_path):
    path = write_student_file(cast21, tmp_path / "cast.txt", "camel")
    assert {line[:3] for line in path.read_text().splitlines()[1:]} == {"06^"}
    got, report = student_file.read(path)
    assert (report.year, report.kept, report.bad, report.warnings) == (2021, 974, [], [])
    assert set(got["test_id"]) == {17} and got["sem"].isna().all()
    scored = got["scale_score"].notna()
    assert scored.sum() == 279 and got.loc[scored, "domain_1_level"].between(1, 3).all()
    pd.testing.assert_frame_equal(got[TIDY], cast21[TIDY].astype(got[TIDY].dtypes.to_dict()))


def test_windows_1252_file_and_spaced_values(tmp_path):
    got, report = student_file.read(FIXTURES / "cp1252_spaced.txt")
    assert (report.encoding, report.dialect, report.kept) == ("cp1252", "spaced", 2)
    assert got["sex"].tolist() == ["F", "F"]  # written "Female"
    assert got["race"].tolist() == [78, 78] and got["el_status"].tolist() == ["EO", "EO"]
    assert "Muñoz" not in got.to_csv()


# ---------------------------------------------------------------- bad records and wrong layouts


def test_bad_records_are_excluded_and_reported_by_line_and_field():
    got, report = student_file.read(FIXTURES / "bad_records.txt")
    assert (report.records, report.kept, report.excluded) == (14, 7, 7)
    assert got["source_line"].tolist() == [2, 3, 8, 9, 10, 11, 15]
    assert report.bad == [
        (4, "RecordType", "unknown record type ('07')"),
        (5, "ScaleScore", "not a number ('25x0')"),
        (6, "ScaleScore", "scale score outside LOSS–HOSS ('2651' not in 2115–2650, sb_ela_2021plus grade 3)"),
        (7, "IncludeIndicator", "unknown include indicator ('Q')"),
        (12, "GradeAssessed", "grade assessed is not a grade 3–12 ('2x')"),
        (13, "SSID", "duplicate student × test record (first on line 2)"),
        (14, "(whole record)", "wrong number of '^'-separated fields (expected 363, found 100)"),
    ]
    assert report.counts == {"unknown record type": 1, "not a number": 1, "scale score outside LOSS–HOSS": 1,
                             "unknown include indicator": 1, "grade assessed is not a grade 3–12": 1,
                             "duplicate student × test record": 1, "wrong number of '^'-separated fields": 1}
    assert report.warnings == [
        (9, "ConditionCode", "condition code PGE implies include indicator N ('PGE')"),
        (10, "ConditionCode", "condition code NEL does not apply to this test ('NEL')"),
        (11, "AchievementLevels", "achievement level disagrees with the cut table ('4')"),
    ]
    assert report.messages()[0] == "bad_records.txt, line 4, field 'RecordType': excluded: unknown record type ('07')"
    frame = report.to_frame()
    assert frame["severity"].value_counts().to_dict() == {"excluded": 7, "warning": 3}


@pytest.mark.parametrize("name,message", [
    ("comma_delimited.txt", "comma_delimited.txt, line 1, field 'RecordType': not a caret-delimited Student Score "
                            "Data File: the header has no '^' (TOMS files are '^'-delimited)"),
    ("missing_scale_score.txt", "missing_scale_score.txt, line 1, field 'ScaleScore': missing required column of "
                                "the CamelCase, 363–365 columns (S26 2021–22 and 2022–23 samples) layout"),
    ("not_a_student_file.txt", "not_a_student_file.txt, line 1, field 'County Code': unknown header: not a Student "
                               "Score Data File (no Record Type and SSID columns of a known dialect)"),
    ("rows_comma_delimited.txt", "rows_comma_delimited.txt, line 2: expected 363 '^'-separated fields as in the "
                                 "header, found 1 (on every line)"),
    ("no_dates.txt", "no_dates.txt, field 'SchoolStartDateTestWindow1': cannot tell the test year: no test-window "
                     "or completion dates; give the year"),
])
def test_wrong_layouts_are_rejected(name, message):
    with pytest.raises(InputError) as err:
        student_file.read(FIXTURES / name)
    assert str(err.value) == message


def test_year_can_be_given():
    got, report = student_file.read(FIXTURES / "no_dates.txt", year=2022)
    assert (report.year, report.year_from, report.kept) == (2022, "given", 12)


def test_detection_is_by_header_names():
    for d in student_file.layout().dialects:
        assert student_file.detect(list(d.columns)).name == d.name
        assert student_file.is_student_file([n.upper().replace(" ", "") for n in d.columns])
    research = (ROOT / "tests/fixtures/student/not_a_student_file.txt").read_text().split("\n")[0].split("^")
    assert not student_file.is_student_file(research)


# ---------------------------------------------------------------- privacy


def test_ssid_and_names_never_leave_the_reader(frame22, tmp_path):
    ssids = set(frame22["ssid"])
    path = write_student_file(frame22, tmp_path / "w401.txt", "w401")
    lines = path.read_text().splitlines()
    names = lines[0].split("^")
    col = {n: i for i, n in enumerate(names)}
    for k, line in enumerate(lines[1:41], start=1):  # forty bad records, some carrying an SSID elsewhere
        fields = line.split("^")
        ssid = fields[col["SSID"]]
        target = ["ScaleScore", "RecordType", "GradeAssessed", "CALPADSSchoolCode"][k % 4]
        fields[col[target]] = ssid
        lines[k] = "^".join(fields)
    lines += lines[41:46]  # five duplicates
    path.write_text("\n".join(lines) + "\n")
    got, report = student_file.read(path)
    assert report.excluded == 45
    texts = [got.to_csv(), tables.computed_levels(got).to_csv(), "\n".join(report.messages()),
             report.to_frame().to_csv(), repr(report)]
    comma = tmp_path / "comma.txt"
    comma.write_text(path.read_text().replace("^", ","))
    with pytest.raises(InputError) as err:
        student_file.read(comma)
    texts.append(str(err.value))
    for text in texts:
        assert not digit_windows(text) & ssids
        assert not any(name in text for name in LAST_NAMES + FIRST_NAMES)
    shown = "\n".join(report.messages())
    for reason in ("unknown record type (a value of 10 characters)",
                   "grade assessed is not a grade 3–12 (a value of 10 characters)",
                   "not a 7- or 14-digit CDS school code (a value of 10 characters)",
                   "scale score outside LOSS–HOSS (a value of 10 characters not in"):
        assert reason in shown, reason
    assert report.counts["duplicate student × test record"] == 5


# ---------------------------------------------------------------- counting rules


def test_counting_rules_are_the_params_and_match_computed_levels(frame22):
    r = counting.rules()
    assert (r.tested, r.with_scores) == ({"Y", "T", "R"}, {"Y"})
    assert r.conditions["NEL"].include_indicator == "E" and r.conditions["NEL"].tests == {1, 3}
    assert r.conditions["LOSS"].include_indicator == "T" and r.conditions["INC0"].include_indicator == "Y"
    assert {c: r.conditions[c].include_indicator for c in ("PGE", "NTE", "NT")} == {"PGE": "N", "NTE": "N", "NT": "N"}
    tested, scored = counting.flags(frame22)
    levels = tables.computed_levels(frame22, groups=[1])
    lea = levels[(levels["cds"] == DNCUSD) & (levels["grade"] == 13)].set_index("test_id")
    for test in (1, 2):
        pick = frame22["test_id"] == test
        assert (lea.loc[test, "tested"], lea.loc[test, "with_scores"]) == (tested[pick].sum(), scored[pick].sum())
    assert (lea.loc[1, "tested"], lea.loc[1, "with_scores"]) == (1750, 1748)


def test_records_reads_parquet_or_a_student_file(frame22, tmp_path):
    parquet = tmp_path / "students.parquet"
    frame22.to_parquet(parquet, index=False)
    got, report = student_file.records(parquet)
    assert report is None and len(got) == 3658
    got, report = student_file.records(FIXTURES / "tiny_camel.txt")
    assert report.dialect == "camel" and len(got) == 12 and "ssid" not in got


# ---------------------------------------------------------------- SSIDs and encodings


def test_malformed_ssids_are_bad_records_by_line_without_the_ssid(frame22, tmp_path):
    ssids = ["12345678901", "98765X4321", "", "123456789", "5555555555", "4444444444"]
    path = write_student_file(frame22.head(6), tmp_path / "ssids.txt", "camel")
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    lines = [f"{line.split('^', 2)[0]}^{ssid}^{line.split('^', 2)[2]}" for line, ssid in zip(lines, ssids)]
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    got, report = student_file.read(path)
    assert (report.records, report.kept) == (6, 2)
    assert got["source_line"].tolist() == [6, 7]
    assert report.bad == [
        (2, "SSID", "SSID is not 10 digits (11 digits)"),
        (3, "SSID", "SSID is not all digits"),
        (4, "SSID", "blank SSID"),
        (5, "SSID", "SSID is not 10 digits (9 digits)"),
    ]
    assert report.counts == {"SSID is not 10 digits": 2, "SSID is not all digits": 1, "blank SSID": 1}
    text = "\n".join(report.messages())
    assert "ssids.txt, line 3, field 'SSID': excluded: SSID is not all digits" in text
    for ssid in ("12345678901", "98765X4321", "123456789", "5555555555", "4444444444"):
        assert ssid not in text


def test_valid_utf8_is_read_as_utf8_and_anything_else_as_cp1252(frame22, tmp_path):
    rows = frame22.head(3).copy()
    path = write_student_file(rows, tmp_path / "names.txt", "camel")
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[1].split("^")[3]  # StudentFirstName of line 2
    named = text.replace(first, "Zoë–Muñoz", 1)
    (tmp_path / "utf8.txt").write_bytes(named.encode("utf-8"))
    (tmp_path / "cp1252.txt").write_bytes(named.encode("cp1252"))
    utf8, report8 = student_file.read(tmp_path / "utf8.txt")
    cp, report_cp = student_file.read(tmp_path / "cp1252.txt")
    assert (report8.encoding, report_cp.encoding) == ("utf-8", "cp1252")
    assert report8.kept == report_cp.kept == 3 and not report8.bad and not report_cp.bad
    pd.testing.assert_frame_equal(utf8, cp)
