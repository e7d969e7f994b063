"""PDFs of the built site with one headless Chromium (Playwright): one per LEA page, in parallel and
incrementally (a page whose content hash is unchanged is not printed again), and the whole report."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from bs4 import BeautifulSoup

from helpers.core import digests, manifest, stable_write
from helpers.core.errors import Refusal
from helpers.core.paths import LeaPaths, Paths
from helpers.ingest import store as stores
from helpers.publish import pdf_report
from helpers.site import book, release

FORMAT = "7"  # bump when the print set-up changes: every PDF is printed again
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--font-render-hinting=none"]
PAGES_PER_TAB = 4  # pages a tab prints before it is replaced (`_print_all`)
# Script files are not loaded when printing: the theme's scripts set up its menus, search and icons, none of
# which is printed (the print style hides them); they were about a tenth of a page's time (docs/benchmarks.md,
# run G), and the PDFs look the same without them (compared pixel by pixel). Inline scripts still run.
SCRIPT_FILE = re.compile(r"\.js(\?[^/]*)?$")
MARGIN = {"top": "16mm", "bottom": "14mm", "left": "10mm", "right": "10mm"}
FIXED_DATE = b"D:20000101000000+00'00'"
REPORT = "caaspp-technical-report.pdf"
# Before printing: open collapsed data tables, drop links that would carry this machine's file paths, mark
# table cells for caaspp-print.css (a short cell, such as a number, year, range or CDS code, never wraps; a
# token over 60 characters, such as a SHA-256 or a path in an error, may wrap anywhere; other text wraps
# between words), then wait for web fonts and two frames
PREPARE = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('a[href]').forEach(a => {
    const href = a.getAttribute('href');
    if (!/^(https?:|mailto:|#)/.test(href)) a.removeAttribute('href');
  });
  document.querySelectorAll('td, th').forEach(cell => {
    const text = cell.textContent.trim();
    if (text.split(/\\s+/).some(word => word.length > 60)) cell.classList.add('caaspp-long');
    else if (text.length <= 10 || !/\\s/.test(text)) cell.classList.add('caaspp-nowrap');
    else cell.classList.add('caaspp-wrap');
  });
  await document.fonts.ready;
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
}"""


# The print style sheet, last in the page's head once the document is parsed, before the images and style
# sheets have loaded: the page is not laid out first without it
WITH_CSS = """document.addEventListener('DOMContentLoaded', () => {
  const style = document.createElement('style');
  style.textContent = %s;
  document.head.append(style);
});"""


def chromium() -> str:
    """The Chromium binary: $CAASPP_CHROMIUM, else Debian's chromium on PATH."""
    for candidate in (os.environ.get("CAASPP_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    raise FileNotFoundError("Chromium not found: run `make sysdeps` (scripts/install-system-deps.sh) "
                            "or set CAASPP_CHROMIUM")


def page_texts(path: Path) -> list[str]:
    """The text of each page of a PDF (poppler's pdftotext, installed with Chromium by `make sysdeps`)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@dataclass
class PrintJob:
    key: str  # CDS code, or "report"
    source: Path  # the HTML file to print
    out: Path
    sha256: str
    title: str
    paged_contents: bool = False  # the report: its contents list gets each chapter's page (`print_pdf`)


@dataclass
class Printed:
    key: str
    pdf: str  # relative to the PDF folder
    sha256: str
    pages: int
    seconds: float
    status: str  # printed | skipped | failed
    error: str = ""
    pdf_sha256: str = ""  # the PDF file's own hash (publish checks it)


def out_dir(p: Paths) -> Path:
    return p.pdf


def print_css(p: Paths) -> str:
    return p.print_css.read_text(encoding="utf-8")


def content_hash(page_html: str, status: str, css: str) -> str:
    """What a PDF depends on: the page's article (not the site navigation), the release and print set-up."""
    body = pdf_report.article_html(page_html) or page_html
    digest = hashlib.sha256()
    for part in (FORMAT, status, css, body):
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()


def header_text(status: str, confidential: bool = False) -> str:
    """The line at the top of every page: the preliminary banner; for a confidential (LEA-mode) book the
    confidential notice and the release status, whatever it is."""
    state = release.BANNER if status == "preliminary" else "Release status: final." if confidential else ""
    return " · ".join(t for t in ((release.CONFIDENTIAL if confidential else ""), state) if t)


def templates(status: str, confidential: bool = False) -> tuple[str, str]:
    """Header (`header_text`, on every page) and footer (document title, page x of y)."""
    style = "font-family: 'DejaVu Sans', sans-serif; width: 100%; text-align: center;"
    text = header_text(status, confidential)
    header = (f'<div style="{style} font-size: 8px; color: #b00020; font-weight: bold;">'
              f"{html.escape(text)}</div>" if text else "<span></span>")
    footer = (f'<div style="{style} font-size: 7px; color: #444;"><span class="title"></span> · page '
              '<span class="pageNumber"></span> of <span class="totalPages"></span></div>')
    return header, footer


def _fixed_date(m: re.Match) -> bytes:
    whole = m.group(0)  # b"/CreationDate (D:20261123130839+00'00')"
    start = whole.index(b"(") + 1
    width = len(whole) - start - 1
    return whole[:start] + FIXED_DATE[:width].ljust(width, b"0") + b")"


NODE_ID = re.compile(rb"node([0-9]{8})(?![0-9])")
ID_LEAF = re.compile(rb"/Limits \[\(node[0-9]{8}\) \(node[0-9]{8}\)\]\s*/Names \[([^\]]*)\]")
ID_PAIR = re.compile(rb"\((node[0-9]{8})\) ([0-9]+ [0-9]+ R)")


def _renumber_ids(data: bytes) -> bytes:
    """Tagged-PDF element IDs are renderer DOM node numbers, handed out lazily in an order that depends on
    timing. Renumber them 1, 2, … in the order the structure elements use them and re-sort the ID tree's
    one leaf (a name tree must stay sorted). An ID tree of another shape is renumbered in its own sorted
    order instead, which keeps it sorted. Every length is kept."""
    leaves = list(ID_LEAF.finditer(data))
    flat = len(leaves) == 1 == data.count(b"/Limits [(node") and _pairs_text(leaves[0].group(1)) == leaves[0].group(1)
    olds = sorted(set(NODE_ID.findall(data)))
    if flat:
        outside = data[:leaves[0].start()] + data[leaves[0].end():]
        olds = list(dict.fromkeys(NODE_ID.findall(outside) + olds))
    order = {old: str(k).zfill(8).encode() for k, old in enumerate(olds, start=1)}
    renamed = NODE_ID.sub(lambda m: b"node" + order[m.group(1)], data)
    return ID_LEAF.sub(_sorted_leaf, renamed) if flat else renamed


def _pairs_text(names: bytes, pairs: list[tuple[bytes, bytes]] | None = None) -> bytes:
    return b" ".join(b"(%s) %s" % p for p in (ID_PAIR.findall(names) if pairs is None else pairs))


def _sorted_leaf(m: re.Match) -> bytes:
    pairs = sorted(ID_PAIR.findall(m.group(1)))
    return b"/Limits [(%s) (%s)]%s/Names [%s]" % (pairs[0][0], pairs[-1][0], _between(m), _pairs_text(b"", pairs))


def _between(m: re.Match) -> bytes:
    """The whitespace between a leaf's /Limits and /Names, as Chromium wrote it."""
    whole = m.group(0)
    return whole[whole.index(b"]") + 1:whole.index(b"/Names")]


def normalise(path: Path) -> None:
    """Make the same page give the same file: Chromium's creation and modification dates become a fixed
    date and the tagged-PDF element IDs are renumbered (`_renumber_ids`). Replacements keep every
    length, so byte offsets (the xref table) stay valid."""
    data = path.read_bytes()
    fixed = re.sub(rb"/(?:CreationDate|ModDate) \(D:[0-9]{14}[^)]{0,7}\)", _fixed_date, data)
    fixed = _renumber_ids(fixed)
    if fixed != data:
        path.write_bytes(fixed)


def page_count(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


# The contents list's page slots (pdf_report.PAGE_SLOT), in order, get their numbers
FILL_PAGES = """numbers => document.querySelectorAll('.toc-page').forEach((slot, i) => {
  slot.textContent = numbers[i];
})"""


async def print_pdf(page, job: PrintJob, path: Path, header: str, footer: str) -> None:
    """Print a loaded, prepared page to `path`. A job with `paged_contents` is printed twice: the first print
    gives the page each chapter starts on (pdftotext), the second has those numbers in the contents list,
    whose slots keep their size either way, so no page moves (checked). Two prints rather than one because
    only a print tells where the later chapters start (an LEA summary starts a page but may run onto a
    second). Cost: the report's print time doubles, no more (2,300 LEA summaries, 2,357 pages: 90 s once,
    178 s twice, with two pdftotext reads of 6 s), a few per cent of the LEA PDFs' time at that scale."""
    options = dict(format="Letter", landscape=True, print_background=True, display_header_footer=True,
                   header_template=header, footer_template=footer, margin=MARGIN, outline=True, tagged=True)
    await page.pdf(path=str(path), **options)
    if not job.paged_contents:
        return
    wanted = pdf_report.headings(job.source.read_text(encoding="utf-8"))
    first = pdf_report.start_pages(wanted, await asyncio.to_thread(page_texts, path))
    await page.evaluate(FILL_PAGES, [str(n) for n in first])
    await page.pdf(path=str(path), **options)
    second = pdf_report.start_pages(wanted, await asyncio.to_thread(page_texts, path))
    if second != first:
        raise RuntimeError(f"chapters moved when the contents got their page numbers: {first} → {second}")


async def _print_all(batches: list[list[PrintJob]], status: str, css: str, n: int,
                     on_done: Callable[[Printed], None] | None,
                     confidential: bool = False) -> tuple[list[Printed], list[float]]:
    """Print the batches one after the other in one browser, `n` pages at a time within a batch; return
    the results and each batch's wall-clock seconds. Each of the `n` tabs prints up to PAGES_PER_TAB pages
    one after another: opening a page in a tab that is already open costs half of opening a new tab, and
    the PDFs are the same bytes. A tab keeps memory from each page it printed (+0.4 GiB over 25 LEA pages,
    which neither Chromium's memory-pressure signal nor a new page gives back), so a tab is replaced after
    PAGES_PER_TAB pages (4: the step's peak as with a new tab per page, docs/benchmarks.md), and after a page
    that failed; each batch starts with new tabs."""
    from playwright.async_api import async_playwright

    header, footer = templates(status, confidential)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tabs: asyncio.Queue = asyncio.Queue()  # (tab or None for a new one, pages it printed)

        async def new_tab():
            tab = await browser.new_page()
            await tab.route(SCRIPT_FILE, lambda route: route.abort())
            await tab.emulate_media(media="print")  # laid out for print from the start, icons and menus never
            await tab.add_init_script(script=WITH_CSS % json.dumps(css))
            return tab

        async def one(job: PrintJob) -> Printed:
            page, printed = await tabs.get()
            page = page or await new_tab()
            start = time.perf_counter()
            try:
                await page.goto(job.source.resolve().as_uri(), wait_until="load")
                await page.evaluate(PREPARE)
                tmp = job.out.with_name(f".{job.out.name}.tmp")
                job.out.parent.mkdir(parents=True, exist_ok=True)
                await print_pdf(page, job, tmp, header, footer)
                normalise(tmp)
                tmp.replace(job.out)
                done = Printed(job.key, "", job.sha256, page_count(job.out), round(time.perf_counter() - start, 2),
                               "printed", pdf_sha256=digests.file_sha256(job.out))
            except Exception as exc:  # one failing page is recorded; the others go on, in a new tab
                done = Printed(job.key, "", job.sha256, 0, round(time.perf_counter() - start, 2), "failed",
                               f"{type(exc).__name__}: {exc}"[:500])
                printed = PAGES_PER_TAB
            printed += 1
            if printed >= PAGES_PER_TAB:
                await page.close()
                page, printed = None, 0
            tabs.put_nowait((page, printed))
            on_done and on_done(done)
            return done

        results, walls = [], []
        try:
            for batch in batches:
                start = time.perf_counter()
                for _ in range(max(1, n)):
                    tabs.put_nowait((None, 0))
                results += await asyncio.gather(*(one(j) for j in batch))
                while not tabs.empty():
                    page, _printed = tabs.get_nowait()
                    page and await page.close()
                walls.append(round(time.perf_counter() - start, 2))
        finally:
            await browser.close()
        return results, walls


def read_index(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def lea_pdf(page: str) -> str:
    """An LEA page's PDF, relative to the PDF folder: book/leas/08/x.html → leas/08/x.pdf."""
    return "leas/" + Path(page).relative_to("book/leas").with_suffix(".pdf").as_posix()


def lea_jobs(p: Paths, records: list[manifest.LeaRecord], status: str, css: str) -> list[PrintJob]:
    jobs = []
    for r in records:
        if not r.built:
            continue
        page = p.html / Path(r.notebook).with_suffix(".html")
        if not page.exists():
            raise FileNotFoundError(f"{page} not found: run `caaspp-book build` first")
        out = out_dir(p) / lea_pdf(Path(r.notebook).with_suffix(".html").as_posix())
        jobs.append(PrintJob(r.cds, page, out, content_hash(page.read_text(encoding="utf-8"), status, css),
                             f"{r.name} ({r.cds})"))
    return jobs


def report_job(p: Paths, records: list[manifest.LeaRecord], status: str, css: str) -> PrintJob:
    title = "CAASPP results — technical report"
    line = ("Release status: PRELIMINARY — " + release.BANNER.split(" — ")[1]) if status == "preliminary" \
        else "Release status: final."
    policy = stores.suppression_policy(p.tables) if (p.tables / "levels.parquet").exists() else "complementary"
    doc = pdf_report.document(p.html, book.CHAPTERS, records, p.root, title, line, css, policy)
    work = p.pdf_work / "report.html"
    work.parent.mkdir(parents=True, exist_ok=True)
    work.write_text(doc, encoding="utf-8")
    digest = hashlib.sha256(f"{FORMAT}\0{status}\0{doc}".encode("utf-8")).hexdigest()
    return PrintJob("report", work, out_dir(p) / REPORT, digest, title, paged_contents=True)


def site_records(p: Paths) -> tuple[dict, list[manifest.LeaRecord]]:
    """The built site's release record and the manifest's records, which must be the ones it was built
    from (Refusal otherwise: the PDFs would not match the site)."""
    record = release.read_record(p.html)
    records = manifest.read(p.manifest)
    built = {r.cds: Path(r.notebook).with_suffix(".html").as_posix() for r in records if r.built}
    if "leas" in record and built != record["leas"]:
        raise Refusal(f"the LEA pages of {p.manifest} differ from the site's ({p.html / release.RECORD}): run "
                      "`caaspp-book build` first")
    return record, records


def _current(old: dict | None, job: PrintJob) -> bool:
    """The PDF of `old` (an index entry) is this job's, unchanged since it was printed."""
    return bool(old and old["sha256"] == job.sha256 and old.get("status") != "failed" and job.out.exists()
                and old.get("pdf_sha256") == digests.file_sha256(job.out))


def make(p: Paths, jobs_n: int = 2, force: bool = False, only: list[str] | None = None,
         on_done: Callable[[Printed], None] | None = None) -> list[Printed]:
    """Print what changed (everything with `force`): the LEA pages (or `only` these CDS codes) and the
    whole report; record hashes in _build/pdf/index.json, with the digest of the site's release.json when
    every PDF is this site's; remove PDFs this tool printed for LEAs no longer in the book."""
    record, records = site_records(p)
    status, site = record["release"], {"release_sha256": release.digest(p.html), "release": record["release"]}
    css = print_css(p)
    index = read_index(p.pdf_index)
    previous = index.get("pdfs", {}) if index.get("format") == FORMAT else {}
    jobs = lea_jobs(p, [r for r in records if not only or r.cds in only], status, css)
    if not only:
        jobs.append(report_job(p, records, status, css))
    todo, results, walls = [], [], []
    for job in jobs:
        rel = job.out.relative_to(out_dir(p)).as_posix()
        old = previous.get(job.key)
        if not force and _current(old, job):
            results.append(Printed(job.key, rel, job.sha256, old["pages"], old["seconds"], "skipped",
                                   pdf_sha256=old["pdf_sha256"]))
            on_done and on_done(results[-1])
        else:
            todo.append(job)
    if todo:
        batches = [[j for j in todo if j.key != "report"], [j for j in todo if j.key == "report"]]
        printed, walls = asyncio.run(_print_all(batches, status, css, jobs_n, on_done))
        for job, done in zip(batches[0] + batches[1], printed):
            done.pdf = job.out.relative_to(out_dir(p)).as_posix()
        results += printed
    n_lea = sum(1 for r in results if r.status == "printed" and r.key != "report")
    keep = {r.key: asdict(r) for r in results}
    if only:  # a partial run keeps the other LEAs' entries, printed from the site of the index's digest
        current = {r.cds for r in records if r.built} | {"report"}
        keep = {**{k: v for k, v in previous.items() if k not in keep and k in current}, **keep}
        site = site if index.get("site") == site else index.get("site", {})
    remove_stale(p, index, {v["pdf"] for v in keep.values()})
    timing = {"lea_pdfs_printed": n_lea, "lea_wall_seconds": walls[0] if walls else 0.0,
              "seconds_per_lea_pdf": round(walls[0] / n_lea, 2) if n_lea else None, "jobs": jobs_n}
    stable_write.write_if_changed(p.pdf_index, json.dumps(
        {"format": FORMAT, "release": status, "site": site, "timing": timing, "pdfs": dict(sorted(keep.items()))},
        indent=1, ensure_ascii=False) + "\n")
    return results


def remove_stale(p: Paths, index: dict, wanted: set[str]) -> list[str]:
    """Remove the PDFs the previous index records (this tool printed them) that are not `wanted`."""
    made = {v.get("pdf") for v in index.get("pdfs", {}).values() if v.get("pdf")}
    stale = sorted(made - wanted)
    for rel in stale:
        (out_dir(p) / rel).unlink(missing_ok=True)
    return stale


# ---------------------------------------------------------------- the LEA-mode book (caaspp-book lea)


def lea_pages(site: Path) -> list[Path]:
    """The pages of an LEA-mode site in reading order: intro, report, custom aggregates, the schools'
    index, then each school page in the index's order."""
    from helpers.report import lea_sections

    front = [site / f"{n}.html" for n in ("intro", "report", lea_sections.CUSTOM, lea_sections.SCHOOLS)]
    index = BeautifulSoup(pdf_report.article_html(front[-1].read_text(encoding="utf-8")) or "", "html.parser")
    links = [a["href"].split("#")[0] for a in index.find_all("a", href=True)
             if a["href"].startswith(f"{lea_sections.SCHOOLS}/")]
    return [f for f in front if f.exists()] + [site / h for h in dict.fromkeys(links)]


def lea_document(site: Path, title: str, css: str) -> str:
    """The LEA-mode book as one printable HTML document (every page's article, each starting a page)."""
    pages = lea_pages(site)
    links = "".join(f'<link rel="stylesheet" href="{html.escape(h)}">' for h in pdf_report.stylesheets(pages[0]))
    parts = []
    for page in pages:
        body = pdf_report.article(page)
        if page.parent != site:  # a school page: its relative links and images from one folder up
            body = body.replace('src="../', 'src="')
        parts.append(f'<div class="report-chapter">{body}</div>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><base href="{site.resolve().as_uri()}/">'
            f"<title>{html.escape(title)}</title>{links}<style>{css}</style></head><body class=\"caaspp-report\">"
            f'<main class="bd-article">{"".join(parts)}</main></body></html>')


def make_lea(p: Paths, lp: LeaPaths, force: bool = False) -> Printed:
    """The PDF of an LEA-mode book (`lp.html`) into `lp.pdf` (never the public _build/pdf), with the
    confidential notice and the release status on every page; skipped when its document is unchanged.
    The site's release record is copied beside it, so `publish` refuses the folder as it does the site."""
    record = release.read_record(lp.html)
    if record.get("mode") != "lea":
        raise ValueError(f"{lp.html} is not an LEA-mode build (caaspp-book lea)")
    status, css = record["release"], print_css(p)
    title = f"{pdf_report._title(lp.html / 'intro.html')} ({lp.cds}, confidential)"
    doc = lea_document(lp.html, title, css)
    lp.pdf_work.parent.mkdir(parents=True, exist_ok=True)
    lp.pdf_work.write_text(doc, encoding="utf-8")
    digest = hashlib.sha256(f"{FORMAT}\0lea\0{status}\0{doc}".encode("utf-8")).hexdigest()
    index_path = lp.pdf / "index.json"
    old = read_index(index_path)
    if not force and old.get("sha256") == digest and lp.pdf_file.exists():
        return Printed(lp.cds, lp.pdf_file.name, digest, old["pages"], old["seconds"], "skipped")
    job = PrintJob(lp.cds, lp.pdf_work, lp.pdf_file, digest, title)
    done = asyncio.run(_print_all([[job]], status, css, 1, None, confidential=True))[0][0]
    done.pdf = lp.pdf_file.name
    if done.status == "printed":
        (lp.pdf / release.RECORD).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        index_path.write_text(json.dumps(asdict(done), indent=1) + "\n", encoding="utf-8")
    return done
