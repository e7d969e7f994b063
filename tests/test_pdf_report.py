"""The printed technical report: its cover (test years, numbered contents with page numbers) and tables that
never break a word or number, printed with Debian's Chromium from a small fake site."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from helpers.core.manifest import LeaRecord
from helpers.core.paths import Paths
from helpers.publish import pdf, pdf_report
from helpers.site import book

from .conftest import ROOT

TITLE = "CAASPP results — technical report"
RELEASE = "Release status: final."
HEADINGS = {"intro": "CAASPP results: technical report", "assessments": "Assessments and performance levels",
            "methods": "Methods", "statewide": "Statewide and county summary", "impact": "Cut-score impact",
            "data_quality": "Data quality", "run_status": "Run status and change log"}
SUMMARY = ("test,entity,enrolled,tested,with_scores,pct_level_4,pct_level_3,pct_met_and_above,pct_level_2,"
           "pct_level_1\nELA,{name},172,165,165,3.64,21.82,25.45,17.58,56.97\n"
           "ELA,Del Norte County,2180,2086,2084,9.17,20.44,29.61,24.76,45.63\n")
SHA = "7dc52128a959fe9256d104ce9d949f6968335191066feb1d8f03a278571524ed"


def printing_tools() -> None:
    try:
        pdf.chromium()
    except FileNotFoundError:
        pytest.skip("Chromium not installed (make sysdeps)")
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed (make sysdeps)")


def fake_site(root: Path, long_chapter: str = "assessments", tables: str = "") -> Path:
    """A built site's chapter pages (just what pdf_report reads); `long_chapter` runs over several pages."""
    pages = root / "_build" / "html" / "book"
    pages.mkdir(parents=True)
    for name, heading in HEADINGS.items():
        body = "".join(f"<p>Paragraph {i} of {heading}. " + "Words to fill the line. " * 30 + "</p>"
                       for i in range(40 if name == long_chapter else 2))
        if name == "data_quality":
            body += tables
        (pages / f"{name}.html").write_text(
            '<!DOCTYPE html><html><head><link rel="stylesheet" href="../_static/none.css"></head><body>'
            f'<nav>navigation</nav><article class="bd-article"><section><h1>{heading}'
            f'<a class="headerlink" href="#x">#</a></h1>{body}</section></article></body></html>',
            encoding="utf-8")
    return root / "_build" / "html"


def lea(root: Path, cds: str, name: str, year: int = 2022, status: str = "ok") -> LeaRecord:
    notebook = f"book/leas/08/{cds}-x.ipynb"
    csv = root / notebook.replace(".ipynb", ".summary.csv")
    csv.parent.mkdir(parents=True, exist_ok=True)
    csv.write_text(SUMMARY.format(name=name), encoding="utf-8")
    return LeaRecord(cds, year, name, "08", "Del Norte", 2, notebook, SHA, status, 1.0)


def report(root: Path, records: list[LeaRecord], tables: str = "") -> str:
    html_dir = fake_site(root, tables=tables)
    return pdf_report.document(html_dir, book.CHAPTERS, records, root, TITLE, RELEASE, pdf.print_css(Paths(ROOT)))


def print_report(doc: str, out: Path, status: str = "final") -> list[str]:
    """Print `doc` as `caaspp-book pdf` prints the report (two passes) and return each page's text."""
    source = out.with_suffix(".html")
    source.write_text(doc, encoding="utf-8")
    job = pdf.PrintJob("report", source, out, "", TITLE, paged_contents=True)
    [done], _ = asyncio.run(pdf._print_all([[job]], status, pdf.print_css(Paths(ROOT)), 1, None))
    assert done.status == "printed", done.error
    return pdf.page_texts(out)


def contents_lines(cover: str) -> list[tuple[int, str, int]]:
    """(number, title, page) of each contents line of the printed cover."""
    return [(int(n), title, int(page)) for n, title, page in
            re.findall(r"^\s*(\d+)\s+(\S.*?)[\s._]*?\s(\d+)\s*$", cover, flags=re.M)]


# ---------------------------------------------------------------- the document


def test_cover_has_the_test_year_and_numbered_chapters_in_the_sites_order(tmp_path):
    records = [lea(tmp_path, "08618200000000", "Del Norte County Unified"),
               lea(tmp_path, "08100820000000", "Del Norte County Office of Education"),
               lea(tmp_path, "08100820830059", "Castle Rock", status="failed")]
    soup = BeautifulSoup(report(tmp_path, records), "html.parser")
    cover = soup.select_one("section.report-cover")
    assert cover.select_one(".report-years").get_text() == "Test year 2021–22"
    assert RELEASE in cover.get_text()
    rows = [(li.select_one(".toc-number").get_text(), li.select_one(".toc-title").get_text())
            for li in cover.select("ol.report-toc li")]
    assert rows == [("1", "About this report"), ("2", "Assessments and performance levels"), ("3", "Methods"),
                    ("4", "Statewide and county summary"), ("5", "Cut-score impact"), ("6", "Data quality"),
                    ("7", "LEA summaries: one page for each of the 2 LEAs"), ("8", "Run status and change log")]
    # each entry points at the heading its chapter starts with, in the order the chapters are printed
    starts = [h.get_text(" ", strip=True) for h in soup.select("div.report-chapter h1")]
    assert pdf_report.headings(str(soup)) == starts
    assert not re.search(r"20\d\d-\d\d-\d\d|\d\d:\d\d:\d\d", cover.get_text())  # no build date or time


def test_cover_without_built_leas_lists_no_lea_summaries(tmp_path):
    soup = BeautifulSoup(report(tmp_path, [lea(tmp_path, "08100820830059", "Castle Rock", status="failed")]),
                         "html.parser")
    titles = [li.get_text(" ", strip=True) for li in soup.select("ol.report-toc li")]
    assert titles[-1] == "7 Run status and change log" and not any("LEA summaries" in t for t in titles)
    assert "LEA summaries" not in soup.get_text()
    assert soup.select_one(".report-years").get_text() == "Test year 2021–22"  # the manifest's year


def test_years_line():
    rec = lambda year, status="ok": LeaRecord("0", year, "x", "08", "c", 2, "n", "", status, 0.0)
    assert pdf_report.years_line([rec(2022), rec(2022)]) == "Test year 2021–22"
    assert pdf_report.years_line([rec(2023), rec(2021), rec(2022)]) == "Test years 2020–21, 2021–22 and 2022–23"
    assert pdf_report.years_line([rec(2022), rec(2019, "failed")]) == "Test year 2021–22"  # built LEAs' years
    assert pdf_report.years_line([]) == ""


def test_start_pages_reads_the_top_of_each_page():
    banner = "PRELIMINARY RESULTS — not for release"
    pages = ["Title\nContents\n1 Methods 2\n2 Data quality 3",
             f"{banner}\nMethods\ntext\nData quality\n",  # "Data quality" lower down is not its start
             f"{banner}\n   text   \nmore\n",
             f"{banner}\n\n  Data   quality\ntext about Methods"]
    assert pdf_report.start_pages(["Methods", "Data quality"], pages) == [2, 4]
    with pytest.raises(ValueError, match="'Impact' not found"):
        pdf_report.start_pages(["Methods", "Impact"], pages)
    with pytest.raises(ValueError):  # the cover is never a chapter's start
        pdf_report.start_pages(["Title"], pages)


# ---------------------------------------------------------------- printed


def test_contents_page_numbers_are_the_pages_the_chapters_start_on(tmp_path):
    printing_tools()
    records = [lea(tmp_path, f"0810082000000{i}", f"District {i}") for i in range(3)]
    doc = report(tmp_path, records)
    pages = print_report(doc, tmp_path / "report.pdf", status="preliminary")
    lines = contents_lines(pages[0])
    assert [n for n, _, _ in lines] == list(range(1, 9)), pages[0]
    headings = pdf_report.headings(doc)
    for (n, title, page), heading in zip(lines, headings):
        top = [" ".join(line.split()) for line in pages[page - 1].splitlines() if line.strip()][:2]
        assert heading in top, (n, title, page, top)
        earlier = pages[page - 2].splitlines() if page > 1 else []
        assert heading not in [" ".join(x.split()) for x in earlier[:3]]
    starts = [page for _, _, page in lines]
    assert starts[0] == 2 and starts[2] - starts[1] > 2  # the long chapter 2 runs over several pages
    assert starts[7] - starts[6] == 4  # the LEA summaries: a title page and one page for each of 3 LEAs
    assert starts == sorted(starts) and starts[-1] <= len(pages)
    first = (tmp_path / "report.pdf").read_bytes()  # the same document prints to the same bytes
    print_report(doc, tmp_path / "again.pdf", status="preliminary")
    assert (tmp_path / "again.pdf").read_bytes() == first


def word_boxes(path: Path) -> tuple[float, list[tuple[str, float]]]:
    """The page width and each word's (text, right edge) on the PDF's pages (pdftotext -bbox)."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    width = float(re.search(r'<page width="([\d.]+)"', out).group(1))
    words = [(w, float(x)) for x, w in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" '
                                                    r'yMax="[\d.]+">([^<]*)</word>', out)]
    return width, words


def test_narrow_table_columns_keep_words_numbers_and_codes_whole(tmp_path):
    printing_tools()
    head = ["File", "Kind", "Layout era", "Version", "Rows", "Year", "CDS code", "SHA-256", "Error"]
    row = ["cast_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt", "student_groups",
           "2021–2023 caret, Student Group ID + Type ID", "v2", "216", "2017–18", "08618200000000", SHA,
           "FileNotFoundError: " + "/very/long/path/without/spaces" * 6 + " and then some words " * 8]
    header = "".join(f"<th><p>{v}</p></th>" for v in head)
    body = "".join(f"<td><p>{v}</p></td>" for v in row)
    table = f"<table class='table'><thead><tr>{header}</tr></thead><tbody>{f'<tr>{body}</tr>' * 3}</tbody></table>"
    pages = print_report(report(tmp_path, [], tables=table * 2), tmp_path / "report.pdf")
    text = "\n".join(pages)
    for token in ("Version", "Rows", "Year"):  # whole, in both tables' headers
        assert len(re.findall(rf"\b{token}\b", text)) == 2, token
    for token in ("2017–18", "08618200000000", "student_groups",
                  "cast_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt"):  # whole, in each of the 6 rows
        assert len(re.findall(re.escape(token), text)) == 6, token
    width, words = word_boxes(tmp_path / "report.pdf")
    right = width - 10 / 25.4 * 72  # the right margin: 10 mm
    assert words and max(x for _, x in words) <= right + 1, "a table runs over the page's right margin"
    assert SHA not in text.replace("\n", " ")  # the hash, too long for its column, wraps


def test_a_tab_prints_page_after_page_the_same_bytes_and_a_failed_page_stops_no_other(tmp_path, monkeypatch):
    """`pdf` prints pages one after another in a tab (replaced every PAGES_PER_TAB pages, here 2): a page
    prints the same bytes after other pages as in a new browser, and a page that fails stops no other."""
    printing_tools()
    monkeypatch.setattr(pdf, "PAGES_PER_TAB", 2)
    site = fake_site(tmp_path / "site") / "book"
    css = pdf.print_css(Paths(ROOT))
    job = lambda name, out: pdf.PrintJob(name, site / f"{name}.html", tmp_path / out, "", TITLE)
    jobs = [job("methods", "a.pdf"), job("missing", "b.pdf"), job("assessments", "c.pdf"), job("intro", "x.pdf"),
            job("methods", "d.pdf")]
    done, _ = asyncio.run(pdf._print_all([jobs], "final", css, 1, None))
    assert [d.status for d in done] == ["printed", "failed", "printed", "printed", "printed"]
    assert "ERR_FILE_NOT_FOUND" in done[1].error
    [alone], _ = asyncio.run(pdf._print_all([[job("methods", "e.pdf")]], "final", css, 1, None))
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "d.pdf").read_bytes() == (tmp_path / "e.pdf").read_bytes()
    assert alone.pdf_sha256 == done[4].pdf_sha256 and done[2].pages > 1


def test_a_page_prints_without_its_script_files_but_with_its_inline_scripts(tmp_path):
    """The theme's script files are not loaded when printing (pdf.SCRIPT_FILE, with or without a query):
    what they would write is not in the PDF; what the page's inline script writes is."""
    printing_tools()
    (tmp_path / "theme.js").write_text("document.body.append('FROM A SCRIPT FILE');")
    (tmp_path / "page.html").write_text(
        '<!DOCTYPE html><html><head><script defer src="theme.js?digest=1"></script></head><body><p>The page.</p>'
        '<script src="theme.js"></script><script>document.body.append("FROM AN INLINE SCRIPT");</script>'
        "</body></html>", encoding="utf-8")
    job = pdf.PrintJob("page", tmp_path / "page.html", tmp_path / "page.pdf", "", TITLE)
    [done], _ = asyncio.run(pdf._print_all([[job]], "final", "p { color: black; }", 1, None))
    text = " ".join(pdf.page_texts(tmp_path / "page.pdf"))
    assert done.status == "printed" and "The page." in text and "FROM AN INLINE SCRIPT" in text
    assert "FROM A SCRIPT FILE" not in text


def test_pages_print_in_print_media_with_the_print_style_sheet_in_every_tab_page(tmp_path):
    """A tab is set to print media and the print style sheet before its first page: both hold for each page it
    prints (here three in one tab)."""
    printing_tools()
    (tmp_path / "page.html").write_text(
        "<!DOCTYPE html><html><head><style>@media screen { .print-only { display: none; } } "
        "@media print { .screen-only { display: none; } }</style></head><body><p>KEPT</p>"
        '<p class="screen-only">SCREEN ONLY</p><p class="print-only">PRINT ONLY</p><p class="styled">STYLED AWAY</p>'
        "</body></html>", encoding="utf-8")
    jobs = [pdf.PrintJob(f"p{i}", tmp_path / "page.html", tmp_path / f"p{i}.pdf", "", TITLE) for i in range(3)]
    done, _ = asyncio.run(pdf._print_all([jobs], "final", ".styled { display: none; }", 1, None))
    assert [d.status for d in done] == ["printed"] * 3
    for i in range(3):
        text = " ".join(pdf.page_texts(tmp_path / f"p{i}.pdf"))
        assert "KEPT" in text and "PRINT ONLY" in text, text
        assert "SCREEN ONLY" not in text and "STYLED AWAY" not in text, text
