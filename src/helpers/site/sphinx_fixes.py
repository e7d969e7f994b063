"""Sphinx extension loaded by the book (`_config.yml`: `sphinx.extra_extensions`): theme fixes.

sphinx-book-theme puts the page title into its print header as raw text (`{{ pagetitle }}` from
`title.astext()`), so an entity named `<script>…</script>` would run as a script on its page. The title
and the book title are escaped here, after the theme has set them.
"""

from __future__ import annotations

import html

from sphinx.application import Sphinx

TEXT_KEYS = ("pagetitle", "root_title")


def escape_titles(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for key in TEXT_KEYS:
        if isinstance(context.get(key), str):
            context[key] = html.escape(context[key])


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", escape_titles, priority=900)  # after the theme's handlers (500, 501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
