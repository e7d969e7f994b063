"""helpers.site.sphinx_memory: a large book drops Sphinx's read-doctree cache and each resolved page's pickle, a
small one keeps both."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sphinx.application import Sphinx
from sphinx.errors import SphinxParallelError
from sphinx.util import parallel

from helpers.site import sphinx_memory
from tests.test_sphinx_gc import PAGES, book


def app_with(docs: int) -> SimpleNamespace:
    env = SimpleNamespace(found_docs={f"d{i}" for i in range(docs)}, _write_doc_doctree_cache={"d0": object()})
    return SimpleNamespace(env=env)


def test_small_book_keeps_the_cache_large_book_drops_it():
    small, large = app_with(sphinx_memory.KEEP_UP_TO), app_with(sphinx_memory.KEEP_UP_TO + 1)
    sphinx_memory._drop_cache(small, "d0", None)
    sphinx_memory._drop_cache(large, "d0", None)
    assert list(small.env._write_doc_doctree_cache) == ["d0"]
    assert large.env._write_doc_doctree_cache == {}


def test_registers_for_reads_and_the_write_phase():
    events: list[str] = []
    app = SimpleNamespace(connect=lambda event, fn: events.append(event))
    assert sphinx_memory.setup(app)["parallel_read_safe"] is True
    assert events == ["doctree-read", "doctree-resolved", "env-updated"]


@pytest.mark.parametrize("keep_up_to, kept", [(PAGES + 1, PAGES + 1), (3, 0)], ids=["small", "large"])
def test_a_large_book_keeps_no_pickled_doctree_once_written(tmp_path, monkeypatch, keep_up_to, kept):
    """Sphinx keeps every loaded doctree's pickle (statewide 0.3 GB in the main process); a large book's go
    once the page is resolved for writing."""
    monkeypatch.setattr(sphinx_memory, "KEEP_UP_TO", keep_up_to)
    src = book(tmp_path, ["helpers.site.sphinx_memory"])
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html", status=None)
    app.build()
    assert app.statuscode == 0
    assert len(app.env._pickled_doctree_cache) == kept  # every page and the index, or none


def _fails() -> None:
    raise ValueError("chunk 0 could not be written")


def test_a_parallel_write_queues_no_chunk_behind_a_busy_process():
    """Sphinx's own `add_task` leaves chunks 1 and 2 waiting (with their resolved doctrees) behind chunk 0."""
    add = sphinx_memory._one_waiting(parallel.ParallelTasks.add_task)
    tasks, waiting, done = parallel.ParallelTasks(1), [], []
    for k in range(3):
        add(tasks, time.sleep, 0.05, lambda arg, result, k=k: done.append(k))
        waiting.append(len(tasks._precvsWaiting))
    tasks.join()
    assert waiting == [0, 0, 0]
    assert done == [0, 1, 2]


@pytest.mark.parametrize("finished", [False, True], ids=["read-while-waiting", "read-by-sphinx-add-task"])
def test_a_failed_chunk_stops_the_write_with_its_error(finished):
    """Whether the failure is read while the next chunk waits or by Sphinx's own `add_task` (which drops it)."""
    add = sphinx_memory._one_waiting(parallel.ParallelTasks.add_task)
    tasks = parallel.ParallelTasks(1)
    add(tasks, _fails)
    if finished:
        tasks._procs[0].join()
        assert tasks._precvs[0].poll(5)
    with pytest.raises(SphinxParallelError, match="ValueError: chunk 0 could not be written"):
        add(tasks, time.sleep, 0.01)
    assert tasks._pworking == 0


def test_sphinx_tasks_are_wrapped_once():
    app = SimpleNamespace(connect=lambda event, fn: None)
    sphinx_memory.setup(app)
    sphinx_memory.setup(app)
    add = parallel.ParallelTasks.add_task
    assert add.one_waiting is True
    assert not getattr(add.__wrapped__, "one_waiting", False)
