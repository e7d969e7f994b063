"""helpers.site.sphinx_nav: the sidebar's table of contents cut at depth 1 is the same tree, node for node, on
every page, without resolving the pages a county page lists (unless the current page is among them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sphinx.application import Sphinx
from sphinx.environment.adapters import toctree

from helpers.site import sphinx_nav

LEAS = {"01": ["a", "b", "c"], "19": ["d", "e"]}
CHAPTERS = ["intro", "methods", "flat"]


def rst(title: str, body: str = "") -> str:
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"


def toctree_rst(entries: list[str], caption: str = "") -> str:
    head = ".. toctree::\n" + (f"   :caption: {caption}\n" if caption else "")
    return head + "\n" + "".join(f"   {e}\n" for e in entries) + "\n"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Sphinx:
    """A book shaped like ours: chapters and county pages under the root's toctrees, each county page's LEA
    pages in a toctree inside its section, and a page whose toctree stands before its title (its entries are
    siblings of the page's own, at depth 1)."""
    src = tmp_path_factory.mktemp("nav")
    (src / "conf.py").write_text("html_theme = 'basic'\n", encoding="utf-8")
    counties = [f"leas/{c}/index" for c in LEAS]
    (src / "index.rst").write_text(rst("Book", toctree_rst(CHAPTERS, "Report") + toctree_rst(counties, "LEAs")),
                                   encoding="utf-8")
    for name in ("intro", "methods", "flatchild"):
        (src / f"{name}.rst").write_text(rst(name, "Section\n-------\n\nText.\n"), encoding="utf-8")
    (src / "flat.rst").write_text(toctree_rst(["flatchild"]) + rst("Flat"), encoding="utf-8")
    for county, leas in LEAS.items():
        (src / "leas" / county).mkdir(parents=True)
        (src / "leas" / county / "index.rst").write_text(rst(f"County {county}", toctree_rst(leas)), encoding="utf-8")
        for lea in leas:
            body = "One\n---\n\nText.\n\nTwo\n---\n\nSub\n~~~\n\nText.\n"
            (src / "leas" / county / f"{lea}.rst").write_text(rst(f"LEA {lea}", body), encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    sphinx = Sphinx(str(src), str(src), str(out / "html"), str(out / "doctrees"), "html", status=None,
                    warning=None, freshenv=True)
    sphinx.build()
    return sphinx


def sidebar(app: Sphinx, docname: str, maxdepth: int) -> str:
    """The theme's sidebar tree for `docname` (sbt-sidebar-nav.html's arguments), rendered to HTML."""
    tree = toctree.global_toctree_for_doc(app.env, docname, app.builder, collapse=False, includehidden=True,
                                          maxdepth=maxdepth, titles_only=True)
    return tree.pformat() + app.builder.render_partial(tree)["fragment"]


@pytest.fixture
def resolved(monkeypatch) -> list[str]:
    """The pages whose contents a resolution copied."""
    seen: list[str] = []
    entry = toctree._toctree_standard_entry

    def recorded(title, ref, *args, **kwargs):
        seen.append(ref)
        return entry(title, ref, *args, **kwargs)
    monkeypatch.setattr(toctree, "_toctree_standard_entry", recorded)
    return seen


def test_the_one_level_sidebar_is_the_same_tree_on_every_page(app, monkeypatch, resolved):
    docs = sorted(app.env.all_docs)
    expected = {(d, depth): sidebar(app, d, depth) for d in docs for depth in (1, 2)}
    leas = {f"leas/{c}/{lea}" for c, names in LEAS.items() for lea in names}
    assert leas <= set(resolved)
    monkeypatch.setattr(toctree, "_resolve_toctree", sphinx_nav.resolve_toctree)
    monkeypatch.setattr(toctree, "_entries_from_toctree", sphinx_nav.entries_from_toctree)
    for doc in docs:
        resolved.clear()
        assert sidebar(app, doc, 1) == expected[doc, 1], doc
        under = {lea for lea in leas if lea.startswith(doc.rsplit("/", 1)[0] + "/")} if doc.startswith("leas/") \
            else set()
        assert {r for r in resolved if r in leas} == under, doc  # only the current page's county's LEA pages
        assert "flatchild" in resolved  # a toctree before its page's title: depth 1, resolved
        assert sidebar(app, doc, 2) == expected[doc, 2], doc  # cut deeper: as Sphinx does it
    assert 'class="toctree-l1 current' in expected["leas/01/b", 1]  # the LEA's county marked current


def test_setup_patches_sphinx_for_the_build(monkeypatch):
    monkeypatch.setattr(toctree, "_resolve_toctree", toctree._resolve_toctree)
    monkeypatch.setattr(toctree, "_entries_from_toctree", toctree._entries_from_toctree)
    assert sphinx_nav.setup(object())["parallel_write_safe"]
    assert toctree._resolve_toctree is sphinx_nav.resolve_toctree
    assert toctree._entries_from_toctree is sphinx_nav.entries_from_toctree
