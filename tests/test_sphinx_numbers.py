"""helpers.site.sphinx_numbers: pages with nothing to number are not unpickled to number the others, and the
numbers are Sphinx's own."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from sphinx import addnodes
from sphinx.cmd.build import build_main
from sphinx.environment import BuildEnvironment

from helpers.site import sphinx_numbers

CONF = 'extensions = ["helpers.site.sphinx_numbers"]\nnumfig = True\nhtml_theme = "basic"\n'
INDEX = "Book\n====\n\n.. toctree::\n\n   first\n   plain\n   last\n"
# Nothing numbered: text, a container without a caption (as a notebook cell is) and an uncaptioned code block
PLAIN = ("Plain\n=====\n\nNothing numbered here.\n\n.. container:: cell\n\n   A cell's text.\n\n"
         ".. code-block:: python\n\n   x = 1\n")


def table(caption: str) -> str:
    return f".. table:: {caption}\n\n   =====  =====\n   a      b\n   =====  =====\n   1      2\n   =====  =====\n"


def write(src: Path, name: str, text: str) -> None:
    (src / f"{name}.rst").write_text(text, encoding="utf-8")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    write(src, "index", INDEX)
    write(src, "first", "First\n=====\n\n" + table("Counts of the first page"))
    write(src, "plain", PLAIN)
    write(src, "last", "Last\n====\n\n" + table("Counts of the last page"))
    return tmp_path


def build(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Build incrementally; returns the pages whose doctrees were unpickled."""
    unpickled: list[str] = []
    real = BuildEnvironment.get_doctree
    monkeypatch.setattr(BuildEnvironment, "get_doctree", lambda env, d: unpickled.append(d) or real(env, d))
    assert build_main(["-q", "-b", "html", str(root / "src"), str(root / "out")]) == 0
    return unpickled


def number(root: Path, page: str) -> str:
    return re.search(r'caption-number">([^<]*)<', (root / "out" / f"{page}.html").read_text(encoding="utf-8"))[1]


def test_a_page_with_nothing_to_number_is_not_unpickled_to_number_the_others(book, monkeypatch):
    build(book, monkeypatch)
    write(book / "src", "first", "First\n=====\n\n" + table("Counts, corrected"))
    unpickled = build(book, monkeypatch)
    assert "plain" not in unpickled
    assert "last" in unpickled  # it has a table: walked, as Sphinx walks it
    assert number(book, "last") == "Table 2 "


def test_a_page_read_again_is_looked_at_again(book, monkeypatch):
    build(book, monkeypatch)
    write(book / "src", "plain", PLAIN + "\n" + table("A table added later"))
    build(book, monkeypatch)
    assert number(book, "plain") == "Table 2 "
    assert number(book, "last") == "Table 3 "  # written again: its number changed


def captioned_table(node: nodes.Node) -> str | None:
    return "table" if isinstance(node, nodes.table) and any(isinstance(c, nodes.title) for c in node) else None


def test_what_counts_as_something_to_number():
    page = nodes.document(None, None)
    page += nodes.paragraph(text="text")
    page += nodes.table()  # no caption
    page += addnodes.toctree(entries=[(None, "sub")])
    kept = sphinx_numbers.toctrees_only(page, (nodes.table,), captioned_table)
    assert [t["entries"] for t in kept] == [[(None, "sub")]]
    page += nodes.table("", nodes.title(text="Counts"))
    assert sphinx_numbers.toctrees_only(page, (nodes.table,), captioned_table) is None


def test_a_page_with_only_a_toctree_leads_the_walk_to_its_pages(book, monkeypatch):
    write(book / "src", "index", INDEX.replace("   plain\n", "   plain\n   part\n"))
    write(book / "src", "part", "Part\n====\n\nIts pages.\n\n.. toctree::\n   :hidden:\n\n   sub\n")
    write(book / "src", "sub", "Sub\n===\n\n" + table("Counts of the sub-page"))
    build(book, monkeypatch)
    write(book / "src", "first", "First\n=====\n\n" + table("Counts, corrected"))
    unpickled = build(book, monkeypatch)
    assert "part" not in unpickled and "sub" in unpickled
    assert (number(book, "sub"), number(book, "last")) == ("Table 2 ", "Table 3 ")
    write(book / "src", "first", "First\n=====\n\nNo table now.\n")
    build(book, monkeypatch)
    assert (number(book, "sub"), number(book, "last")) == ("Table 1 ", "Table 2 ")


def test_a_captioned_code_block_is_something_to_number(book, monkeypatch):
    write(book / "src", "plain", PLAIN + "\n.. code-block:: python\n   :caption: Numbered\n\n   y = 2\n")
    build(book, monkeypatch)
    write(book / "src", "first", "First\n=====\n\n" + table("Counts, corrected"))
    assert "plain" in build(book, monkeypatch)
    assert "Listing 1" in (book / "out" / "plain.html").read_text(encoding="utf-8")


def test_only_what_this_code_stored_is_remembered():
    env = SimpleNamespace()
    assert sphinx_numbers.remembered(env) == {}
    for stored in ({"plain": 1}, ("other code", {"plain": 1}, {}), (sphinx_numbers.CODE, ["plain"], {}),
                   (sphinx_numbers.CODE, {"plain": 1})):  # the last: this module's format before the stamps
        env.caaspp_unnumbered = stored
        assert sphinx_numbers.remembered(env) == {}
    env.caaspp_unnumbered = (sphinx_numbers.CODE, {"plain": 1}, {"plain": 1})
    assert sphinx_numbers.remembered(env) == {"plain": 1}


def test_new_code_looks_at_every_page_again(book, monkeypatch):
    build(book, monkeypatch)
    monkeypatch.setattr(sphinx_numbers, "CODE", "new code")
    write(book / "src", "first", "First\n=====\n\n" + table("Counts, corrected"))
    assert "plain" in build(book, monkeypatch)
    write(book / "src", "first", "First\n=====\n\n" + table("Counts, corrected again"))
    assert "plain" not in build(book, monkeypatch)


def test_no_walk_when_only_pages_that_number_nothing_changed(book, monkeypatch):
    build(book, monkeypatch)
    write(book / "src", "plain", PLAIN + "\nA corrected sentence.\n")
    unpickled = build(book, monkeypatch)
    assert "first" not in unpickled and "last" not in unpickled  # the walk did not run
    assert (number(book, "first"), number(book, "last")) == ("Table 1 ", "Table 2 ")
    write(book / "src", "plain", PLAIN + "\n" + table("A table added later"))  # it numbers something now
    assert "last" in build(book, monkeypatch)
    assert (number(book, "plain"), number(book, "last")) == ("Table 2 ", "Table 3 ")


def test_a_page_whose_toctree_changed_is_walked_again(book, monkeypatch):
    write(book / "src", "index", INDEX.replace("   plain\n", "   plain\n   part\n"))
    part = "Part\n====\n\nIts pages.\n\n.. toctree::\n   :hidden:\n\n   {}\n   {}\n"
    write(book / "src", "part", part.format("sub", "other"))
    write(book / "src", "sub", "Sub\n===\n\n" + table("Counts of the sub-page"))
    write(book / "src", "other", "Other\n=====\n\n" + table("Counts of the other page"))
    build(book, monkeypatch)
    assert (number(book, "sub"), number(book, "other"), number(book, "last")) == ("Table 2 ", "Table 3 ", "Table 4 ")
    write(book / "src", "part", part.format("other", "sub"))  # the same pages, in another order
    build(book, monkeypatch)
    assert (number(book, "other"), number(book, "sub"), number(book, "last")) == ("Table 2 ", "Table 3 ", "Table 4 ")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cold_build_unpickles_a_page_with_nothing_to_number_only_to_write_it(book, monkeypatch, jobs):
    extra = [f"more{i}" for i in range(4)]  # more than five pages: a parallel read with -j 2
    write(book / "src", "index", INDEX + "".join(f"   {name}\n" for name in extra))
    for name in extra:
        write(book / "src", name, PLAIN.replace("Plain\n=====", f"More {name}\n==========="))
    unpickled: list[str] = []
    real = BuildEnvironment.get_doctree
    monkeypatch.setattr(BuildEnvironment, "get_doctree", lambda env, d: unpickled.append(d) or real(env, d))
    assert build_main(["-q", "-j", jobs, "-b", "html", str(book / "src"), str(book / "out")]) == 0
    written = unpickled.count("plain")  # 0 when a serial read's doctrees stay in memory, else 1: never walked
    assert written == unpickled.count("more3") == (1 if jobs == "2" else 0)
    assert unpickled.count("first") == unpickled.count("last") == written + 1  # walked, as Sphinx walks them
    assert (number(book, "first"), number(book, "last")) == ("Table 1 ", "Table 2 ")


def test_what_a_page_was_found_to_be_as_read_goes_with_it():
    env, other = SimpleNamespace(), SimpleNamespace()
    sphinx_numbers.as_read(env)["plain"] = []
    sphinx_numbers.as_read(other).update({"first": None, "more": [], "elsewhere": []})
    sphinx_numbers._merge(None, env, {"first", "more"}, other)
    assert sphinx_numbers.as_read(env) == {"plain": [], "first": None, "more": []}
    sphinx_numbers._purge(None, env, "plain")
    assert sphinx_numbers.as_read(env) == {"first": None, "more": []}
    env.caaspp_numbering_as_read = ("other code", {"plain": []})
    assert sphinx_numbers.as_read(env) == {}
