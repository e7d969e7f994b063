"""A Sphinx extension: the sidebar's one-level table of contents without resolving the LEA pages under it.

The theme's sidebar (sbt-sidebar-nav.html, `max_navbar_depth: 1`) asks Sphinx for the book's whole table of
contents on every chapter and county page (`global_toctree_for_doc`). Sphinx resolves every entry to its full
depth and only then cuts the tree to the depth asked for: each call copied the contents of all ~2,300 LEA
pages under the county pages, to show one line per county. That was about half of a statewide build's
writing, though only some 70 pages have that sidebar (docs/benchmarks.md, run X).

While Sphinx resolves a tree cut at depth 1, `_entries_from_toctree` is not asked for the entries of a
toctree nested inside an entry (a county page's toctree of its LEA pages, a chapter's sections): they would
sit at depth 2 or deeper and be cut. Two cases still resolve them, so that the tree is the same node for node
(tests/test_sphinx_nav.py compares it for every page): a toctree at the top of an entry's contents (its
entries are that entry's siblings, at depth 1), and a toctree of a page the current page is under (an entry
there marks its ancestors "current" before the cut)."""

from __future__ import annotations

import contextvars
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment.adapters import toctree

_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("caaspp_toctree_depth", default=0)
_resolve = toctree._resolve_toctree
_entries = toctree._entries_from_toctree


def resolve_toctree(env: Any, docname: str, builder: Any, node: Any, *, prune: bool = True, maxdepth: int = 0,
                    **options: Any) -> Any:
    """Sphinx's `_resolve_toctree`, noting the depth its tree is cut at (0: not cut)."""
    cut = (maxdepth or node.get("maxdepth", -1)) if prune else 0
    token = _DEPTH.set(cut)
    try:
        return _resolve(env, docname, builder, node, prune=prune, maxdepth=maxdepth, **options)
    finally:
        _DEPTH.reset(token)


def entries_from_toctree(env: Any, prune: bool, titles_only: bool, collapse: bool, includehidden: bool, tags: Any,
                         ancestors: Any, included: Any, excluded: Any, node: Any, parents: list[str],
                         subtree: bool = False) -> list:
    """Sphinx's `_entries_from_toctree`, but no entries for a toctree that the cut at depth 1 would remove
    whole (module docstring)."""
    if subtree and _DEPTH.get() == 1 and nested(node) and parents and parents[0] not in ancestors:
        return []
    return _entries(env, prune, titles_only, collapse, includehidden, tags, ancestors, included, excluded, node,
                    parents, subtree)


def nested(node: nodes.Node) -> bool:
    """Whether a toctree in an entry's contents is inside one of its items (its entries one level deeper)."""
    return isinstance(getattr(node.parent, "parent", None), nodes.list_item)


def setup(app: Sphinx) -> dict:
    toctree._resolve_toctree = resolve_toctree
    toctree._entries_from_toctree = entries_from_toctree
    return {"parallel_read_safe": True, "parallel_write_safe": True}
