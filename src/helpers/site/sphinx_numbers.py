"""Sphinx extension: figure and table numbers assigned without unpickling the pages that have none.

With `numfig` on (Jupyter Book's default), every build that reads a page runs Sphinx's
`TocTreeCollector.assign_figure_numbers`, which walks the whole book in table-of-contents order and unpickles
every page's doctree on the way, to number the captioned figures, tables and code blocks in one sequence. In
the statewide book that was 2,345 doctrees: 34 of the 65 s of a profiled Sphinx build in which one LEA page
changed (docs/benchmarks.md, run I). The LEA pages number nothing: they have no captioned figure or table and no
toctree, so walking one registers nothing and walks nothing further.

A page found to have nothing to number is remembered with its read stamp (`env.all_docs`, renewed whenever the
page is read again) in `env.caaspp_unnumbered`, with the SHA-256 of this module (new code looks at every page
again); while that stamp is current the walk is handed an empty node for it instead of its doctree. What counts
as "something to number" is wider than what Sphinx numbers (any node of a type a domain enumerates, any code-
block container, any toctree), so a page is skipped only when Sphinx's walk of it would have done nothing: the
numbers, and the pages written again because theirs changed, are the same. A domain that decides enumerability
in its own code would make that unsure, so with one loaded every page is walked, as without this extension.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Callable

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.domains.std import StandardDomain
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector

UNNUMBERED = "caaspp_unnumbered"  # env attribute: (CODE, {docname: read stamp} of pages with nothing to number)
CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def numbered_types(env: BuildEnvironment) -> tuple[type, ...] | None:
    """The node types any loaded domain numbers, or None when a domain decides that in its own code."""
    own = {type(d).get_enumerable_node_type for d in env.domains.values()}
    if own - {Domain.get_enumerable_node_type, StandardDomain.get_enumerable_node_type}:
        return None
    return tuple({cls for domain in env.domains.values() for cls in domain.enumerable_nodes})


def nothing_to_number(doctree: nodes.Node, types: tuple[type, ...]) -> bool:
    """True when the figure-number walk would register nothing in `doctree` and reach no other page."""
    def numbered(node: nodes.Node) -> bool:
        return (isinstance(node, (addnodes.toctree, *types))
                or (isinstance(node, nodes.container) and "literal_block" in node))  # a captioned code block
    return next(doctree.findall(numbered), None) is None


def skipping_unnumbered(assign: Callable) -> Callable:
    """`TocTreeCollector.assign_figure_numbers` that gets an empty node for a page known to number nothing."""
    @functools.wraps(assign)
    def assign_figure_numbers(collector: TocTreeCollector, env: BuildEnvironment) -> list[str]:
        types = numbered_types(env)
        if not env.config.numfig or types is None:
            return assign(collector, env)
        code, known = getattr(env, UNNUMBERED, ("", {}))
        known, found = known if code == CODE else {}, {}
        read = env.get_doctree

        def get_doctree(docname: str) -> nodes.Node:
            stamp = env.all_docs.get(docname)
            if stamp is not None and known.get(docname) == stamp:
                found[docname] = stamp
                return nodes.Element()
            doctree = read(docname)
            if stamp is not None and nothing_to_number(doctree, types):
                found[docname] = stamp
            return doctree

        env.get_doctree = get_doctree  # the walk's only way to a doctree
        try:
            return assign(collector, env)
        finally:
            del env.get_doctree
            setattr(env, UNNUMBERED, (CODE, found))
    assign_figure_numbers.skips_unnumbered = True
    return assign_figure_numbers


def setup(app: Sphinx) -> dict[str, Any]:
    if not getattr(TocTreeCollector.assign_figure_numbers, "skips_unnumbered", False):
        TocTreeCollector.assign_figure_numbers = skipping_unnumbered(TocTreeCollector.assign_figure_numbers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
