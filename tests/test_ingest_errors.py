"""Bad input: one small file per fault (tests/fixtures/bad/README.md), each a few real lines with one thing broken.

Each must fail with an InputError naming the file, the line, the field (where there is one) and the reason;
the CLI must print it, exit 2 and leave the store that was there before byte-for-byte untouched.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.core.errors import InputError
from helpers.ingest import build as ingest

from .conftest import ROOT, SAMPLE

BAD = ROOT / "tests" / "fixtures" / "bad"
ENT2022 = SAMPLE / "entities" / "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt"
SB2022 = SAMPLE / "research" / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
FIELDS_33 = "expected 33 fields ('^'-delimited, as the header), found"

# file, line, field, reason
CASES = [
    ("tab_delimited.txt", 1, None, "cannot tell the delimiter: the header has neither '^' nor ','"),
    ("caret_header_comma_rows.txt", 2, "District Code", f"missing: {FIELDS_33} 1"),
    ("truncated_row.txt", 3, "Area 3 Percentage Below Standard", f"missing: {FIELDS_33} 28"),
    ("extra_field.txt", 4, "Type ID", f"more fields after it: {FIELDS_33} 34"),
    ("nonnumeric_students_tested.txt", 3, "Students Tested", "not a number: '12a'"),
    ("unknown_column.txt", 1, "Mean Scale Scores", "unknown column in header: not a known CAASPP layout"),
    ("entity_not_in_entities_file.txt", 3, "School Code",
     "entity 08-61820-0106666 is not in the 2022 entities file"),
    ("year_without_entities_file.txt", 2, "Test Year", "no entities file for test year 2023 was given"),
    ("duplicate_result_row.txt", 4, "Grade", "duplicate key (year 2022, 08-61820-0000000, test 1, group 1, "
                                             "grade 13) already on line 2 of duplicate_result_row.txt"),
    ("duplicate_entity.txt", 6, "School Code", "duplicate entity 08618200000000 (first on line 5)"),
    ("negative_count.txt", 3, "Students Tested", "below 0: '-29'"),
    ("percentage_above_100.txt", 2, "Percentage Standard Met and Above", "above 100: '127.86'"),
    ("invalid_cp1252_byte.txt", 3, None, "byte 0x81 is not valid cp1252 text"),
    ("empty.txt", 1, None, "empty file or blank header row"),
]
IDS = [c[0].removesuffix(".txt") for c in CASES]


def expected(name: str, line: int, field: str | None, reason: str) -> str:
    """The message as rendered: the path as given (here BAD / name), line, field, reason."""
    return f"{BAD / name}, line {line}" + (f", field '{field}'" if field else "") + f": {reason}"


def inputs(name: str) -> list[Path]:
    """The bad file beside the (good) 2022 entities file, so that the one fault is the only one."""
    return [BAD / name, ENT2022]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("good") / "store"
    ingest.ingest([SB2022, ENT2022], store)
    return store


def test_fixtures_are_listed():
    assert sorted(p.name for p in BAD.glob("*.txt")) == sorted(c[0] for c in CASES)


@pytest.mark.parametrize("name, line, field, reason", CASES, ids=IDS)
def test_error_names_file_line_field_and_reason(name, line, field, reason):
    with pytest.raises(InputError) as caught:
        ingest.build(inputs(name))
    err = caught.value
    assert str(err) == expected(name, line, field, reason)
    assert (err.path, err.line, err.field, err.reason) == (str(BAD / name), line, field, reason)


@pytest.mark.parametrize("name, line, field, reason", CASES, ids=IDS)
def test_cli_exits_2_and_keeps_the_previous_store(tmp_path, good_store, name, line, field, reason):
    store = tmp_path / "store"
    shutil.copytree(good_store, store)
    before, siblings = digests(store), sorted(p.name for p in tmp_path.iterdir())
    assert "results.parquet" in before

    result = CliRunner().invoke(app, ["ingest", *map(str, inputs(name)), "--store", str(store)])

    assert result.exit_code == 2, result.output
    # rich wraps long lines at the terminal width: compare with whitespace collapsed
    assert f"error: {expected(name, line, field, reason)}" in " ".join(result.output.split())
    assert digests(store) == before  # results.parquet and every other table byte-identical
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings  # no temp or .old folder left behind


def test_good_inputs_replace_the_store(tmp_path, good_store):
    """The control for the test above: the same command on good files does rewrite the store."""
    store = tmp_path / "store"
    shutil.copytree(good_store, store)
    (store / "results.parquet").write_bytes(b"stale")
    result = CliRunner().invoke(app, ["ingest", str(SB2022), str(ENT2022), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert digests(store)["results.parquet"] == digests(good_store)["results.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
