"""Sphinx extension: a parallel build (`-j N`) reads and writes the book's chapters as one chunk of their own,
second.

Sphinx cuts the pages, in name order, into chunks of equal length and hands each to a process
(`sphinx.util.parallel.make_chunks`). The chapters' names sort after `book/leas/`, so the last chunk held the
statewide and run-status chapters, whose hundreds of kilobytes of tables are many LEA pages' work, and it ran
alone at the end of both phases: in a statewide cold build on 2 cores, about 13 s of reading and 10 s of writing
with one core idle (docs/benchmarks.md, run W). Here the LEA pages are cut as Sphinx cuts them, and the chapters
go in one chunk after the first: it starts at once beside the first, and the other processes take the LEA
chunks after it. Not first: when writing, Sphinx's main process resolves each chunk's pages before it starts a
process for it, and a first chunk of the heaviest pages would leave every writer waiting. Only which process
reads and writes a page changes, and the pages are the same bytes (tests/test_sphinx_chunks.py).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from sphinx import builders
from sphinx.util import parallel

_LEA_PAGE = re.compile(r"(?:^|/)leas/\d{2}/[^/]+$")  # book/leas/<county code>/<page>


def is_lea_page(docname: str) -> bool:
    """A page in an LEA folder of the book (`book/leas/<county code>/`)."""
    return _LEA_PAGE.search(docname) is not None


def make_chunks(arguments: Sequence[str], nproc: int, maxbatch: int = 10) -> list[Any]:
    """Sphinx's chunks of the LEA pages, with every other page in one chunk of its own, second."""
    chapters = [name for name in arguments if not is_lea_page(name)]
    chunks = parallel.make_chunks([name for name in arguments if is_lea_page(name)], nproc, maxbatch)
    if chapters:
        chunks.insert(min(1, len(chunks)), chapters)
    return chunks


def setup(app: Any) -> dict:
    builders.make_chunks = make_chunks  # the name Builder._read_parallel and _write_parallel call
    return {"parallel_read_safe": True, "parallel_write_safe": True}
