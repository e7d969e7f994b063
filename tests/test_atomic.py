"""Folder replacement: a swap is never interrupted half-way, and only the tool's own folders are replaced."""

from __future__ import annotations

import os
import signal
import stat

import pytest

from helpers.core import atomic
from helpers.core.errors import Refusal


def test_a_signal_during_a_swap_is_acted_on_after_it(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "old.html").write_text("old")
    (tmp_path / "next").mkdir()
    (tmp_path / "next" / "new.html").write_text("new")
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda *_: seen.append(sorted(p.name for p in (tmp_path / "site").iterdir())))
    try:
        with atomic.interrupts_held():
            signal.raise_signal(signal.SIGTERM)  # arrives while the folders are being swapped
            assert seen == []
            old = atomic.swap_in(tmp_path / "next", tmp_path / "site")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [["new.html"]]  # handled once the site was whole
    assert [p.name for p in old.iterdir()] == ["old.html"]


def test_replacing_refuses_a_folder_the_tool_did_not_write_before_any_work(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(Refusal, match="not made by caaspp-book"), atomic.replacing(tmp_path / "out", "tables"):
        raise AssertionError("never reached")
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folder left


def test_a_replaced_folder_has_the_umasks_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    with atomic.replacing(tmp_path / "out", "tables") as tmp:
        (tmp / "levels.parquet").write_text("x")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
