"""helpers.site.sphinx_gc: Sphinx's main process unpickles with the collector off and freezes the environment
between merges; the pages are the same bytes, and nothing stays frozen after the build."""

from __future__ import annotations

import gc
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx import application, builders
from sphinx.cmd.build import build_main

from helpers.site import sphinx_gc

PAGES = 12  # more than Sphinx's five for a parallel read


def book(root: Path, extensions: list[str]) -> Path:
    src = root / "src"
    src.mkdir(parents=True)
    (src / "conf.py").write_text(f"extensions = {extensions!r}\nnumfig = True\nhtml_theme = 'basic'\n",
                                 encoding="utf-8")
    pages = [f"page{i:02d}" for i in range(PAGES)]
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in pages),
                                   encoding="utf-8")
    for i, page in enumerate(pages):
        table = f".. table:: Counts of page {i}\n\n   =====  =====\n   a      b\n   =====  =====\n   {i}      2\n" \
                "   =====  =====\n" if i % 3 == 0 else ""
        (src / f"{page}.rst").write_text(f"Page {i}\n=======\n\nText {i}, see :ref:`the index <genindex>`.\n\n{table}",
                                         encoding="utf-8")
    return src


def pages(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.html"))}


@pytest.fixture(autouse=True)
def unpatched(monkeypatch):
    """Sphinx as it was after each test (setup patches it for the whole process)."""
    monkeypatch.setattr(builders, "pickle", pickle)
    monkeypatch.setattr(application, "pickle", pickle)
    monkeypatch.setattr(sphinx_gc.BuildEnvironment, "get_doctree", sphinx_gc.BuildEnvironment.get_doctree)


def test_the_pages_are_the_same_bytes_and_nothing_stays_frozen(tmp_path):
    plain, quiet = tmp_path / "plain", tmp_path / "quiet"
    for root, extensions in ((plain, []), (quiet, ["helpers.site.sphinx_gc"])):
        assert build_main(["-q", "-j", "2", "-b", "html", str(book(root, extensions)), str(root / "out")]) == 0
    assert gc.get_freeze_count() == 0
    assert pages(quiet / "out") == pages(plain / "out")
    assert "Table 3" in pages(quiet / "out")["page06.html"].decode()


def test_the_collector_is_off_only_while_loading():
    seen = []
    load = sphinx_gc.collector_off(lambda: seen.append(gc.isenabled()))
    load()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        load()
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    with pytest.raises(ValueError, match="bad pickle"):
        sphinx_gc.collector_off(lambda: (_ for _ in ()).throw(ValueError("bad pickle")))()
    assert gc.isenabled()


def test_a_merge_collects_and_freezes_what_is_alive_then_unpickles_with_the_collector_off(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(pickle, "loads", lambda data: calls.append(("loads", gc.isenabled())) or data)
    assert sphinx_gc._merging_loads(b"env") == b"env"
    assert calls == ["collect", "freeze", ("loads", False)] and gc.isenabled()


def test_the_environment_is_frozen_once_read_unless_doctrees_wait_in_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    sphinx_gc._read(None, SimpleNamespace(_write_doc_doctree_cache={}))
    assert calls == ["collect", "freeze"]
    sphinx_gc._read(None, SimpleNamespace(_write_doc_doctree_cache={"page01": object()}))  # a serial read's cache
    assert calls == ["collect", "freeze"]


def test_setup_patches_once():
    class App:
        def connect(self, *args):
            pass
    sphinx_gc.setup(App())
    loads, get_doctree = builders.pickle.loads, sphinx_gc.BuildEnvironment.get_doctree
    sphinx_gc.setup(App())
    assert builders.pickle.loads is loads is sphinx_gc._merging_loads
    assert sphinx_gc.BuildEnvironment.get_doctree is get_doctree and get_doctree.collector_off
    assert builders.pickle.dumps is pickle.dumps and builders.pickle.HIGHEST_PROTOCOL == pickle.HIGHEST_PROTOCOL
    assert application.pickle.load.collector_off and application.pickle.loads is pickle.loads
