"""Byte-stable outputs: the same store gives the same tables, file for file (the LEA notebooks and page
text: tests/test_runner.py, tests/test_book_nav.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from helpers.stats import contract
from helpers.synth import impact_example

pytestmark = pytest.mark.slow


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_tables_are_byte_identical_across_two_runs(sample_store, tmp_path):
    contract.write(contract.compute(sample_store, impact_example.inputs()), tmp_path / "a")
    contract.write(contract.compute(sample_store, impact_example.inputs()), tmp_path / "b")
    first = digests(tmp_path / "a")
    assert first == digests(tmp_path / "b")
    assert {"levels.parquet", "levels.csv", "trends.parquet", "impact.parquet"} <= set(first)
