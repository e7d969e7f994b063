"""Sphinx extension: in a large book, keep at most one read doctree in memory, and at most one chunk of
resolved doctrees waiting to be written.

Sphinx 7 caches every doctree it reads until the write phase (`env._write_doc_doctree_cache`) to save
unpickling it again. An LEA page's doctree carries its charts (~1 MB in memory), so a cold build of
~2,300 LEA pages held ~2 GiB. Dropping the cache as the next document is read makes the write phase
reload each doctree from its pickle instead (docs/benchmarks.md: memory and time with and without). A book
of up to `KEEP_UP_TO` documents keeps the cache: it fits in memory, and reloading costs ~40 ms a page.

A parallel write (`-j N`) resolves a chunk of doctrees (~100 pages statewide) in the main process and forks a
process to write it; `ParallelTasks.add_task` queues the chunk and returns at once when every process is busy.
Resolving is faster than writing, so the main process queued nearly every chunk's resolved doctrees (statewide
it grew from 0.55 to 1.0 GB), and each later writer was forked with all of them (docs/benchmarks.md, run I).
`_one_waiting` makes `add_task` return only once no chunk waits for a process: the next chunk is resolved
while the last one is written, as before.

Sphinx also keeps the pickled bytes of every doctree it loads (`env._pickled_doctree_cache`), for a second
load of the same page. Resolving a page for writing is its only load in a large book (the figure numbers are
found without loading LEA pages: helpers.site.sphinx_numbers), so statewide the main process grew from 0.35
to 0.67 GB of pickles over the write phase, and every writer was forked with them (docs/benchmarks.md,
seventh session). A large book's page leaves that cache once it is resolved (`doctree-resolved`).
"""

from __future__ import annotations

import functools
import time
from typing import Any, Callable

from sphinx.util import parallel

KEEP_UP_TO = 300  # documents


def _large_book_cache(app: Any, name: str) -> dict | None:
    """Sphinx's cache `name` of the environment, in a book of more than KEEP_UP_TO documents (else None)."""
    cache = getattr(app.env, name, None)
    return cache if isinstance(cache, dict) and len(app.env.found_docs) > KEEP_UP_TO else None


def _drop_cache(app: Any, *args: Any) -> None:
    cache = _large_book_cache(app, "_write_doc_doctree_cache")
    if cache is not None:
        cache.clear()


def _drop_pickled(app: Any, doctree: Any, docname: str) -> None:
    cache = _large_book_cache(app, "_pickled_doctree_cache")
    if cache is not None:
        cache.pop(docname, None)


def _one_waiting(add_task: Callable) -> Callable:
    """`ParallelTasks.add_task` that waits, as `ParallelTasks.join` does, while a task waits for a process, and
    raises a failed task's error that Sphinx's own `add_task` would drop (it terminates the tasks and returns
    when the failure is read during the call)."""
    @functools.wraps(add_task)
    def add(tasks: parallel.ParallelTasks, *args: Any, **kwargs: Any) -> None:
        failed: list[BaseException] = []
        join_one, own = tasks._join_one, tasks.__dict__.get("_join_one")  # own: an outer call's

        def recording() -> bool:
            try:
                return join_one()
            except BaseException as exc:
                failed.append(exc)
                raise

        tasks._join_one = recording
        try:
            add_task(tasks, *args, **kwargs)
        finally:
            if own is None:
                del tasks._join_one
            else:
                tasks._join_one = own
        if failed:
            raise failed[0]
        try:
            while tasks._precvsWaiting:
                if not tasks._join_one():
                    time.sleep(0.02)
        except BaseException:
            tasks.terminate()
            raise
    add.one_waiting = True
    return add


def setup(app: Any) -> dict:
    if not getattr(parallel.ParallelTasks.add_task, "one_waiting", False):
        parallel.ParallelTasks.add_task = _one_waiting(parallel.ParallelTasks.add_task)
    app.connect("doctree-read", _drop_cache)
    app.connect("doctree-resolved", _drop_pickled)
    app.connect("env-updated", lambda app, env: _drop_cache(app) or [])
    return {"parallel_read_safe": True, "parallel_write_safe": True}
