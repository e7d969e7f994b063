"""The whole sample built as a preliminary release, printed to PDF, checked in a real browser, scanned."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from helpers.core.paths import Paths
from helpers.publish import links, pdf, privacy

from .conftest import DNCUSD, SAMPLE
from .site_build import (
    ARTIFACTS,
    browser,
    cli,
    page_images,
    pdf_pages,
    serve,
)

pytestmark = pytest.mark.slow
COE = "08100820000000"  # Del Norte County Office of Education
# ELA/math grades 4 and 5 of the COE: public in CDE's 2022 file, so shown by the default (published) policy;
# hidden under --suppression complementary (tests/test_suppression_policy.py)
COE_PUBLISHED_MEANS = ("2377.8", "2385.7", "2369.2", "2379.9")
CHAPTER_ORDER = ["book/intro", "book/assessments", "book/methods", "book/statewide", "book/impact",
                 "book/data_quality", "book/leas/index", "book/leas/08/index", "book/run_status"]


@pytest.fixture
def site(built_site: Paths) -> Paths:
    """The one built site of the test run (tests/conftest.py)."""
    return built_site


def html_pages(p: Paths) -> list[Path]:
    return [f for f in sorted(p.html.rglob("*.html")) if "_static" not in f.relative_to(p.html).parts]


def lea_page(p: Paths, cds: str) -> Path:
    [page] = (p.html / "book" / "leas" / "08").glob(f"{cds}-*.html")
    return page


def pdf_digests(p: Paths) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((pdf.out_dir(p) / "leas").rglob("*.pdf"))}


def first_difference(kept: dict[str, bytes], folder: Path) -> str:
    """Where each changed PDF first differs from its earlier bytes (for a readable failure)."""
    out = []
    for f in sorted(folder.rglob("*.pdf")):
        old, new = kept.get(f.name, b""), f.read_bytes()
        if old != new:
            at = next((i for i, (x, y) in enumerate(zip(old, new)) if x != y), min(len(old), len(new)))
            out.append(f"{f.name}: {len(old)} -> {len(new)} bytes, first difference at {at}: "
                       f"{old[max(0, at - 120):at + 80]!r} vs {new[max(0, at - 120):at + 80]!r}")
    return "\n".join(out)


def offered_notebook(p: Paths, page: Path) -> str:
    """The notebook an LEA page's download link offers: the one file inside the zip it links to."""
    links = re.findall(r'<a href="([^"]+)"[^>]*title="Download the executed notebook \(zip\)"',
                       page.read_text(encoding="utf-8"))
    assert links == [f"{'../' * 3}_sources/book/leas/08/{page.stem}.ipynb.zip"], links
    with zipfile.ZipFile(page.parent / links[0]) as z:
        assert z.namelist() == [f"{page.stem}.ipynb"]
        return z.read(z.namelist()[0]).decode("utf-8")


def lea_pdf(p: Paths, cds: str) -> Path:
    [found] = (pdf.out_dir(p) / "leas" / "08").glob(f"{cds}-*.pdf")
    return found


# ---------------------------------------------------------------- the site


def test_chapters_come_in_the_reports_order(site):
    toc = yaml.safe_load(site.build_toc.read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert files == CHAPTER_ORDER
    nav = (site.html / "book" / "intro.html").read_text(encoding="utf-8")
    titles = ["Assessments and performance levels", "Methods", "Statewide and county summary", "Cut-score impact",
              "Data quality", "Run status and change log"]
    positions = [nav.index(f">{t}</a>") for t in titles]
    assert positions == sorted(positions)
    for utility in ("search.html", "genindex.html"):  # written by every build: the fixed list, not the toctree's
        text = (site.html / utility).read_text(encoding="utf-8")
        assert 'href="book/leas/index.html">LEA reports</a>' in text and ">Methods</a>" not in text


def test_every_page_carries_the_preliminary_banner_and_the_release_is_recorded(site):
    pages = html_pages(site)
    assert len(pages) > 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if "bd-header-announcement" not in text and page.name in ("genindex.html", "search.html", "index.html"):
            continue  # redirect and index pages without the theme's header
        assert "PRELIMINARY RESULTS" in text, page
    record = json.loads((site.html / "release.json").read_text())
    assert record["release"] == "preliminary" and record["lea_pages"] == 4
    assert {s["file"] for s in record["sources"]} >= {p.name for p in (SAMPLE / "research").glob("*.txt")}


def test_methods_page_has_the_counting_rules_with_their_sources(site):
    text = (site.html / "book" / "methods.html").read_text(encoding="utf-8")
    assert "Counting rules for student records" in text and "Observed cheating (SB paper-pencil, 2016–17)" in text
    assert "2021–22 CAASPP Student Data File Layout" in text


def test_intro_lists_the_data_release_with_version_suffixes(site):
    intro = (site.html / "book" / "intro.html").read_text(encoding="utf-8")
    assert "sb_ca2018_1_csv_v3__county08_DelNorte_plus_state.txt" in intro  # file names as text, not &#95;
    assert "<td><p>v3</p></td>" in intro
    assert "Preliminary build." in intro


def test_chapters_number_their_tables_and_figures_with_alt_text_and_data(site):
    for name in ("assessments", "statewide"):
        html = (site.html / "book" / f"{name}.html").read_text(encoding="utf-8")
        figures = re.findall(r'<figure class="align-default" id="(fig-[^"]+)">(.*?)</figure>', html, re.S)
        assert figures, name
        for fig_id, body in figures:
            alt = re.search(r'<img alt="([^"]+)"', body).group(1)
            assert len(alt) > 60, fig_id
            assert re.search(r'<span class="caption-number">Fig\. \d+ </span>', body)
            following = html[html.index(f'id="{fig_id}"'):]
            assert following.index("sd-dropdown") < following.index("</section>"), f"{fig_id}: no data dropdown"
        assert re.search(r'<span class="caption-number">Table \d+ </span>', html)
    statewide = (site.html / "book" / "statewide.html").read_text(encoding="utf-8")
    assert "State of California: results by test and grade, spring 2022" in statewide
    assert "<td><p>47.06</p></td>" in statewide


def test_lea_page_charts_have_alt_text_and_their_numbers(site):
    page = lea_page(site, DNCUSD)
    html = page.read_text(encoding="utf-8")
    imgs = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', html)
    assert len(imgs) == 2
    assert "by grade, Del Norte County Unified, spring 2022" in imgs[0][1]
    assert "Del Norte County Unified: ELA: 2017 " in imgs[1][1] and "2022 27.86" in imgs[1][1]
    assert html.count('<details class="caaspp-data"><summary>Data for this chart</summary>') == 2
    # the charts are image files of the site (helpers.site.sphinx_pages), the same PNGs as the downloadable
    # notebook's, which keeps them inline
    inline = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", offered_notebook(site, page))
    assert len(inline) == 2
    for (src, _alt), data in zip(imgs, inline):
        png = base64.b64decode(data)
        assert src == f"../../../_images/{hashlib.sha256(png).hexdigest()}.png"
        assert (page.parent / src).read_bytes() == png


def test_no_page_of_the_site_carries_an_inline_image(site):
    for page in html_pages(site):
        assert "data:image" not in page.read_text(encoding="utf-8"), page


def test_every_lea_table_links_the_zip_of_its_pages_csvs(site):
    """Each LEA table's link is the page's `<stem>.csv.zip`, naming the table's file; the zip holds exactly the
    CSVs `run` wrote beside the notebook, byte for byte."""
    for page in (site.html / "book" / "leas" / "08").glob("0*.html"):
        html = page.read_text(encoding="utf-8")
        named = re.findall(r'<a href="([^"]+)" download>Download the tables of this page \(CSV, zip\)</a>: '
                           r'this table is <code>([^<]+)</code>', html)
        assert len(named) >= 4 and {href for href, _ in named} == {page.stem + ".csv.zip"}, page.name
        beside = {f.name: f.read_bytes() for f in (site.leas / "08").glob(page.stem + ".*.csv")}
        with zipfile.ZipFile(page.with_name(page.stem + ".csv.zip")) as z:
            assert {n: z.read(n) for n in z.namelist()} == beside
        assert {name for _, name in named} <= set(beside)
        assert not list(page.parent.glob(page.stem + ".*.csv"))  # no loose copies: only the zip


def csv_header(page: Path, link) -> str:
    """The header row of the CSV a table's link offers (the file it names, in a zip)."""
    target = (page.parent / link["href"]).resolve()
    if target.suffix != ".zip":
        return target.read_text(encoding="utf-8").splitlines()[0]
    with zipfile.ZipFile(target) as z:
        return z.read(link.find_next_sibling("code").get_text()).decode("utf-8").splitlines()[0]


def test_every_table_of_every_page_has_its_csv_link(site):
    """Chapters, county pages and LEA pages: as many CSV links as tables in the article, each the first link
    after its table, resolving to a CSV file (in a zip, on an LEA page) with a header row."""
    checked = 0
    text = re.compile(r"^Download (this table \(CSV\)|the tables of this page \(CSV, zip\))$")
    for page in html_pages(site):
        article = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find("article")
        if article is None:
            continue
        tables = article.find_all("table")
        links_ = article.find_all("a", string=text)
        assert len(links_) == len(tables), (page, len(tables), len(links_))
        for table, link in zip(tables, links_):
            assert table.find_next("a", string=re.compile(r"^Download th")) is link, page  # the next link
            assert csv_header(page, link).split(",")[0].strip('"'), (page, link)
            checked += 1
    assert checked > 60


def test_no_broken_internal_links(site):
    assert links.check(site.html) == []


def test_privacy_scan_of_site_and_pdfs_is_clean(site):
    assert privacy.scan_build(site, [site.html, pdf.out_dir(site)]) == []
    result = cli(site.root, "scan")
    assert result.returncode == 0 and "0 finding(s)" in result.stderr
    for page in (site.html / "book" / "leas" / "08").glob("0*.html"):
        text = offered_notebook(site, page)
        assert str(site.root) not in text and '"input_path": "notebooks/lea_report.ipynb"' in text


def test_each_lea_page_offers_its_executed_notebook_zipped(site):
    """The theme's download link of an LEA page names the zip of its notebook (helpers.site.notebooks), which
    holds the notebook the run executed, outputs and all; no notebook is left unzipped."""
    assert not list((site.html / "_sources").rglob("*.ipynb"))
    pages = sorted((site.html / "book" / "leas" / "08").glob("0*.html"))
    assert len(pages) >= 3
    for page in pages:
        executed = json.loads((site.leas / "08" / page.with_suffix(".ipynb").name).read_text(encoding="utf-8"))
        offered = json.loads(offered_notebook(site, page))
        assert [c.get("outputs") for c in offered["cells"]] == [c.get("outputs") for c in executed["cells"]]


def test_values_are_shown_as_cde_published_them(site):
    html = lea_page(site, COE).read_text(encoding="utf-8")
    text = "\n".join(pdf_pages(lea_pdf(site, COE)))
    for value in COE_PUBLISHED_MEANS:
        assert value in html and value in text
    row = next(line for line in text.splitlines() if re.match(r"\s*ELA\s+Grade 4\b", line))
    assert "2377.8" in row and "*" not in row
    assert "exactly as CDE published it" in html
    methods = (site.html / "book" / "methods.html").read_text(encoding="utf-8")
    assert "Policy of this book: values as published" in methods


# ---------------------------------------------------------------- PDFs


def test_lea_pdf_text_and_page_images(site):
    path = lea_pdf(site, DNCUSD)
    pages = pdf_pages(path)
    text = "\n".join(pages)
    assert "Del Norte County Unified" in text and DNCUSD in text
    assert "27.86" in text and "16.57" in text and "29.61" in text  # LEA ELA, LEA math, county ELA
    assert all("PRELIMINARY RESULTS" in page for page in pages)
    assert all(re.search(rf"page {i} of {len(pages)}", page) for i, page in enumerate(pages, start=1))
    images = page_images(path, ARTIFACTS / "pdf")
    assert len(images) == len(pages) and all(i.stat().st_size > 5000 for i in images)


def test_lea_pdf_shows_the_pages_two_charts(site):
    """The charts are image files of the site (helpers.site.sphinx_pages): the PDF printed from the page
    embeds both, at the PNGs' size."""
    sizes = re.findall(r'<img src="[^"]+" alt="[^"]+" width="(\d+)" height="(\d+)"',
                       lea_page(site, DNCUSD).read_text(encoding="utf-8"))
    listed = subprocess.run(["pdfimages", "-list", str(lea_pdf(site, DNCUSD))], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    embedded = [tuple(line.split()[3:5]) for line in listed if line.split()[2] == "image"]
    assert len(sizes) == 2 and sorted(embedded) == sorted(sizes)


def test_lea_pdfs_show_no_number_their_scanned_html_page_does_not(site):
    """The privacy scan judges tables in the HTML and CSV (PDF text has lost its columns): each LEA PDF is
    that page printed, so every decimal number in its text must be one the page shows."""
    for page in (site.html / "book" / "leas" / "08").glob("0*.html"):
        [path] = (pdf.out_dir(site) / "leas" / "08").glob(f"{page.stem}.pdf")
        shown = set(re.findall(r"\d+\.\d+", BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
                               .find("article").get_text(" ")))
        printed = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", "\n".join(pdf_pages(path))))
        assert printed and printed <= shown, (path.name, sorted(printed - shown)[:10])


def test_report_pdf_has_the_chapters_and_a_summary_page_per_lea(site):
    path = pdf.out_dir(site) / pdf.REPORT
    pages = pdf_pages(path)
    assert all("PRELIMINARY RESULTS" in page for page in pages)
    text = "\n".join(pages)
    for title in ("Assessments and performance levels", "Methods", "Statewide and county summary",
                  "Cut-score impact", "Data quality", "LEA summaries", "Run status and change log"):
        assert title in text
    summaries = [p for p in pages if re.search(r"\(0\d{13}\)\s*\n\s*CDS code", p)]
    assert len(summaries) == 4
    dncusd = next(p for p in summaries if DNCUSD in p)
    assert "27.86" in dncusd and "Del Norte County Unified" in dncusd
    assert len(page_images(path, ARTIFACTS / "pdf", dpi=40)) == len(pages)


def test_pdfs_are_incremental_and_deterministic(site):
    index = json.loads((pdf.out_dir(site) / "index.json").read_text())
    # a time is recorded, never held against a limit here (benchmarks: bench/)
    assert index["timing"]["lea_pdfs_printed"] == 4 and index["timing"]["seconds_per_lea_pdf"] > 0
    before = pdf_digests(site)
    kept = {f.name: f.read_bytes() for f in (pdf.out_dir(site) / "leas").rglob("*.pdf")}
    result = cli(site.root, "pdf")
    assert result.returncode == 0 and "0 LEA PDFs printed, 5 unchanged" in result.stderr
    page = lea_page(site, DNCUSD)
    original = page.read_text(encoding="utf-8")
    try:  # one page changes: only its PDF is printed again, to the same bytes as before
        page.write_text(original.replace("<h2>All Grades summary", "<h2>All Grades summary (edited)", 1),
                       encoding="utf-8")
        result = cli(site.root, "pdf")
        assert "1 LEA PDFs printed, 4 unchanged" in result.stderr, result.stderr
    finally:
        page.write_text(original, encoding="utf-8")
    assert "1 LEA PDFs printed" in cli(site.root, "pdf").stderr
    assert pdf_digests(site) == before, first_difference(kept, pdf.out_dir(site) / "leas")


# ---------------------------------------------------------------- in a browser


def test_site_in_a_browser(site):
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with serve(site.html) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text} at {m.location}"))
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status} {r.url}"))
        page.goto(base + "index.html")
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("About this report")
        page.screenshot(path=str(shots / "index.png"), full_page=True)

        page.locator("nav.bd-docs-nav").get_by_role("link", name="Del Norte County", exact=True).click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("book/leas/08/index.html")
        page.screenshot(path=str(shots / "county.png"), full_page=True)

        page.locator("article table").get_by_role("link", name="Del Norte County Unified", exact=True).click()
        page.wait_for_load_state("networkidle")
        assert DNCUSD in page.url
        summary = page.locator("table.caaspp-table").first
        row = summary.get_by_role("row").filter(has_text="Del Norte County Unified").first
        assert "27.86" in row.inner_text()
        assert page.get_by_text("PRELIMINARY RESULTS").first.is_visible()
        widths = page.eval_on_selector_all("article img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])")
        assert len(widths) == 2 and all(done and w > 0 and alt for done, w, alt in widths)
        page.get_by_text("Data for this chart").first.click()
        assert page.locator("details.caaspp-data").first.get_attribute("open") is not None
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")  # no focus ring, no sticky header
        page.screenshot(path=str(shots / "lea-dncusd.png"), full_page=True)

        for name in ("assessments", "statewide", "run_status"):
            page.goto(base + f"book/{name}.html")
            page.wait_for_load_state("networkidle")
            widths = page.eval_on_selector_all("article img", "imgs => imgs.map(i => i.naturalWidth)")
            assert all(w > 0 for w in widths), name
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        with page.expect_download() as download:
            page.goto(base + f"book/leas/08/{lea_page(site, DNCUSD).name}")
            page.get_by_role("link", name="Download the tables of this page (CSV, zip)").first.click()
        assert download.value.suggested_filename == lea_page(site, DNCUSD).stem + ".csv.zip"
    assert errors == []


def test_publish_refuses_the_preliminary_build_then_allows_it(site, tmp_path):
    result = cli(site.root, "publish", str(tmp_path / "site.zip"))
    assert result.returncode == 2 and "preliminary build" in result.stderr
    result = cli(site.root, "publish", str(tmp_path / "site.zip"), "--allow-preliminary")
    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(tmp_path / "site.zip").namelist()
    assert "index.html" in names and "release.json" in names and f"pdf/{pdf.REPORT}" in names
    assert any(n.startswith("pdf/leas/08/08618200000000-") for n in names)
