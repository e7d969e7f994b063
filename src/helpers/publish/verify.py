"""What `publish` checks before it copies anything: the site is exactly the build its release.json
describes (every file, with its SHA-256), and the PDFs are the ones `caaspp-book pdf` printed from that
build (same release.json digest, same release status), one per LEA page and the report, none missing,
extra or changed."""

from __future__ import annotations

from pathlib import Path

from helpers.core import atomic, digests
from helpers.core.paths import Paths
from helpers.publish import pdf
from helpers.site import release


def site_problems(html: Path, record: dict) -> list[str]:
    """Files missing from, extra in, or changed in the site since release.json was written."""
    files = record.get("files")
    if files is None or "leas" not in record:
        return [f"{html / release.RECORD} lists no files (an older version built it): run `caaspp-book build`"]
    present = set(atomic.entries(html)) - {release.RECORD}
    out = [f"{html / rel} is missing (release.json lists it)" for rel in sorted(set(files) - present)]
    out += [f"{html / rel} is not part of the build (not in release.json)" for rel in sorted(present - set(files))]
    out += [f"{html / rel} changed since the build (its SHA-256 is not the one in release.json)"
            for rel in sorted(present & set(files)) if digests.file_sha256(html / rel) != files[rel]]
    return out


def expected_pdfs(record: dict) -> dict[str, str]:
    """key (CDS code, or "report") → the PDF's path in the PDF folder, for the site of `record`."""
    return {cds: pdf.lea_pdf(page) for cds, page in record.get("leas", {}).items()} | {"report": pdf.REPORT}


def pdf_problems(p: Paths, record: dict) -> list[str]:
    """PDFs not printed from this build or this release status, or missing, extra or changed since."""
    index = pdf.read_index(p.pdf_index)
    if not index:
        return [f"{p.pdf_index} not found: run `caaspp-book pdf`"]
    site = index.get("site") or {}
    out = []
    if site.get("release") != record["release"]:
        out.append(f"the PDFs in {p.pdf} were printed from a {site.get('release', 'unrecorded')} build and the site "
                   f"is {record['release']}: run `caaspp-book pdf`")
    elif site.get("release_sha256") != release.digest(p.html):
        out.append(f"the PDFs in {p.pdf} were printed from another build of the site ({p.pdf_index} records "
                   f"release.json {str(site.get('release_sha256'))[:12]}…, the site's is "
                   f"{release.digest(p.html)[:12]}…): run `caaspp-book pdf`")
    wanted, printed = expected_pdfs(record), index.get("pdfs", {})
    for key, rel in sorted(wanted.items()):
        entry, path = printed.get(key) or {}, p.pdf / rel
        if entry.get("pdf") != rel or entry.get("status") == "failed" or not path.exists():
            out.append(f"{path} is missing (not printed for this site): run `caaspp-book pdf`")
        elif digests.file_sha256(path) != entry.get("pdf_sha256"):
            out.append(f"{path} changed since it was printed (its SHA-256 is not the one in {p.pdf_index})")
    present = {f.relative_to(p.pdf).as_posix() for f in p.pdf.rglob("*.pdf")} if p.pdf.is_dir() else set()
    out += [f"{p.pdf / rel} is not part of the build (no LEA page of the site)"
            for rel in sorted(present - set(wanted.values()))]
    return out


def problems(p: Paths, record: dict) -> list[str]:
    return site_problems(p.html, record) + pdf_problems(p, record)
