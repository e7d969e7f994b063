"""The command line: help text with an example per command, and errors that name the missing step."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.cli import app

from .conftest import SAMPLE

runner = CliRunner()
COMMANDS = ["ingest", "tables", "run", "build", "pdf", "district", "lea", "publish", "scan", "synth"]


def test_help_lists_every_command_with_an_example():
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listed = re.findall(r"^│ (\w+) ", result.output, flags=re.M)
    assert listed == COMMANDS
    examples = re.findall(r"caaspp-book (\w+) [^\n]*$", result.output.split("Commands")[0], flags=re.M)
    assert set(COMMANDS) <= set(examples)


def test_every_command_has_examples_in_its_own_help():
    for command in COMMANDS:
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, command
        assert re.search(rf"Examples?: .*caaspp-book {command}\b", result.output) or command == "synth", command


# What `--help` may not load: the stages' libraries, and pydantic (typer 0.29 builds a pydantic adapter for the
# help flag itself, a quarter of a second; pyproject.toml keeps typer below it).
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "matplotlib", "papermill", "nbformat", "pydantic", "dask")
PROBE = """
import os, sys
from helpers.cli import main
sys.argv = ["caaspp-book", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(sorted({name.split(".")[0] for name in sys.modules} & set(os.environ["HEAVY"].split(","))), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS), ["synth", "statewide"]])
def test_help_imports_no_stage_library(command):
    probe = subprocess.run([sys.executable, "-c", PROBE, *command, "--help"], capture_output=True, text=True,
                           env={**os.environ, "HEAVY": ",".join(HEAVY)}, check=False)
    assert "Usage: caaspp-book" in probe.stdout, probe.stderr
    assert probe.stderr.strip().splitlines()[-1] == "[]", probe.stderr


def test_run_without_the_tables_stage_names_it(sample_store, tmp_path):
    result = runner.invoke(app, ["run", "--store", str(sample_store), "--tables", str(tmp_path / "none"),
                                 "--lea", "08618200000000"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert f"{tmp_path / 'none' / 'levels.parquet'} not found: run `caaspp-book ingest` and `caaspp-book " \
           "tables` first" in " ".join(result.output.split())


def flat(result) -> str:
    return " ".join(result.output.split())


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tables_of_one_lea_or_year_never_replace_the_projects_tables(sample_store, tmp_path):
    env = {"CAASPP_BOOK_ROOT": str(tmp_path), "COLUMNS": "400"}
    for subset in (["--lea", "08618200000000"], ["--year", "2022"],
                   ["--year", "2022", "--out", str(tmp_path / "data" / "processed" / "tables")]):
        result = runner.invoke(app, ["tables", "--store", str(sample_store), *subset], env=env)
        assert result.exit_code == 2 and "give --out DIR" in flat(result), flat(result)
    assert not (tmp_path / "data").exists()  # data/processed/tables neither written nor removed


def test_a_year_or_lea_not_in_the_store_is_refused_with_what_is_there(sample_store, tmp_path):
    out = ["--store", str(sample_store), "--out", str(tmp_path / "t")]
    result = runner.invoke(app, ["tables", "--year", "2032", *out], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "no results for 2032" in flat(result) and "2017, 2018, 2021, 2022" in flat(result)
    result = runner.invoke(app, ["tables", "--lea", "99999999999999", *out], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "LEA 99999999999999 has no results" in flat(result)
    assert "08618200000000" in flat(result)  # the store's LEAs are listed
    assert not (tmp_path / "t").exists()


def test_run_for_a_year_not_in_the_tables_writes_no_manifest(sample_store, sample_tables, tmp_path):
    result = runner.invoke(app, ["run", "--store", str(sample_store), "--tables", str(sample_tables), "--year",
                                 "2202"], env={"CAASPP_BOOK_ROOT": str(tmp_path), "COLUMNS": "400"})
    assert result.exit_code == 2 and "no results for 2202" in flat(result) and "2022" in flat(result), flat(result)
    assert not (tmp_path / "book" / "leas" / "manifest.json").exists()


def test_tables_and_ingest_never_delete_a_folder_of_other_files(sample_store, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("a user's file")
    (theirs / "levels.csv").write_text("their own levels")
    before = files(theirs)
    for command in (["tables", "--store", str(sample_store), "--out", str(theirs)],
                    ["ingest", str(SAMPLE), "--store", str(theirs)]):
        result = runner.invoke(app, command, env={"COLUMNS": "400"})
        assert result.exit_code == 2 and "not made by caaspp-book" in flat(result), flat(result)
        assert files(theirs) == before


def test_an_output_folder_of_the_tool_is_replaced_but_not_files_added_to_it(sample_store, tmp_path):
    out = tmp_path / "tables"
    command = ["tables", "--store", str(sample_store), "--out", str(out), "--year", "2022"]
    assert runner.invoke(app, command).exit_code == 0
    assert json.loads((out / ".caaspp-book").read_text())["kind"] == "tables"
    assert runner.invoke(app, command).exit_code == 0  # its own folder: replaced
    (out / "mine.txt").write_text("added by someone")
    result = runner.invoke(app, command, env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "mine.txt" in flat(result) and (out / "mine.txt").exists()
    store = ["ingest", str(SAMPLE), "--store", str(out)]  # the tables folder is not a store
    result = runner.invoke(app, store, env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "holds caaspp-book's tables, not its store" in flat(result)


def test_a_store_written_by_an_older_version_is_still_replaced(sample_store, tmp_path):
    old = tmp_path / "store"
    shutil.copytree(sample_store, old)
    (old / ".caaspp-book").unlink(missing_ok=True)  # as an older version left it: no marker
    assert runner.invoke(app, ["ingest", str(SAMPLE), "--store", str(old)]).exit_code == 0
    assert (old / ".caaspp-book").exists()


def test_lea_mode_never_replaces_an_output_folder_it_did_not_build(tmp_path):
    theirs = tmp_path / "out" / "html"
    theirs.mkdir(parents=True)
    (theirs / "index.html").write_text("someone's page")
    result = runner.invoke(app, ["lea", str(tmp_path / "students.txt"), "--cds", "08618200000000", "--out",
                                 str(tmp_path / "out")], env={"CAASPP_BOOK_ROOT": str(tmp_path), "COLUMNS": "400"})
    assert result.exit_code == 2 and "is not a site caaspp-book built" in flat(result), flat(result)
    assert (theirs / "index.html").read_text() == "someone's page"


@pytest.mark.parametrize("args,option", [
    (["run", "--jobs", "0"], "--jobs"), (["run", "--timeout", "0"], "--timeout"),
    (["run", "--timeout", "-5"], "--timeout"), (["run", "--allow-failures", "-1"], "--allow-failures"),
    (["pdf", "--jobs", "0"], "--jobs"), (["synth", "capa", "--out", "x.parquet", "--n", "0"], "--n")])
def test_numeric_options_out_of_range_are_usage_errors(args, option, tmp_path):
    result = runner.invoke(app, args, env={"COLUMNS": "200", "CAASPP_BOOK_ROOT": str(tmp_path)})
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"Invalid value for '{option}'" in text and not list(tmp_path.iterdir())  # nothing was run


def test_scan_of_a_path_that_does_not_exist_names_it(tmp_path):
    missing = tmp_path / "no" / "site"
    result = runner.invoke(app, ["scan", str(missing)], env={"COLUMNS": "200", "CAASPP_BOOK_ROOT": str(tmp_path)})
    assert result.exit_code == 2
    assert f"nothing to scan: {missing} not found" in " ".join(result.output.split())
