"""The Jupyter Book process `build` starts (helpers.site.jb_process): Jupyter Book's own exit status and
output, the exit handlers run, without the interpreter's teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.site import book

JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))


def ours(*args: str, before: str = "") -> subprocess.CompletedProcess:
    """The process as `book.jupyter_book` starts it, its program name (`-c`) written as the command's."""
    found = subprocess.run([sys.executable, "-c", before + book.JB_MAIN.format(jobs=2), *args],
                           capture_output=True, text=True, timeout=120)
    found.stdout, found.stderr = (text.replace("Usage: -c ", "Usage: jupyter-book ").replace("Try '-c ", "Try "
                                  "'jupyter-book ") for text in (found.stdout, found.stderr))
    return found


def test_help_is_printed_whole_and_exits_zero():
    found, plain = ours("build", "--help"), subprocess.run([JUPYTER_BOOK, "build", "--help"], capture_output=True,
                                                           text=True, timeout=120)
    assert (found.returncode, found.stdout) == (0, plain.stdout)
    assert "Convert your book's or page's content to HTML or a PDF." in found.stdout


def test_a_refused_command_has_jupyter_books_status_and_message(tmp_path):
    missing = str(tmp_path / "no-such-book")
    found = ours("build", missing)
    plain = subprocess.run([JUPYTER_BOOK, "build", missing], capture_output=True, text=True, timeout=120)
    assert found.returncode == plain.returncode == 2
    assert found.stderr == plain.stderr and f"Path '{missing}' does not exist" in found.stderr


def test_exit_handlers_run_before_the_quick_exit():
    found = ours("build", "--help", before="import atexit; atexit.register(print, 'handler ran'); ")
    assert found.returncode == 0 and found.stdout.endswith("handler ran\n")


def test_leave_exits_as_sys_exit_would():
    for code, status, err in [("None", 0, ""), ("3", 3, ""), ("'stopped'", 1, "stopped\n")]:
        found = subprocess.run([sys.executable, "-c", f"from helpers.site.jb_process import leave; leave({code})"],
                               capture_output=True, text=True, timeout=60)
        plain = subprocess.run([sys.executable, "-c", f"import sys; sys.exit({code})"], capture_output=True,
                               text=True, timeout=60)
        assert (found.returncode, found.stderr) == (plain.returncode, plain.stderr) == (status, err)
