"""An LEA's slice as files: the runner's planner computes each slice once (it hashes it anyway) and writes it
to data/interim/lea_slices/<county>/<cds>-<year>/, one Arrow IPC file per frame; the LEA notebook loads that
folder instead of querying the tables, and checks its hash. Arrow keeps pandas' dtypes (its metadata), so the
loaded slice equals `store.lea_slice`'s, frame for frame (tests/test_lea_data.py).

The planner also seals the folder: SEAL holds the slice's hash (`store.slice_sha256`, the runner's
`data_sha256`) and the SHA-256 of each file's bytes as written. A reader expecting that hash, whose files have
those bytes, has that slice (reading the same bytes gives the same frames) and is spared hashing the frames as
CSV text (about 6 ms an LEA); without a seal, or with any difference, it hashes the frames as before."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather

from helpers.core import atomic
from helpers.ingest import store as stores

FRAMES = ("rows", "trend", "impact", "groups", "matched")  # the LeaSlice frames, one file each
FILES = tuple(f"{name}.arrow" for name in FRAMES)
SEAL = "sha256.json"
KIND = "lea slice"  # its folder's kind (atomic.mark)


def folder(root: Path, cds: str, year: int) -> Path:
    """Where the planner writes LEA `cds`'s slice of `year` under `root`."""
    return Path(root) / cds[:2] / f"{cds}-{year}"


def complete(path: Path) -> bool:
    return all((path / name).is_file() for name in FILES)


def write(piece: stores.LeaSlice, path: Path, sha256: str = "") -> None:
    """The slice's frames into folder `path`, replaced whole (a reader never sees a mix of two slices); a
    folder there with files the tool did not write is refused (helpers.core.atomic). `sha256`: the slice's
    `store.slice_sha256`, sealed in with the files' own hashes (module docstring)."""
    with atomic.replacing(path, KIND, atomic.names_in(FILES + (SEAL,))) as tmp:
        for name in FRAMES:
            table = pa.Table.from_pandas(getattr(piece, name), preserve_index=False)
            feather.write_feather(table, tmp / f"{name}.arrow", compression="lz4")
        if sha256:
            files = {file: _digest((tmp / file).read_bytes()) for file in FILES}
            (tmp / SEAL).write_text(json.dumps({"sha256": sha256, "files": files}, indent=1) + "\n",
                                    encoding="utf-8")


def read(path: Path | str, cds: str, year: int, expect_sha256: str = "") -> stores.LeaSlice:
    """The slice in folder `path`, which must be LEA `cds`'s of `year`; with `expect_sha256`, data whose hash
    differs is an error (as in `store.lea_slice`)."""
    path = Path(path)
    if not complete(path):
        raise FileNotFoundError(f"{path}: no slice of LEA {cds} for {year} there: run `caaspp-book run` first")
    blobs = {file: (path / file).read_bytes() for file in FILES}
    frames = {name: feather.read_table(pa.BufferReader(blobs[file])).to_pandas() for name, file in zip(FRAMES, FILES)}
    piece = stores.slice_of(str(cds), year, frames, f" in {path}")
    if not (expect_sha256 and sealed(path, blobs, expect_sha256)):
        stores.check_sha256(piece, expect_sha256, str(path))
    return piece


def sealed(path: Path, blobs: dict[str, bytes], sha256: str) -> bool:
    """Whether the folder's seal gives the slice hash `sha256` and these bytes for each of its files."""
    try:
        seal = json.loads((path / SEAL).read_text(encoding="utf-8"))
        return seal["sha256"] == sha256 and all(seal["files"][f] == _digest(b) for f, b in blobs.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load(tables: Path | str, lea_data: Path | str, cds: str, year: int, expect_sha256: str = "") -> stores.LeaSlice:
    """The notebook's slice: the planner's files in `lea_data` when given, else queried from `tables`."""
    if lea_data:
        return read(lea_data, cds, year, expect_sha256)
    return stores.lea_slice(tables, cds, year, expect_sha256=expect_sha256)
