"""Release status of a build (final or preliminary): the banner, the generated config, and the record
(release.json: the site's manifest, which `publish` verifies)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

from helpers.core import digests, stable_write
from helpers.core import text as literal

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


def config(root: Path, status: str, out: Path, made_with: dict | None = None, extra: str | None = None) -> Path:
    """The book's `_config.yml` with the release banner (preliminary builds), given the build's `provenance`
    the footer stating it on every HTML page, and `extra` (a folder, relative to `root`) copied into the
    site as it is (html_extra_path)."""
    doc = with_footer(announce(yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")), status),
                      made_with)
    if extra is not None:
        doc.setdefault("sphinx", {}).setdefault("config", {})["html_extra_path"] = [extra]
    return write_config(doc, out)


FOOTER_FIELDS = (("data_sha256", "Data SHA-256"), ("version", "caaspp-book"), ("commit", "commit"),
                 ("params_sha256", "params SHA-256"))


def footer(made_with: dict) -> str:
    """The footer HTML of every page: the data's SHA-256, the package version and commit, the params digest
    (the values of release.json's provenance, escaped)."""
    parts = [f'{label} <code class="caaspp-{key.replace("_", "-")}">{literal.html(made_with.get(key) or "unknown")}'
             "</code>" for key, label in FOOTER_FIELDS]
    return f'<p class="caaspp-provenance">Built from {" · ".join(parts)}.</p>'


def with_footer(doc: dict, made_with: dict | None) -> dict:
    """A Jupyter Book config (dict) whose theme footer (`html.extra_footer`) states `made_with`."""
    if made_with is not None:
        doc.setdefault("html", {})["extra_footer"] = footer(made_with)
    return doc


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


def git_commit(root: Path) -> str | None:
    """`git rev-parse HEAD` of the checkout, or None (no git, or not a repository)."""
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def version() -> str:
    try:
        return metadata.version("caaspp-book")
    except metadata.PackageNotFoundError:
        return "unknown"


def provenance(root: Path, params_dir: Path, sources: list[dict]) -> dict:
    """What a build was made with: the package version, git commit, params/ and the data files."""
    return {"version": version(), "commit": git_commit(root), "params_sha256": digests.tree_sha256(params_dir),
            "data_sha256": digests.records_sha256(sources)}


def write_record(html: Path, status: str, sources: list[dict], leas: int, mode: str = "public",
                 cds: str = "", extra: dict | None = None) -> Path:
    """`release.json` beside the site's index, written last: the status, the data files (name, SHA-256),
    the LEA count, `extra` (provenance, the LEA pages) and every other file of the site with its SHA-256;
    an LEA-mode book also records its mode and LEA (so `publish` refuses it)."""
    record = {"release": check(status), "banner": BANNER if status == "preliminary" else "",
              "sources": sorted(sources, key=lambda s: s["file"]), "lea_pages": leas}
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode != "public":
        record |= {"mode": mode, "cds": cds, "confidential": True, "notice": CONFIDENTIAL}
    record |= extra or {}
    record["files"] = digests.folder_files(html, frozenset({RECORD}))
    path = html / RECORD
    stable_write.write_if_changed(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def read_record(html: Path) -> dict:
    path = html / RECORD
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book build` first")
    return json.loads(path.read_text(encoding="utf-8"))


def site_shas(html: Path) -> dict[str, str]:
    """The SHA-256 of every file of the site, by real path, as the build that has just written `release.json`
    recorded them (the build's checks then hash nothing again)."""
    base = str(html.resolve())
    return {os.path.join(base, rel): sha for rel, sha in read_record(html)["files"].items()}


def digest(html: Path) -> str:
    """The SHA-256 of a site's release.json: the identity of that build (PDFs record what they were
    printed from)."""
    return hashlib.sha256((html / RECORD).read_bytes()).hexdigest()
