"""What an earlier build already checked, remembered by content, so an incremental build checks only what it
wrote: for each file, its SHA-256 and what the check kept of it (the link check: a page's internal links
and ids; the privacy scan: only that it was clean). A file with a finding is not remembered, so it is read
again every build, and no finding's text is ever stored.

A record holds the key of everything else a verdict depends on (the checker's code, and for the privacy
scan the data year, the known CDS codes, the machine's paths and its secret values, as one digest): when
the key differs, every file is checked again. The record lives beside the staged site, never in it, and is
replaced in one step after a check, so an interrupted check leaves the previous record."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from helpers.core.digests import file_sha256
from helpers.core.stable_write import write_if_changed

T, R = TypeVar("T"), TypeVar("R")


def key(*parts: Any) -> str:
    """One digest of the parts' JSON (sorted keys): source texts, settings."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def source_key(*modules: Any, extra: Any = ()) -> str:
    """`key` of these modules' source files (a change of the checker's code checks everything again)."""
    return key([Path(m.__file__).read_text(encoding="utf-8") for m in modules], extra)


class Record:
    """The files checked under one key: relative path → (SHA-256, kept value). `path` None keeps nothing.
    `shas`: SHA-256 of files by path, taken by the same build since it last wrote them (the release record's),
    so that a build hashes its site once; any other file is hashed here."""

    def __init__(self, path: Path | None, check_key: str, shas: Mapping[str, str] | None = None) -> None:
        self.path, self.key, self.shas = path, check_key, shas or {}
        self.before: dict[str, list] = self._load() if path is not None else {}
        self.now: dict[str, list] = {}

    def _load(self) -> dict[str, list]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return doc.get("files", {}) if isinstance(doc, dict) and doc.get("key") == self.key else {}

    def digest(self, file: Path) -> str | None:
        if self.path is None:
            return None
        return self.shas.get(os.fspath(file)) or file_sha256(file)

    def get(self, rel: str, sha: str | None) -> tuple[bool, Any]:
        """(True, kept value) when `rel` was checked with these contents under this key."""
        entry = self.before.get(rel)
        if sha is not None and entry is not None and entry[0] == sha:
            self.now[rel] = entry
            return True, entry[1]
        return False, None

    def keep(self, rel: str, sha: str | None, value: Any = None) -> None:
        if sha is not None:
            self.now[rel] = [sha, value]

    def save(self) -> None:
        if self.path is not None:
            write_if_changed(self.path, json.dumps({"key": self.key, "files": self.now}, sort_keys=True))

    def check(self, files: list[tuple[Path, str]], read: Callable[[tuple[Path, str]], R], jobs: int,
              keep: Callable[[R], bool] = lambda value: True, initializer: Callable[..., None] | None = None,
              initargs: tuple = ()) -> list[R]:
        """`read` of each (file, relative name), in order: the remembered value of a file unchanged since,
        else read (`pooled`) and remembered when `keep(value)`; then the record is saved."""
        shas = [self.digest(path) for path, _ in files]
        values, todo = [], []
        for i, ((_, rel), sha) in enumerate(zip(files, shas)):
            hit, value = self.get(rel, sha)
            values.append(value)
            if not hit:
                todo.append(i)
        for i, value in zip(todo, pooled(read, [files[i] for i in todo], jobs, initializer, initargs)):
            values[i] = value
            if keep(value):
                self.keep(files[i][1], shas[i], value)
        self.save()
        return values


# fewer files are read in this process: starting two spawned workers costs about a second, what reading 450
# files costs (privacy scan of a 50-LEA site: 504 files 1.1-1.2 s here, 1.4-1.7 s pooled; 1,008 files even)
POOL_MIN = 1000


def pooled(fn: Callable[[T], R], items: list[T], jobs: int, initializer: Callable[..., None] | None = None,
           initargs: tuple = ()) -> list[R]:
    """`fn` of each item, in order: in `jobs` worker processes when there are many items. Workers are
    spawned (not forked from a process holding DuckDB's threads) and set up by `initializer(*initargs)`."""
    if jobs <= 1 or len(items) < POOL_MIN:
        if initializer is not None:
            initializer(*initargs)
        return [fn(item) for item in items]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        # small chunks: the last one runs alone (statewide privacy scan: 18.2-18.7 s with 16 chunks, 17.3-17.4 s
        # with 64; docs/benchmarks.md, run W)
        return list(pool.map(fn, items, chunksize=max(1, len(items) // (jobs * 32))))
