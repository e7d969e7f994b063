"""Release status of a build (final or preliminary): the banner, the generated config, the record."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from helpers.core import stable_write

STATUSES = ("final", "preliminary")
BANNER = "PRELIMINARY RESULTS — subject to change; not for publication or citation."
BANNER_HTML = f'<strong>{BANNER.split(" — ")[0]}</strong> — {BANNER.split(" — ")[1]}'
RECORD = "release.json"
CONFIDENTIAL = ("CONFIDENTIAL — internal use only: computed from student-level records; not for publication "
                "or distribution outside the LEA.")
CONFIDENTIAL_HTML = f'<strong>{CONFIDENTIAL.split(" — ")[0]}</strong> — {CONFIDENTIAL.split(" — ")[1]}'
FINAL_HTML = "Release status: <strong>final</strong>."
MODES = ("public", "lea")  # the public site; an LEA's confidential internal book (caaspp-book lea)


def check(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"release must be one of {', '.join(STATUSES)}, not {status!r}")
    return status


def config(root: Path, status: str, out: Path) -> Path:
    """The book's `_config.yml` with the release banner (preliminary builds) on every HTML page."""
    doc = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return write_config(announce(doc, status), out)


def announcement(status: str, confidential: bool = False) -> str:
    """The banner HTML on every page: the preliminary banner; for a confidential (LEA-mode) book the
    confidential notice and the release status, whatever it is. Empty for a final public build."""
    state = BANNER_HTML if check(status) == "preliminary" else FINAL_HTML if confidential else ""
    return " · ".join(part for part in (CONFIDENTIAL_HTML if confidential else "", state) if part)


def announce(doc: dict, status: str, confidential: bool = False) -> dict:
    """A Jupyter Book config (dict) with the banner of `announcement` set as the theme's announcement."""
    text = announcement(status, confidential)
    if text:
        doc.setdefault("html", {})["announcement"] = text
    return doc


def write_config(doc: dict, out: Path) -> Path:
    stable_write.write_if_changed(out, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return out


def page_md(status: str) -> str:
    """The release note at the top of the report's first chapter."""
    if check(status) == "preliminary":
        return (f"```{{warning}}\n**Preliminary build.** {BANNER.split(' — ')[1].capitalize()} Every page of "
                "this site and of its PDFs says so.\n```\n")
    return "Release status: **final**.\n"


def write_record(html: Path, status: str, sources: list[dict], leas: int, mode: str = "public",
                 cds: str = "") -> Path:
    """`release.json` beside the site's index: the status, the data files (name, SHA-256) and LEA count;
    an LEA-mode book also records its mode and LEA (so `publish` refuses it)."""
    record = {"release": check(status), "banner": BANNER if status == "preliminary" else "",
              "sources": sorted(sources, key=lambda s: s["file"]), "lea_pages": leas}
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "public":
        record |= {"mode": mode, "cds": cds, "confidential": True, "notice": CONFIDENTIAL}
    path = html / RECORD
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_record(html: Path) -> dict:
    path = html / RECORD
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book build` first")
    return json.loads(path.read_text(encoding="utf-8"))
