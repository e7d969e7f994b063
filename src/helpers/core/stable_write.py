"""Write a file only when its bytes change, atomically: unchanged outputs keep their mtime, so Sphinx does
not re-read them and an incremental book build stays incremental."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Atomically replace `path` with `data` (str as UTF-8) unless it already holds these bytes. Returns
    whether it wrote."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path = Path(path)
    if path.exists() and path.read_bytes() == raw:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, path)
    return True
