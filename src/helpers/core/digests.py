"""SHA-256 of files and folders: what a build records and `publish` verifies."""

from __future__ import annotations

import hashlib
from pathlib import Path

from helpers.core.atomic import entries

BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def folder_files(folder: Path, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every file under `folder` (relative POSIX path → SHA-256), but the paths in `skip`."""
    return {rel: file_sha256(folder / rel) for rel in entries(folder) if rel not in skip}


def tree_sha256(folder: Path) -> str:
    """One digest of a folder's files: their paths and contents."""
    digest = hashlib.sha256()
    for rel, sha in folder_files(folder).items() if folder.is_dir() else ():
        digest.update(f"{rel}\0{sha}\n".encode())
    return digest.hexdigest()


def records_sha256(rows: list[dict]) -> str:
    """One digest of (file, sha256) records, in file order: the data a build was made from."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r["file"]):
        digest.update(f"{row['file']}\0{row['sha256']}\n".encode())
    return digest.hexdigest()
