"""The Jupyter Book process `book.jupyter_book` starts: Jupyter Book 1's command line with the book's set-up
(libyaml for the table of contents, Sphinx's parallel jobs; the IRI format checker is left out by importing
this package) and a quick exit.

At exit the interpreter frees every object it still holds, and Sphinx's environment of a statewide book is
large: 3.2 s of this process's 13.8 s in an incremental statewide build went to that alone (docs/benchmarks.md,
run N). Here the exit handlers run (logging flushed, temporary folders removed, child processes joined), the
standard streams are flushed, and the process leaves with `os._exit` and Jupyter Book's exit status."""

from __future__ import annotations

import atexit
import functools
import os
import sys
from typing import NoReturn


def main(jobs: int = 1) -> NoReturn:
    """Run `jupyter-book` with the arguments of this process (`sys.argv[1:]`), Sphinx with `jobs` processes."""
    from helpers.site import toc_yaml

    toc_yaml.install()
    if jobs > 1:
        # Jupyter Book 1's CLI has no option for Sphinx's parallel jobs (`sphinx-build -j N`): its `build` imports
        # `jupyter_book.sphinx.build_sphinx` when it runs, so a `jobs` given to that function reaches Sphinx.
        import jupyter_book.sphinx as jb_sphinx

        jb_sphinx.build_sphinx = functools.partial(jb_sphinx.build_sphinx, jobs=jobs)
    from jupyter_book.cli.main import main as jupyter_book

    try:
        jupyter_book()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    leave(code)


def leave(code: object) -> NoReturn:
    """Exit as `sys.exit(code)` would, without the interpreter's teardown."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit prints any other value and exits with 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(status)
