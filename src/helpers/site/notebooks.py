"""The executed notebooks the site offers for download: no path of the build machine in their metadata, and
each offered as a zip file (a third of its size: the charts' base64 PNGs and the tables' HTML compress well;
at statewide scale the notebooks were half of the site's bytes, docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

ZIPPED = ".zip"  # what a notebook's copy in `_sources/` is offered as: `X.ipynb` → `X.ipynb.zip`
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


def offer_zipped(path: Path, root: Path) -> Path:
    """Replace the notebook copy at `path` by `path` + ZIPPED holding it scrubbed (one entry, the notebook's
    file name, deflated, EPOCH as its time); returns the zip. The zip is complete before the notebook goes:
    an interrupted step leaves one or the other whole."""
    target = path.with_name(path.name + ZIPPED)
    entry = zipfile.ZipInfo(path.name, date_time=EPOCH)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr(entry, scrubbed(path.read_text(encoding="utf-8"), root).encode("utf-8"), compresslevel=9)
    os.replace(tmp, target)
    path.unlink()
    return target


def zipped_source(sourcename: str) -> str:
    """Where a page's notebook source is offered (its copy in `_sources/`, relative to that folder)."""
    return sourcename + ZIPPED
