"""Replace an output folder whole, so a failure never leaves a half-written one, and never one the tool did
not make: folders it writes carry a marker file (`.caaspp-book`: their kind and the files it wrote)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Collection, Iterator

from helpers.core.errors import Refusal

MARKER = ".caaspp-book"


def entries(folder: Path) -> list[str]:
    """Every file (and symbolic link) under `folder`, as sorted relative POSIX paths."""
    out = []
    for top, dirs, names in os.walk(folder):
        rel = Path(top).relative_to(folder)
        out += [(rel / n).as_posix() for n in names]
        out += [(rel / d).as_posix() for d in dirs if (Path(top) / d).is_symlink()]
    return sorted(out)


def mark(folder: Path, kind: str) -> Path:
    """Record in `folder` that caaspp-book made it: its kind and every file in it."""
    files = [f for f in entries(folder) if f != MARKER]
    path = folder / MARKER
    path.write_text(json.dumps({"tool": "caaspp-book", "kind": kind, "files": files}, indent=1) + "\n",
                    encoding="utf-8")
    return path


def marker(folder: Path) -> dict | None:
    """The folder's marker, or None when it has none (or an unreadable one)."""
    try:
        found = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("tool") == "caaspp-book" else None


def names_in(allowed: Collection[str]) -> Callable[[list[str]], bool]:
    """A `legacy` test: the folder holds only files of these names (as an older version wrote them)."""
    return lambda files: set(files) <= set(allowed)


def check_replaceable(target: Path, kind: str, legacy: Callable[[list[str]], bool] | None = None) -> None:
    """Refusal unless `target` is absent, holds no file, or is this tool's `kind` of folder holding only
    files the tool wrote (`legacy`: how to recognise one an older version wrote, without a marker)."""
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise Refusal(f"{target} is not a folder: not replaced")
    files = entries(target)
    if not files:
        return
    found = marker(target)
    if found is None:
        if legacy is not None and legacy(files):
            return
        raise Refusal(f"{target} is a folder with other files in it, not made by caaspp-book (no {MARKER} "
                      f"file): not replaced. Choose a new or empty folder.")
    if found.get("kind") != kind:
        raise Refusal(f"{target} holds caaspp-book's {found.get('kind')}, not its {kind}: not replaced")
    foreign = sorted(set(files) - set(found.get("files", [])) - {MARKER})
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise Refusal(f"{target} has files caaspp-book did not write: {', '.join(foreign[:5])}{more}. Not "
                      "replaced: move them away first.")


def temp_folder(target: Path) -> Path:
    """A new empty folder beside `target`, to take its place when complete: hidden, and with the umask's
    permissions like any folder the tool makes (mkdtemp's 0700 would stay on the output it becomes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    return tmp


@contextmanager
def replacing(target: Path, kind: str, legacy: Callable[[list[str]], bool] | None = None) -> Iterator[Path]:
    """Yield a temp folder beside `target`; on success it is marked as `kind` and takes `target`'s place, on
    error it is removed and `target` is left as it was. Refusal (before anything is written) when `target`
    holds files this tool did not make (`check_replaceable`)."""
    check_replaceable(target, kind, legacy)
    tmp = temp_folder(target)
    try:
        yield tmp
        mark(tmp, kind)
        with interrupts_held():
            previous = swap_in(tmp, target)
        if previous is not None:
            shutil.rmtree(previous)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE); False where it is unavailable."""
    try:
        call = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_cwd, exchange = -100, 2
    if call(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(new: Path, target: Path) -> Path | None:
    """Put folder `new` in `target`'s place: in one step where the system allows it, else two renames in a
    row; `target` never holds a mix of the two. Returns where the previous `target` now is (the caller
    removes it), or None when there was none."""
    if target.exists() and _exchange(new, target):
        return new
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    return old if old.exists() else None


@contextmanager
def interrupts_held() -> Iterator[list[int]]:
    """SIGINT and SIGTERM received inside the block are acted on when it ends (in the main thread; elsewhere
    nothing changes). Yields the list of the signals held so far."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return
    previous = {s: signal.signal(s, lambda signum, _frame: held.append(signum))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if held:
            signal.raise_signal(held[0])
