"""Strict, helpful ingest (issue 13): files cut short, numbers that are not plain digits, levels that do not
add up, unknown IDs, blank lines, compression bombs, zip archives, skipped files and paths as given.

Each test writes a few real sample lines with one thing changed into tmp_path."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.core.errors import InputError
from helpers.ingest import build, findings, text
from helpers.ingest.research import ResultPart
from helpers.site import pages

from .conftest import SAMPLE

RESEARCH, ENTITIES = SAMPLE / "research", SAMPLE / "entities"
SB2018 = RESEARCH / "sb_ca2018_1_csv_v3__county08_DelNorte_plus_state.txt"
ENT2018 = ENTITIES / "sb_ca2018entities_csv__county08_DelNorte_plus_state.txt"
SB2022 = RESEARCH / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
ENT2022 = ENTITIES / "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt"
runner = CliRunner()


def lines(path: Path, rows: int) -> list[str]:
    """The header and the first `rows` rows of a sample file."""
    return path.read_text().splitlines()[: rows + 1]


def with_value(rows: list[str], line: int, field: str, value: str, delim: str = "^") -> list[str]:
    """`rows` with `field` of (1-based) `line` set to `value`."""
    names = [n.strip('"') for n in rows[0].split(delim)]
    cells = rows[line - 1].split(delim)
    cells[names.index(field)] = value
    return rows[: line - 1] + [delim.join(cells)] + rows[line:]


def write(path: Path, rows: list[str], end: str = "\n") -> Path:
    path.write_text("\n".join(rows) + end)
    return path


def flat(output: str) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(output.split())


# ---------------------------------------------------------------- a quoted file cut inside its last value


def test_a_quoted_file_cut_inside_its_last_value_is_refused(tmp_path):
    rows = lines(SB2018, 3)
    assert rows[3].endswith('.00"')
    cut = write(tmp_path / "cut.txt", rows[:3] + [rows[3][:-3]], end="")  # ends …,"0.0 (no quote, no newline)
    with pytest.raises(InputError) as caught:
        build.build([cut, ENT2018])
    assert str(caught.value) == f"{cut}, line 4: a quoted value is not closed: the file ends inside it (cut short?)"
    whole = write(tmp_path / "whole.txt", rows)  # the control: the same rows, not cut, are read
    assert len(build.build([whole, ENT2018])["results"]) == 3


def test_an_unclosed_quote_inside_a_file_names_its_line(tmp_path):
    rows = lines(SB2018, 4)
    rows[2] = rows[2][:-1]  # line 3's last value loses its closing quote
    bad = write(tmp_path / "open.txt", rows)
    with pytest.raises(InputError) as caught:
        build.build([bad, ENT2018])
    assert (caught.value.line, caught.value.reason) == (3, "a quoted value is not closed")


# ---------------------------------------------------------------- numbers written in digits only

DIGITS_ONLY = "not a number written in digits (no exponent, inf or nan): "


@pytest.mark.parametrize("field, value, reason", [
    ("Students Tested", "inf", f"{DIGITS_ONLY}'inf'"),
    ("Students Tested", "-inf", f"{DIGITS_ONLY}'-inf'"),
    ("Students Tested", "nan", "not a number: 'nan'"),
    ("Students Tested", "1e3", f"{DIGITS_ONLY}'1e3'"),
    ("Students Tested", "12345678901234567890123", "too large for a count: '12345678901234567890123'"),
    ("Students with Scores", "9007199254740993", "too large for a count: '9007199254740993'"),
    ("Percentage Standard Met", "inf", f"{DIGITS_ONLY}'inf'"),
    ("Percentage Standard Met", "1.5e1", f"{DIGITS_ONLY}'1.5e1'"),
    ("Mean Scale Score", "Infinity", f"{DIGITS_ONLY}'Infinity'"),
])
def test_numbers_must_be_written_in_digits(tmp_path, field, value, reason):
    bad = write(tmp_path / "bad.txt", with_value(lines(SB2022, 4), 3, field, value))
    with pytest.raises(InputError) as caught:
        build.build([bad, ENT2022])
    assert str(caught.value) == f"{bad}, line 3, field '{field}': {reason}"


def test_the_cli_reports_an_overflowing_count_without_a_traceback(tmp_path):
    bad = write(tmp_path / "bad.txt", with_value(lines(SB2022, 4), 4, "Students Tested", "1" * 23))
    result = runner.invoke(app, ["ingest", str(bad), str(ENT2022), "--store", str(tmp_path / "store")])
    assert result.exit_code == 2, result.output
    assert f"error: {bad}, line 4, field 'Students Tested': too large for a count: '{'1' * 23}'" in flat(result.output)
    assert not (tmp_path / "store").exists()


# ---------------------------------------------------------------- level percentages that do not add up


def levels_off(tmp_path: Path) -> Path:
    """Del Norte Unified's 2022 rows with two broken: line 3 Met and Above ≠ Exceeded + Met, line 5 the four
    levels sum to 101 (Not Met one point too high)."""
    rows = [r for r in SB2022.read_text().splitlines() if r.startswith(("County", "00^", "08^61820^0000000^"))]
    names = rows[0].split("^")
    above = names.index("Percentage Standard Met and Above")
    cells = rows[2].split("^")
    cells[above] = f"{float(cells[above]) + 3:.2f}"
    rows[2] = "^".join(cells)
    not_met = names.index("Percentage Standard Not Met")
    cells = rows[4].split("^")
    cells[not_met] = f"{float(cells[not_met]) + 1:.2f}"
    rows[4] = "^".join(cells)
    return write(tmp_path / "levels_off.txt", rows)


def test_levels_that_do_not_add_up_are_findings_and_tables_runs(tmp_path):
    research = levels_off(tmp_path)
    store, out = tmp_path / "store", tmp_path / "tables"
    result = runner.invoke(app, ["ingest", str(research), str(ENT2022), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert ("warning: levels_off.txt: 2 rows whose level percentages do not add up (first on line 3); listed on "
            "the data-quality page") in flat(result.output)
    found = pd.read_parquet(store / "findings.parquet")
    assert found[["file", "line", "field", "check"]].values.tolist() == [
        ["levels_off.txt", 3, "Percentage Standard Met and Above", "met_and_above"],
        ["levels_off.txt", 5, "Percentage Standard Not Met", "levels_sum"]]
    assert found["message"].iloc[1] == "the four level percentages sum to 101.01, not 100"  # 100.01 published
    result = runner.invoke(app, ["tables", "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "reconciliation.parquet").exists()


def test_whole_number_years_allow_their_rounding(tmp_path):
    """Before 2016–17 percentages are whole numbers: four levels summing to 99 or 101 is rounding."""
    def part(year: int, levels: list[float], above: float) -> ResultPart:
        cols = {"year": pa.chunked_array([[year]]), "pct_met_and_above": pa.chunked_array([[above]])}
        cols |= {f"pct_level_{k}": pa.chunked_array([[v]]) for k, v in enumerate(levels, 1)}
        return ResultPart(Path("f.txt"), cols, pa.array([0], pa.int32()), pa.table({"x": [0]}))

    assert findings.level_sums(part(2016, [30, 30, 21, 20], 41)).empty  # sums to 101: rounding
    assert findings.level_sums(part(2016, [30, 30, 24, 20], 44)).line.tolist() == [2]  # 104
    assert findings.level_sums(part(2022, [30.0, 30.0, 20.0, 20.03], 40.03)).empty  # 100.03 ≤ 0.06
    assert findings.level_sums(part(2022, [30.0, 30.0, 20.0, 20.0], 40.03)).check.tolist() == ["met_and_above"]


# ---------------------------------------------------------------- unknown Test and Student Group IDs


def test_unknown_ids_are_warned_about_and_recorded(tmp_path):
    rows = with_value(with_value(lines(SB2022, 6), 4, "Test ID", "99"), 6, "Student Group ID", "999")
    rows = with_value(rows, 7, "Student Group ID", "999")  # the same again: listed once, at its first line
    research = write(tmp_path / "ids.txt", rows)
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(research), str(ENT2022), "--store", str(store)])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert ("warning: ids.txt, line 4, field 'Test Id': Test ID 99 is not in params/tests.yml: its rows get no "
            "test name or level names") in out
    assert ("warning: ids.txt, line 6, field 'Student Group ID': Student Group ID 999 is in no student-group "
            "lookup nor params/student_groups.yml") in out
    found = pd.read_parquet(store / "findings.parquet")
    assert found[["file", "line", "check"]].values.tolist() == [
        ["ids.txt", 4, "unknown_test"], ["ids.txt", 6, "unknown_student_group"]]


# ---------------------------------------------------------------- blank lines keep line numbers


def test_line_numbers_count_blank_lines(tmp_path):
    rows = with_value(lines(SB2022, 5), 5, "Students Tested", "12a")
    bad = write(tmp_path / "blank.txt", rows[:2] + ["", ""] + rows[2:])  # two blank lines after line 2
    with pytest.raises(InputError) as caught:
        build.build([bad, ENT2022])
    assert str(caught.value) == f"{bad}, line 7, field 'Students Tested': not a number: '12a'"


def test_a_wrong_field_count_after_a_blank_line_names_its_line(tmp_path):
    rows = lines(SB2022, 4)
    bad = write(tmp_path / "short.txt", rows[:2] + [""] + rows[2:3] + [rows[3].rsplit("^", 2)[0]] + rows[4:])
    with pytest.raises(InputError) as caught:
        build.build([bad, ENT2022])
    assert (caught.value.line, caught.value.field) == (5, "Area 4 Percentage Below Standard")


def test_source_lines_in_the_store_count_blank_lines(tmp_path):
    rows = lines(SB2022, 3)
    good = tmp_path / "good.txt"
    good.write_bytes(("\r\n".join(rows[:2] + ["", ""] + rows[2:]) + "\r\n").encode())
    results = build.build([good, ENT2022])["results"]
    assert results.sort_values("source_line")["source_line"].tolist() == [2, 5, 6]


# ---------------------------------------------------------------- compression bombs


def test_a_gzip_bomb_is_refused(tmp_path):
    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(SB2022.read_bytes()[:1000] + b"0" * (8 << 20)))
    with pytest.raises(InputError) as caught:
        build.build([bomb, ENT2022])
    packed = bomb.stat().st_size
    assert str(caught.value) == (f"{bomb}: refused: it unpacks to more than 200× its {packed:,} compressed bytes; "
                                 "a compression bomb or a damaged archive")


def test_the_unpacked_size_is_capped_by_the_environment(tmp_path, monkeypatch):
    packed = tmp_path / "sb.txt.gz"
    packed.write_bytes(gzip.compress(SB2022.read_bytes()))
    assert len(build.build([packed, ENT2022])["results"]) == 204  # within both bounds: read
    monkeypatch.setenv("CAASPP_BOOK_MAX_UNPACKED", "10000")
    with pytest.raises(InputError, match=r"unpacks to more than 10,000 bytes \(\$CAASPP_BOOK_MAX_UNPACKED\)"):
        build.build([packed, ENT2022])


def test_a_zip_bomb_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sb.txt", SB2022.read_bytes()[:1000] + b"0" * (8 << 20))
    with pytest.raises(InputError) as caught:
        build.build([archive, ENT2022])
    assert caught.value.path == f"{archive}!sb.txt"
    assert caught.value.reason.startswith("refused: it unpacks to more than 200×")


# ---------------------------------------------------------------- zip archives as CDE distributes them


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_zip_of_one_research_file_is_read_as_the_file(tmp_path):
    archive = zipped(tmp_path / "sb_ca2022_1_csv_v1.zip", {"sb_ca2022_1_csv_v1.txt": SB2022.read_bytes()})
    plain = build.build([SB2022, ENT2022])
    got = build.build([archive, ENT2022])
    name = "sb_ca2022_1_csv_v1.zip!sb_ca2022_1_csv_v1.txt"
    assert set(got["results"]["source_file"]) == {name}
    pd.testing.assert_frame_equal(got["results"].drop(columns="source_file"),
                                  plain["results"].drop(columns="source_file"))
    sources = got["sources"].set_index("file")
    assert sources.loc[name, "sha256"] == plain["sources"].set_index("file").loc[SB2022.name, "sha256"]


def test_a_zip_of_several_files_reads_each_caaspp_member(tmp_path):
    archive = zipped(tmp_path / "all.zip", {"research/sb.txt": SB2022.read_bytes(), "ent.txt": ENT2022.read_bytes(),
                                            "layout.pdf": b"%PDF-1.4", "__MACOSX/._sb.txt": b"\0\5\26\7"})
    store = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(archive), "--store", str(store)])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert f"skipped {archive}!layout.pdf: not a .txt or .csv file (plain, .gz or in a .zip)" in out
    assert f"skipped {archive}!__MACOSX/._sb.txt: macOS metadata, not data" in out
    sources = pd.read_parquet(store / "sources.parquet")
    assert sorted(sources["file"]) == ["all.zip!ent.txt", "all.zip!research/sb.txt"]


def test_an_error_in_a_zip_member_names_archive_and_member(tmp_path):
    rows = with_value(lines(SB2022, 3), 3, "Students Tested", "12a")
    archive = zipped(tmp_path / "bad.zip", {"sb.txt": ("\n".join(rows) + "\n").encode()})
    with pytest.raises(InputError) as caught:
        build.build([archive, ENT2022])
    assert str(caught.value) == f"{archive}!sb.txt, line 3, field 'Students Tested': not a number: '12a'"


def test_a_damaged_zip_is_an_input_error(tmp_path):
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(b"PK\3\4 not really a zip")
    with pytest.raises(InputError, match="damaged.zip: cannot read the zip archive"):
        build.build([damaged])


# ---------------------------------------------------------------- skipped files and paths as given


def test_skipped_files_in_a_folder_are_listed(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for source in (SB2022, ENT2022):
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "README.md").write_text("# notes\n")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    why = "not a .txt or .csv file (plain, .gz or in a .zip)"
    assert f"skipped {folder / '.DS_Store'}: {why}" in out
    assert f"skipped {folder / 'README.md'}: {why}" in out
    assert "ingested 2 files, 204 result rows" in out


def test_an_error_names_the_path_as_given(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "bad.txt", with_value(lines(SB2022, 3), 2, "Students Tested", "12a"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", "sub/bad.txt", str(ENT2022), "--store", "store"])
    assert result.exit_code == 2
    assert "error: sub/bad.txt, line 2, field 'Students Tested': not a number: '12a'" in flat(result.output)


def test_source_names_of_files_and_members():
    assert text.source_name(Path("data/raw/sb.txt")) == "sb.txt"
    assert text.source_name("data/raw/CDE.ZIP!dir/sb.txt") == "CDE.ZIP!dir/sb.txt"
    assert text.split_member("a/b.zip!c.txt") == (Path("a/b.zip"), "c.txt")


def test_the_data_quality_page_lists_the_findings(tmp_path):
    store = tmp_path / "store"
    build.ingest([levels_off(tmp_path), ENT2022], store)
    found = pd.read_parquet(store / "findings.parquet")
    sources = pd.read_parquet(store / "sources.parquet")
    empty = pd.DataFrame({"status": ["ok"], "max_abs_diff": [0.0]} | {c: [0] for c in pages.RECONCILIATION_COLUMNS
                                                                       if c not in ("status", "max_abs_diff")})
    suppression = pd.DataFrame({"year": [2022], "reason": ["shown"], "rows": [1]})
    page = pages.data_quality_page(empty, sources, suppression, found)
    assert "## Findings in the research files" in page
    assert "The first 2 of 2 findings:" in page
    assert "| levels\\_off.txt | 5 | Percentage Standard Not Met | levels\\_sum |" in page  # _ escaped
    assert "No findings." in pages.data_quality_page(empty, sources, suppression, found.iloc[:0])


def test_a_gzipped_member_of_a_zip_is_unpacked_too(tmp_path):
    archive = zipped(tmp_path / "gz.zip", {"sb.txt.gz": gzip.compress(SB2022.read_bytes())})
    got = build.build([archive, ENT2022])
    assert (len(got["results"]), set(got["results"]["source_file"])) == (204, {"gz.zip!sb.txt.gz"})


def test_only_ingest_names_the_path_as_given():
    """Other readers (params, cut tables, a Student Score Data File read alone) keep the base name."""
    err = InputError("params/tests.yml", "bad", 3, "tests")
    assert str(err) == "tests.yml, line 3, field 'tests': bad"
    assert str(InputError("params/tests.yml", "bad", 3, as_given=True)) == "params/tests.yml, line 3: bad"
