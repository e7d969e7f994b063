"""A small built project for the publishing tests: the sample's store and tables, a site finished as
`build` finishes it, and its PDFs from `pdf.make` with Chromium replaced by a stand-in printer."""

from __future__ import annotations

from pathlib import Path

from helpers.core import manifest
from helpers.core.manifest import LeaRecord
from helpers.core.paths import Paths
from helpers.publish import pdf
from helpers.site import book

from .conftest import DNCUSD

COE = "08100820000000"
PAGE = """<html><body><article class="bd-article"><h1>{name}</h1><p>CAASPP {cds}</p></article></body></html>"""


def record(cds: str, name: str, status: str = "ok") -> LeaRecord:
    return LeaRecord(cds, 2022, name, "08", "Del Norte", 6, f"book/leas/08/{cds}-x.ipynb", "h", status, 1.0)


def fake_print(p: Paths):
    """`pdf._print_all` without Chromium: each PDF holds its job's key, source hash and release status."""
    async def print_all(batches, status, css, n, on_done):
        done = []
        for job in [j for batch in batches for j in batch]:
            job.out.parent.mkdir(parents=True, exist_ok=True)
            job.out.write_bytes(f"%PDF-stand-in {job.key} {job.sha256} {status}".encode())
            done.append(pdf.Printed(job.key, "", job.sha256, 1, 0.01, "printed",
                                    pdf_sha256=pdf.digests.file_sha256(job.out)))
        return done, [0.01, 0.01]
    return print_all


def site(p: Paths, status: str, records: list[LeaRecord]) -> None:
    """A built site as `build` finishes it (finish_site: CSVs beside the pages, stale files pruned,
    release.json last): index, one chapter page and each LEA's page."""
    (p.html / "book").mkdir(parents=True, exist_ok=True)
    (p.html / "index.html").write_text("<html><body>CAASPP</body></html>")
    (p.html / "book" / "intro.html").write_text(PAGE.format(name="About", cds=""))
    for r in records:
        (p.root / r.notebook).parent.mkdir(parents=True, exist_ok=True)
        (p.root / r.notebook).write_text("{}")
        csv = (p.root / r.notebook).with_suffix(".summary.csv")
        if not csv.exists():  # a test may have changed it
            csv.write_text("test,pct\nELA,27.86\n")
        page = p.html / Path(book.page_of(r)).with_suffix(".html")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(PAGE.format(name=r.name, cds=r.cds))
    manifest.write(records, p.manifest)
    docs = {"book/intro"} | {Path(book.page_of(r)).with_suffix("").as_posix() for r in records}
    book.finish_site(p, records, status, p.html, docs)


def make_project(tmp_path, sample_store, sample_tables, monkeypatch) -> Paths:
    """A project with the sample's store and tables, a two-LEA site and its PDFs (stand-in printer)."""
    p = Paths(tmp_path / "project")
    p.processed.mkdir(parents=True)
    p.store.symlink_to(sample_store, target_is_directory=True)
    p.tables.symlink_to(sample_tables, target_is_directory=True)
    p.static.mkdir(parents=True)
    p.print_css.write_text("@page { size: letter; }")
    monkeypatch.setattr(pdf, "_print_all", fake_print(p))
    monkeypatch.setattr(pdf, "report_job", lambda p_, records, status, css: pdf.PrintJob(
        "report", p_.html / "book" / "intro.html", p_.pdf / pdf.REPORT,
        f"report-{status}-{len([r for r in records if r.built])}", "report"))
    monkeypatch.setattr("helpers.publish.privacy.pdf_text", lambda path: "")
    site(p, "final", [record(DNCUSD, "Del Norte County Unified"), record(COE, "Del Norte COE")])
    pdf.make(p)
    return p
