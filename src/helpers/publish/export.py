"""Copy the built site and PDFs to a folder or a .zip archive, after the release and privacy checks."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from helpers.core import atomic
from helpers.core.paths import Paths
from helpers.publish import privacy
from helpers.site import release

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same build gives the same archive


class Refused(Exception):
    """Publishing was refused (preliminary build, privacy findings, nothing built)."""


def pdf_dir(p: Paths) -> Path:
    return p.pdf


def refuse_lea_pdfs(p: Paths) -> None:
    """Refused when an LEA-mode PDF folder (its copy of the book's release record) is among the PDFs."""
    for record in sorted(pdf_dir(p).rglob(release.RECORD)) if pdf_dir(p).exists() else []:
        if release.read_record(record.parent).get("mode", "public") != "public":
            raise Refused(f"{record.parent} holds a confidential LEA-mode PDF (caaspp-book lea): internal use "
                          "only, never published")


def files(p: Paths) -> list[tuple[Path, str]]:
    """(file, name in the output): the site at the top, the PDFs under pdf/."""
    out = [(f, f.relative_to(p.html).as_posix()) for f in sorted(p.html.rglob("*")) if f.is_file()]
    pdfs = pdf_dir(p)
    out += [(f, "pdf/" + f.relative_to(pdfs).as_posix()) for f in sorted(pdfs.rglob("*.pdf"))]
    return out


def publish(p: Paths, out: Path, allow_preliminary: bool = False, site: Path | None = None) -> Path:
    """Check, then write `out` (a folder, replaced whole, or a .zip); returns `out`. `site`: the built
    site to check (default the project's `_build/html`, the only one that is ever copied)."""
    if site is not None and not (site / release.RECORD).exists() and (site / "html" / release.RECORD).exists():
        site = site / "html"  # an LEA-mode build folder (_build/lea/CDS): its site
    try:
        record = release.read_record(site or p.html)
    except FileNotFoundError as exc:
        raise Refused(str(exc)) from None
    refuse_lea_pdfs(p)
    if record.get("mode", "public") != "public":
        raise Refused(f"{site or p.html} is a confidential LEA-mode build (caaspp-book lea, LEA "
                      f"{record.get('cds', '?')}): internal use only, never published. Publish the public "
                      "site built by `caaspp-book build`.")
    if site is not None and site.resolve() != p.html.resolve():
        raise Refused(f"{site} is not this project's public site ({p.html}): only that one is published")
    if record["release"] == "preliminary" and not allow_preliminary:
        raise Refused("this is a preliminary build (caaspp-book build --release preliminary): not published. "
                      "Rebuild with --release final, or pass --allow-preliminary to publish it with its banner.")
    findings = privacy.scan_build(p, [p.html, pdf_dir(p)])
    if findings:
        raise Refused(f"privacy scan found {len(findings)} problem(s), e.g. {findings[0]}")
    out = out.resolve()
    if out.is_relative_to(p.html.resolve()):
        raise Refused(f"{out} is inside the built site")
    if out.is_dir() and any(out.iterdir()) and not (out / release.RECORD).exists():
        raise Refused(f"{out} is a folder with other files in it (no {release.RECORD}): not replaced")
    if out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, name in files(p):
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        tmp.replace(out)
    else:
        with atomic.replacing(out) as tmp:
            for path, name in files(p):
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, tmp / name)
    return out
