"""Copy the built site and PDFs to a folder or a .zip archive, after the release check, the verification of
every file against release.json and the PDF index (helpers.publish.verify) and the privacy scan."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from helpers.core import atomic
from helpers.core.errors import Refusal
from helpers.core.paths import Paths
from helpers.publish import privacy, verify
from helpers.site import release

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same build gives the same archive


class Refused(Exception):
    """Publishing was refused (preliminary build, files not of this build, privacy findings, nothing built,
    an output that is not the tool's)."""


def files(p: Paths, record: dict) -> list[tuple[Path, str]]:
    """(file, name in the output): the site at the top (release.json's files and itself), the PDFs under pdf/."""
    out = [(p.html / rel, rel) for rel in sorted([*record["files"], release.RECORD])]
    return out + [(p.pdf / rel, f"pdf/{rel}") for rel in sorted(verify.expected_pdfs(record).values())]


def refuse_lea_pdfs(p: Paths) -> None:
    """Refused when an LEA-mode PDF folder (its copy of the book's release record) is among the PDFs."""
    for record in sorted(p.pdf.rglob(release.RECORD)) if p.pdf.exists() else []:
        if release.read_record(record.parent).get("mode", "public") != "public":
            raise Refused(f"{record.parent} holds a confidential LEA-mode PDF (caaspp-book lea): internal use "
                          "only, never published")


def check(p: Paths, allow_preliminary: bool = False, site: Path | None = None) -> dict:
    """The site's release record, if the site and its PDFs may be published; Refused (naming the first
    problems) otherwise. `site`: the built site to check (default the project's `_build/html`, the only
    one that is ever copied)."""
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
    found = verify.problems(p, record)
    if found:
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        raise Refused(f"{len(found)} file(s) are not the checked build: " + "; ".join(found[:5]) + more)
    findings = privacy.scan_build(p, [p.html, p.pdf])
    if findings:
        raise Refused(f"privacy scan found {len(findings)} problem(s), e.g. {findings[0]}")
    return record


def publish(p: Paths, out: Path, allow_preliminary: bool = False, site: Path | None = None) -> Path:
    """Check (`check`), then write `out` (a folder, replaced whole, or a .zip); returns `out`. An `out` this
    tool did not write (a folder or file of other files) is refused, never replaced."""
    record = check(p, allow_preliminary, site)
    out = out.resolve()
    if out.is_relative_to(p.html.resolve()) or out.is_relative_to(p.pdf.resolve()):
        raise Refused(f"{out} is inside the built site or its PDFs")
    if out.suffix == ".zip":
        _zip(files(p, record), out)
        return out
    try:
        with atomic.replacing(out, "publish", lambda names: release.RECORD in names) as tmp:
            for path, name in files(p, record):
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, tmp / name)
    except Refusal as exc:
        raise Refused(str(exc)) from None
    return out


def _zip(members: list[tuple[Path, str]], out: Path) -> None:
    """The archive, with fixed member times (same build, same bytes); an existing file is replaced only
    when it is one of this tool's archives."""
    if out.exists() and not _our_zip(out):
        raise Refused(f"{out} exists and is not a site archive caaspp-book wrote: not replaced")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, name in members:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    tmp.replace(out)


def _our_zip(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return release.RECORD in zf.namelist()
