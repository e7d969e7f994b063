"""What a notebook page offers for download, zipped: the executed notebook (no path of the build machine in its
metadata) and the CSVs of its tables. Zipped, the notebook is a third of its size (the charts' base64 PNGs and
the tables' HTML compress well) and the CSVs a quarter; at statewide scale these downloads were half of the
site's bytes (docs/benchmarks.md). Same files, same zip bytes."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

ZIPPED = ".zip"  # what a notebook's copy in `_sources/` is offered as: `X.ipynb` → `X.ipynb.zip`
TABLES = ".csv.zip"  # a notebook page's table CSVs `<stem>.<table>.csv`, offered together as `<stem>.csv.zip`
# A fixed time in every zip entry (the zip format's earliest): same notebook, same zip bytes.
EPOCH = (1980, 1, 1, 0, 0, 0)


def scrubbed(text: str, root: Path) -> str:
    """A notebook's text with the paths in its metadata (papermill records input and output paths) made
    relative to `root`, or only their file name when outside it."""
    if '"/' not in text:  # no string starts with "/": nothing to fix (and no need to parse the file)
        return text
    nb = json.loads(text)
    prefix = str(root.resolve()).rstrip("/") + "/"

    def fix(value):
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and value.startswith("/"):
            return value[len(prefix):] if value.startswith(prefix) else Path(value).name
        return value

    nb["metadata"] = fix(nb.get("metadata", {}))
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _zip(files: list[tuple[str, bytes]], comment: bytes = b"") -> bytes:
    """A zip of (name, bytes) in that order: deflated, EPOCH as every entry's time, read permission for all."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.comment = comment
        for name, data in files:
            entry = zipfile.ZipInfo(name, date_time=EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            z.writestr(entry, data, compresslevel=9)
    return out.getvalue()


def _write(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def offer_zipped(path: Path, root: Path) -> Path:
    """Replace the notebook copy at `path` by `path` + ZIPPED holding it scrubbed (one entry, the notebook's
    file name); returns the zip. The zip is complete before the notebook goes: an interrupted step leaves one
    or the other whole."""
    target = path.with_name(path.name + ZIPPED)
    _write(target, _zip([(path.name, scrubbed(path.read_text(encoding="utf-8"), root).encode("utf-8"))]))
    path.unlink()
    return target


def tables_zip(stem: str) -> str:
    """The file a notebook page's table CSVs are offered in."""
    return stem + TABLES


def offer_tables(csvs: list[Path], folder: Path, stem: str) -> Path:
    """`folder`/tables_zip(stem) holding `csvs` (entries: their file names, sorted), written only when they
    changed (an unchanged file is not checked again, helpers.publish.checked); returns it. The zip's comment is
    the SHA-256 of its entries (`_tables_digest`): comparing it costs a fraction of zipping the CSVs again,
    which a statewide build would do for every LEA page (9 s)."""
    target = folder / tables_zip(stem)
    files = [(f.name, f.read_bytes()) for f in sorted(csvs, key=lambda f: f.name)]
    digest = _tables_digest(files)
    if _comment(target) != digest:
        folder.mkdir(parents=True, exist_ok=True)
        _write(target, _zip(files, digest))
    return target


@functools.cache
def _code() -> bytes:
    """This module's bytes, part of every digest: new zipping code writes every zip again, with no constant to
    remember to change."""
    return Path(__file__).read_bytes()


def _tables_digest(files: list[tuple[str, bytes]]) -> bytes:
    digest = hashlib.sha256(_code())
    for name, data in files:
        digest.update(b"%d:%s%d:" % (len(name.encode()), name.encode(), len(data)) + data)
    return b"sha256:" + digest.hexdigest().encode()


def _comment(path: Path) -> bytes | None:
    """A zip's comment (None when there is no zip, or none that can be read)."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.comment
    except (OSError, zipfile.BadZipFile):
        return None


def zipped_source(sourcename: str) -> str:
    """Where a page's notebook source is offered (its copy in `_sources/`, relative to that folder)."""
    return sourcename + ZIPPED
