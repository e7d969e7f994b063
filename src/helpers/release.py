"""Release status of a build (final or preliminary): the banner, the generated config, the record."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from . import stable_write

STATUSES = ("final", "preliminary")
BANNER = "PRELIMINARY RESULTS — subject to change; not for publication or citation."
BANNER_HTML = f'<strong>{BANNER.split(" — ")[0]}</strong> — {BANNER.split(" — ")[1]}'
RECORD = "release.json"


def check(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"release must be one of {', '.join(STATUSES)}, not {status!r}")
    return status


def config(root: Path, status: str, out: Path) -> Path:
    """The book's `_config.yml` with the release banner (preliminary builds) on every HTML page."""
    doc = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    if check(status) == "preliminary":
        doc.setdefault("html", {})["announcement"] = BANNER_HTML
    stable_write.write_if_changed(out, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return out


def page_md(status: str) -> str:
    """The release note at the top of the report's first chapter."""
    if check(status) == "preliminary":
        return (f"```{{warning}}\n**Preliminary build.** {BANNER.split(' — ')[1].capitalize()} Every page of "
                "this site and of its PDFs says so.\n```\n")
    return "Release status: **final**.\n"


def write_record(html: Path, status: str, sources: list[dict], leas: int) -> Path:
    """`release.json` beside the site's index: the status, the data files (name, SHA-256) and LEA count."""
    record = {"release": check(status), "banner": BANNER if status == "preliminary" else "",
              "sources": sorted(sources, key=lambda s: s["file"]), "lea_pages": leas}
    path = html / RECORD
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_record(html: Path) -> dict:
    path = html / RECORD
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book build` first")
    return json.loads(path.read_text(encoding="utf-8"))
