"""helpers.site.sphinx_chunks: a parallel build reads and writes the chapters as one chunk, second, and the LEA
pages in Sphinx's own chunks; the pages are the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sphinx import builders
from sphinx.cmd.build import build_main
from sphinx.util import parallel

from helpers.site import sphinx_chunks
from tests.test_sphinx_gc import pages

LEAS = [f"leas/{county}/{cds}-page" for county in ("01", "19") for cds in range(100, 115)]
CHAPTERS = ["intro", "statewide"]


@pytest.fixture(autouse=True)
def unpatched(monkeypatch):
    """Sphinx as it was after each test (setup patches it for the whole process)."""
    monkeypatch.setattr(builders, "make_chunks", parallel.make_chunks)


@pytest.fixture
def handed(monkeypatch) -> list[list[str]]:
    """The docnames of each chunk handed to a process, reading then writing."""
    seen: list[list[str]] = []
    add = parallel.ParallelTasks.add_task

    def recorded(self, task_func, arg=None, result_func=None):
        seen.append([item if isinstance(item, str) else item[0] for item in arg])
        return add(self, task_func, arg, result_func)
    monkeypatch.setattr(parallel.ParallelTasks, "add_task", recorded)
    return seen


def lea_book(root: Path, extensions: list[str]) -> Path:
    src = root / "src"
    (src / "leas" / "01").mkdir(parents=True)
    (src / "leas" / "19").mkdir(parents=True)
    (src / "conf.py").write_text(f"extensions = {extensions!r}\nhtml_theme = 'basic'\n", encoding="utf-8")
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in CHAPTERS + LEAS),
                                   encoding="utf-8")
    for name in CHAPTERS + LEAS:
        (src / f"{name}.rst").write_text(f"{name}\n{'=' * len(name)}\n\nText of {name}.\n", encoding="utf-8")
    return src


def test_the_chapters_are_one_chunk_after_the_first_of_the_lea_pages():
    names = sorted(["index", *CHAPTERS, *LEAS])
    chunks = sphinx_chunks.make_chunks(names, 2)
    assert chunks[1] == ["index", "intro", "statewide"]
    assert chunks[:1] + chunks[2:] == parallel.make_chunks(sorted(LEAS), 2)
    assert [len(c) for c in chunks] == [12, 3, 12, 6]
    assert sphinx_chunks.make_chunks(["a", "b"], 2) == [["a", "b"]]  # no LEA pages: one chunk
    assert sphinx_chunks.make_chunks(["leas/01/x", "a"], 2) == [["leas/01/x"], ["a"]]
    assert not sphinx_chunks.is_lea_page("leas/index") and not sphinx_chunks.is_lea_page("book/leas/1/x")
    assert sphinx_chunks.is_lea_page("book/leas/58/5872769-page")


def test_a_parallel_build_hands_the_chapters_second_and_the_pages_are_the_same_bytes(tmp_path, handed):
    plain, ours = tmp_path / "plain", tmp_path / "ours"
    assert build_main(["-q", "-j", "2", "-b", "html", str(lea_book(plain, [])), str(plain / "out")]) == 0
    assert handed[-1][-1] == "statewide"  # Sphinx alone: the chapters last
    handed.clear()
    assert build_main(["-q", "-j", "2", "-b", "html", str(lea_book(ours, ["helpers.site.sphinx_chunks"])),
                       str(ours / "out")]) == 0
    reads = handed[:len(sphinx_chunks.make_chunks(sorted(["index", *CHAPTERS, *LEAS]), 2))]
    writes = handed[len(reads):]
    assert reads[1] == ["index", "intro", "statewide"]
    assert writes[1] == ["intro", "statewide"]  # the first page ("index") was written before the chunks
    for phase in (reads, writes):
        assert sorted(name for chunk in phase for name in chunk if "leas/" in name) == sorted(LEAS)
    for folder in ("", "leas/01", "leas/19"):
        assert pages(ours / "out" / folder) == pages(plain / "out" / folder)
    assert len(pages(ours / "out" / "leas/19")) == 15
