"""The executed notebooks the site offers for download: no path of the build machine in their metadata."""

from __future__ import annotations

import json
from pathlib import Path


def scrub_notebook(path: Path, root: Path) -> bool:
    """Make paths in a notebook's metadata (papermill records input and output paths) relative to `root`;
    True if the file changed."""
    text = path.read_text(encoding="utf-8")
    if '"/' not in text:  # no string starts with "/": nothing to fix (and no need to parse the file)
        return False
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
    new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
