"""The command line: help text with an example per command, and errors that name the missing step."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from helpers.cli import app

runner = CliRunner()
COMMANDS = ["ingest", "tables", "run", "build", "pdf", "lea", "publish", "scan", "synth"]


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


def test_run_without_the_tables_stage_names_it(sample_store, tmp_path):
    result = runner.invoke(app, ["run", "--store", str(sample_store), "--tables", str(tmp_path / "none"),
                                 "--lea", "08618200000000"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert f"{tmp_path / 'none' / 'levels.parquet'} not found: run `caaspp-book ingest` and `caaspp-book " \
           "tables` first" in " ".join(result.output.split())


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
