"""Sphinx extension: figure and table numbers assigned without unpickling the pages that have none.

With `numfig` on (Jupyter Book's default), every build that reads a page runs Sphinx's
`TocTreeCollector.assign_figure_numbers`, which walks the whole book in table-of-contents order and unpickles
every page's doctree on the way, to number the captioned figures, tables and code blocks in one sequence. In
the statewide book that was 2,345 doctrees: 34 of the 65 s of a profiled Sphinx build in which one LEA page
changed (docs/benchmarks.md, run I). Most pages number nothing: an LEA page has no captioned figure or table
and no toctree, and a county page has only the toctree of its LEA pages.

For a page found to number nothing, its read stamp (`env.all_docs`, renewed whenever the page is read again)
and copies of its toctrees are kept in `env.caaspp_unnumbered`, with the SHA-256 of this module (new code
looks at every page again). While that stamp is current the walk gets a node holding only those toctrees
instead of the page's doctree: it reaches the same pages in the same order and registers nothing on the way,
as it would on the page. A page counts as numbering something when Sphinx's own rule gives one of its nodes a
figure type (whether or not the node has an id), so the numbers, and the pages written again because theirs
changed, are the same. A page under a numbered toctree (section numbers) is always read, and so is every page
when a loaded domain decides enumerability in its own code.

A page is also looked at as it is read (`doctree-read`, after the other handlers, in whichever process reads
it; kept until the page is purged, merged from parallel readers): its toctrees, or that it numbers something.
So a cold build's walk unpickles only the pages that number something (statewide, the chapters), not the
2,279 LEA pages once each before they are written.

Every walk also keeps each page's read stamp. When the pages are the same as at the last walk, no page has
section numbers, and each page read again since numbered nothing then and numbers nothing now, with the same
toctrees, the walk would give every page the numbers it has: it is not run, and no page is written again for
its numbers (an LEA page corrected in the statewide book: 9.6 of a warm build's 37 s profiled, run J).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.domains import Domain
from sphinx.domains.std import StandardDomain
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector

from helpers.core import digests

# env attribute: (CODE, {docname: (read stamp, toctrees)} of pages numbering nothing, {docname: read stamp} of every
# page at the last walk)
UNNUMBERED = "caaspp_unnumbered"
# env attribute: (CODE, {docname: toctrees, or None when it numbers something}) of the pages as they were read
AS_READ = "caaspp_numbering_as_read"
CODE = digests.file_sha256(Path(__file__))


def candidates(env: BuildEnvironment) -> tuple[type, ...] | None:
    """The node types Sphinx's walk may number: those the domains enumerate, and containers (a captioned code
    block). None when a domain decides enumerability in its own code."""
    own = {type(d).get_enumerable_node_type for d in env.domains.values()}
    if own - {Domain.get_enumerable_node_type, StandardDomain.get_enumerable_node_type}:
        return None
    return (nodes.container, *{cls for domain in env.domains.values() for cls in domain.enumerable_nodes})


def figure_type(env: BuildEnvironment, node: nodes.Node) -> str | None:
    """The figure type Sphinx's walk gives `node` (`assign_figure_numbers`' own `get_figtype`)."""
    for domain in env.domains.values():
        figtype = domain.get_enumerable_node_type(node)
        if domain.name == "std" and not domain.get_numfig_title(node):
            continue  # uncaptioned
        if figtype:
            return figtype
    return None


def toctrees_only(doctree: nodes.Node, types: tuple[type, ...],
                  figtype: Callable[[nodes.Node], Any]) -> list[addnodes.toctree] | None:
    """Copies of a page's toctrees, in the order the walk meets them, when it numbers nothing (no node of
    `types` that `figtype` gives a type); None when it numbers something."""
    found = []
    for node in doctree.findall(lambda n: isinstance(n, (addnodes.toctree, *types))):
        if isinstance(node, addnodes.toctree):
            found.append(node.deepcopy())
        elif figtype(node):
            return None
    return found


def remembered(env: BuildEnvironment) -> dict[str, tuple[int, list]]:
    """The pages this code found to number nothing: their read stamps and toctrees (none from other code)."""
    return _stored(env)[0]


def _stored(env: BuildEnvironment) -> tuple[dict[str, tuple[int, list]], dict[str, int]]:
    """What this code kept at the last walk: the pages numbering nothing, every page's read stamp."""
    stored = getattr(env, UNNUMBERED, None)
    ok = (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == CODE and isinstance(stored[1], dict)
          and isinstance(stored[2], dict))
    return (stored[1], stored[2]) if ok else ({}, {})


def as_read(env: BuildEnvironment) -> dict[str, list | None]:
    """This code's look at each page as it was read (see the module docstring), created empty if missing."""
    stored = getattr(env, AS_READ, None)
    if not (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == CODE and isinstance(stored[1], dict)):
        stored = (CODE, {})
        setattr(env, AS_READ, stored)
    return stored[1]


def _look(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    types = candidates(env)
    if env.config.numfig and types is not None:
        as_read(env)[env.docname] = toctrees_only(doctree, types, functools.partial(figure_type, env))


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    as_read(env).pop(docname, None)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    mine, theirs = as_read(env), as_read(other)
    mine.update({d: theirs[d] for d in docnames if d in theirs})


def _toctrees(env: BuildEnvironment, docname: str, types: tuple[type, ...],
              figtype: Callable[[nodes.Node], Any]) -> list[addnodes.toctree] | None:
    """A page's toctrees when it numbers nothing, else None: as it was read, or from its doctree."""
    seen = as_read(env)
    if docname in seen:
        return seen[docname]
    return toctrees_only(env.get_doctree(docname), types, figtype)


def unchanged(env: BuildEnvironment, types: tuple[type, ...],
              figtype: Callable[[nodes.Node], Any]) -> dict[str, tuple[int, list]] | None:
    """The pages numbering nothing, with the stamps and toctrees of those read again, when the walk would give
    every page the numbers it has (see the module's docstring); else None."""
    known, stamps = _stored(env)
    if not stamps or stamps.keys() != env.all_docs.keys() or any(env.toc_secnumbers.values()):
        return None
    read_again = [docname for docname, stamp in env.all_docs.items() if stamps[docname] != stamp]
    if any(docname not in known for docname in read_again):  # one numbered something: no page need be read
        return None
    now = dict(known)
    for docname in read_again:
        stamp = env.all_docs[docname]
        toctrees = _toctrees(env, docname, types, figtype)
        if toctrees is None or [t.attributes for t in toctrees] != [t.attributes for t in known[docname][1]]:
            return None
        now[docname] = (stamp, toctrees)
    return now


def skipping_unnumbered(assign: Callable) -> Callable:
    """`TocTreeCollector.assign_figure_numbers` that gets only its toctrees for a page known to number
    nothing."""
    @functools.wraps(assign)
    def assign_figure_numbers(collector: TocTreeCollector, env: BuildEnvironment) -> list[str]:
        types = candidates(env)
        if not env.config.numfig or types is None:
            return assign(collector, env)
        figtype = functools.partial(figure_type, env)
        kept = unchanged(env, types, figtype)
        if kept is not None:
            setattr(env, UNNUMBERED, (CODE, kept, dict(env.all_docs)))
            return []  # every page keeps its numbers (env.toc_fignumbers)
        known, found, read = remembered(env), {}, env.get_doctree

        def get_doctree(docname: str) -> nodes.Node:
            stamp = env.all_docs.get(docname)
            if env.toc_secnumbers.get(docname) or stamp is None:  # numbered sections: the walk needs them
                return read(docname)
            if docname in known and known[docname][0] == stamp:
                found[docname] = known[docname]
                return nodes.Element("", *(t.deepcopy() for t in known[docname][1]))
            if (seen := as_read(env).get(docname)) is not None:
                found[docname] = (stamp, seen)
                return nodes.Element("", *(t.deepcopy() for t in seen))
            doctree = read(docname)
            toctrees = toctrees_only(doctree, types, figtype)
            if toctrees is not None:
                found[docname] = (stamp, toctrees)
            return doctree

        env.get_doctree = get_doctree  # the walk's only way to a doctree
        try:
            changed = assign(collector, env)
        finally:
            del env.get_doctree
            setattr(env, UNNUMBERED, (CODE, found, {}))  # an interrupted walk: no stamps, the next one walks
        setattr(env, UNNUMBERED, (CODE, found, dict(env.all_docs)))
        return changed
    assign_figure_numbers.skips_unnumbered = True
    return assign_figure_numbers


def setup(app: Sphinx) -> dict[str, Any]:
    if not getattr(TocTreeCollector.assign_figure_numbers, "skips_unnumbered", False):
        TocTreeCollector.assign_figure_numbers = skipping_unnumbered(TocTreeCollector.assign_figure_numbers)
    app.connect("doctree-read", _look, priority=999)  # after the handlers that change a doctree
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
