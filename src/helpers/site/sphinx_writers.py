"""Sphinx extension: a parallel build (`-j N`) writes pages in N processes, not N − 1.

Sphinx reads with N forked processes, but writes with N − 1 (`Builder.write`: `nproc=self.app.parallel - 1`),
because its main process has work of its own then: it resolves each chunk of doctrees before forking a
process to write it. That work is a small part of writing: in a statewide cold build on 2 cores (`-j 2`) the
one writer ran alone, the main process mostly waiting for it, and the write phase used about one core for
150 s (docs/benchmarks.md, seventh session). So as the write phase starts (`write-started`, after every page is
read), `app.parallel` is raised by one: N writers, and the main process resolving the next chunk beside them.
helpers.site.sphinx_memory still lets at most one resolved chunk wait for a writer. The pages are the same bytes
(tests/test_sphinx_writers.py).
"""

from __future__ import annotations

from typing import Any


def _writers_as_jobs(app: Any, builder: Any) -> None:
    """As a parallel build starts writing: one more process than Sphinx's N − 1 writers, once."""
    if app.parallel > 1 and not getattr(app, "_caaspp_writers", False):
        app.parallel += 1
        app._caaspp_writers = True


def setup(app: Any) -> dict:
    app.connect("write-started", _writers_as_jobs)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
