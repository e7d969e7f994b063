"""helpers.site.sphinx_memory: a large book drops Sphinx's read-doctree cache, a small one keeps it."""

from __future__ import annotations

from types import SimpleNamespace

from helpers.site import sphinx_memory


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
    assert events == ["doctree-read", "env-updated"]
