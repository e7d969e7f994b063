"""Sphinx extension loaded by the book (`_config.yml`: `sphinx.config.extensions`): titles as literal text, and
the same bytes whether a site is built clean or incrementally.

- sphinx-book-theme puts the page title into its print header as raw text (`{{ pagetitle }}` from
  `title.astext()`), and pydata-sphinx-theme the book's title into its navbar (`{{ docstitle }}`), so an
  entity named `<script>…</script>` (an LEA page; an LEA-mode book's title) would run as a script. These
  template values are escaped here, after the theme has set them, as `Markup` so that a template's own `|e`
  does not escape them twice.
- Sphinx 7's search page shows each section title of the search index's `alltitles` as HTML (searchtools.js
  `_displayItem`: `innerHTML`), from the title's plain text: a title `<img src=x onerror=…>` would run when
  searched for. Each page's section titles are escaped as the page is indexed (Sphinx 8.2 escapes them in
  searchtools.js instead: sphinx-doc/sphinx#13356, so newer versions are left alone).
- The same bytes whether built clean or incrementally: Sphinx adds `?v=<checksum>` to a CSS or script link
  only when the file is already in the output folder (on a rebuild, not a clean build), so the links go
  without it; and a word whose pages were all rewritten stays in an incremental search index with no pages,
  so such words are dropped before the index is written.
- Parallel builds (`caaspp-book build --jobs N`, Sphinx `-j N`): sphinx-external-toc loads
  sphinx_multitoc_numbering in its own `setup`, whether or not `use_multitoc_numbering` is on, and that
  extension does not declare itself parallel safe, so Sphinx reads and writes serially and warns (a failed
  build under `-W`). It is marked safe here (`mark_multitoc_parallel_safe`).
"""

from __future__ import annotations

import html
import re
from typing import Any

import sphinx
from markupsafe import Markup
from sphinx.application import Sphinx

TEXT_KEYS = ("pagetitle", "root_title", "docstitle", "shorttitle")
SEARCH_ESCAPES_TITLES = (8, 2)  # the Sphinx version whose searchtools.js escapes titles itself


def escape_titles(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for key in TEXT_KEYS:
        value = context.get(key)
        if isinstance(value, str) and not isinstance(value, Markup):
            context[key] = Markup(html.escape(value))


CHECKSUM = re.compile(r'\?v=[0-9a-f]{8}(?=")')


def without_checksums(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The page's CSS and script links without Sphinx's `?v=` checksums (present only on rebuilds)."""
    for key in ("css_tag", "js_tag"):
        tag = context.get(key)
        if callable(tag):
            context[key] = lambda asset, tag=tag: CHECKSUM.sub("", tag(asset))


def drop_stale_words(app: Sphinx) -> None:
    """Wrap the HTML builder's `dump_search_index` so that words no page has any more are not written."""
    builder: Any = app.builder
    dump = getattr(builder, "dump_search_index", None)
    if dump is None:
        return

    def dump_current_words() -> None:
        if builder.indexer is not None:
            for mapping in (builder.indexer._mapping, builder.indexer._title_mapping):
                for word in [word for word, pages in mapping.items() if not pages]:
                    del mapping[word]
        dump()

    builder.dump_search_index = dump_current_words


def escape_search_titles(app: Sphinx) -> None:
    """Wrap the HTML builder's `index_page` so that the page's section titles enter the index escaped
    (pages kept from an earlier build were escaped when they were indexed)."""
    builder: Any = app.builder
    index_page = getattr(builder, "index_page", None)
    if index_page is None or sphinx.version_info[:2] >= SEARCH_ESCAPES_TITLES:
        return

    def escaped_index_page(pagename: str, doctree, title: str) -> None:
        index_page(pagename, doctree, title)
        titles = builder.indexer._all_titles if builder.indexer is not None else {}
        if pagename in titles:
            titles[pagename] = [(html.escape(text), anchor) for text, anchor in titles[pagename]]

    builder.index_page = escaped_index_page


def mark_multitoc_parallel_safe(app: Sphinx, config: object = None) -> None:
    """Declare sphinx_multitoc_numbering safe for parallel reading and writing. What it does runs in the main
    process only: its `setup` replaces `TocTreeCollector.assign_section_numbers`, which Sphinx calls from
    `env-get-updated` after the parallel readers' environments are merged back (section numbers are assigned
    once, over the whole toctree), and it logs a line on `builder-inited`. It keeps no state of its own
    that a reader or writer process would change, so forked readers and writers lose nothing."""
    extension = app.extensions.get("sphinx_multitoc_numbering")
    if extension is not None:
        extension.parallel_read_safe = True
        extension.parallel_write_safe = True


def setup(app: Sphinx) -> dict:
    mark_multitoc_parallel_safe(app)  # listed after sphinx_external_toc in _config.yml, which loads it
    app.connect("config-inited", mark_multitoc_parallel_safe)  # and again once every extension is loaded
    app.connect("html-page-context", escape_titles, priority=900)  # after the theme's handlers (500, 501)
    app.connect("html-page-context", without_checksums)
    app.connect("builder-inited", escape_search_titles)
    app.connect("builder-inited", drop_stale_words)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
