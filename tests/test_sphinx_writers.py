"""helpers.site.sphinx_writers: `-j N` writes in N processes (Sphinx alone: N − 1); the pages are the same bytes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sphinx import builders
from sphinx.cmd.build import build_main

from helpers.site import sphinx_writers
from tests.test_sphinx_gc import book, pages


@pytest.fixture
def writers(monkeypatch) -> list[int]:
    """The number of writer processes of each parallel write phase."""
    seen: list[int] = []
    write = builders.Builder._write_parallel

    def recorded(self, docnames, nproc):
        seen.append(nproc)
        return write(self, docnames, nproc)
    monkeypatch.setattr(builders.Builder, "_write_parallel", recorded)
    return seen


def test_two_jobs_write_in_two_processes_and_the_pages_are_the_same_bytes(tmp_path, writers):
    plain, more = tmp_path / "plain", tmp_path / "more"
    for root, extensions in ((plain, []), (more, ["helpers.site.sphinx_writers"])):
        assert build_main(["-q", "-j", "2", "-b", "html", str(book(root, extensions)), str(root / "out")]) == 0
    assert writers == [1, 2]
    assert pages(more / "out") == pages(plain / "out")
    assert "Table 3" in pages(more / "out")["page06.html"].decode()


def test_a_serial_build_stays_serial(tmp_path, writers):
    assert build_main(["-q", "-b", "html", str(book(tmp_path, ["helpers.site.sphinx_writers"])),
                       str(tmp_path / "out")]) == 0
    assert writers == []


def test_one_more_process_once_a_build():
    app = SimpleNamespace(parallel=2)
    for _ in range(2):  # called twice in one build, it adds one process, not two
        sphinx_writers._writers_as_jobs(app, None)
    assert app.parallel == 3
    serial = SimpleNamespace(parallel=1)
    sphinx_writers._writers_as_jobs(serial, None)
    assert serial.parallel == 1
