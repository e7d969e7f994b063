"""Sphinx extension: keep at most one read doctree in memory.

Sphinx 7 caches every doctree it reads until the write phase (`env._write_doc_doctree_cache`) to save
unpickling it again. An LEA page's doctree carries its charts (~1 MB in memory), so a cold build of
~2,300 LEA pages held ~2 GiB. Dropping the cache as the next document is read makes the write phase
reload each doctree from its pickle instead (docs/benchmarks.md: memory and time with and without).
"""

from __future__ import annotations

from typing import Any


def _drop_cache(app: Any, *args: Any) -> None:
    cache = getattr(app.env, "_write_doc_doctree_cache", None)
    if isinstance(cache, dict):
        cache.clear()


def setup(app: Any) -> dict:
    app.connect("doctree-read", _drop_cache)
    app.connect("env-updated", lambda app, env: _drop_cache(app) or [])
    return {"parallel_read_safe": True, "parallel_write_safe": True}
