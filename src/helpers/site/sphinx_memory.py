"""Sphinx extension: in a large book, keep at most one read doctree in memory.

Sphinx 7 caches every doctree it reads until the write phase (`env._write_doc_doctree_cache`) to save
unpickling it again. An LEA page's doctree carries its charts (~1 MB in memory), so a cold build of
~2,300 LEA pages held ~2 GiB. Dropping the cache as the next document is read makes the write phase
reload each doctree from its pickle instead (docs/benchmarks.md: memory and time with and without). A book
of up to `KEEP_UP_TO` documents keeps the cache: it fits in memory, and reloading costs ~40 ms a page.
"""

from __future__ import annotations

from typing import Any

KEEP_UP_TO = 300  # documents


def _drop_cache(app: Any, *args: Any) -> None:
    cache = getattr(app.env, "_write_doc_doctree_cache", None)
    if isinstance(cache, dict) and len(app.env.found_docs) > KEEP_UP_TO:
        cache.clear()


def setup(app: Any) -> dict:
    app.connect("doctree-read", _drop_cache)
    app.connect("env-updated", lambda app, env: _drop_cache(app) or [])
    return {"parallel_read_safe": True, "parallel_write_safe": True}
