"""The whole technical report as one printable HTML document: chapters 1–6, a one-page summary per LEA,
then chapter 8, built from the site's pages and the LEA pages' CSV tables."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
from bs4 import BeautifulSoup

from helpers.core import text as literal
from helpers.core.manifest import LeaRecord
from helpers.ingest.store import TYPE_LABELS
from helpers.report import page_tables as report

FRONT = ("intro",)  # before book.CHAPTERS
BACK = ("run_status",)  # after the LEA summaries
# The contents' name for the intro: its own heading is the report's title (the site's caption for chapters 1–6)
INTRO_LABEL = "About this report"
# A contents entry's page number: empty when the document is built, filled in by pdf.py from a first print
PAGE_SLOT = '<span class="toc-page" data-heading="{}"></span>'
SLOT = re.compile(r'<span class="toc-page" data-heading="([^"]*)"></span>')


ARTICLE = '<article class="bd-article">'


def article_html(page_html: str) -> str | None:
    """The `<article class="bd-article">` element of a built page (the theme has exactly one, and no
    article after it), found without parsing the whole page and its navigation."""
    start = page_html.find(ARTICLE)
    end = page_html.rfind("</article>")
    return page_html[start:end + len("</article>")] if 0 <= start < end else None


def article(page: Path) -> str:
    """The main content of a built page (no navigation, no heading anchors)."""
    found = article_html(page.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{page} has no article: not a page of this book")
    main = BeautifulSoup(found, "html.parser").article
    for tag in main.select("a.headerlink"):
        tag.decompose()
    return main.decode_contents()


def stylesheets(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    head = BeautifulSoup(text[:text.find("</head>") + 7], "html.parser")
    return [link["href"] for link in head.find_all("link", rel="stylesheet")]


def lea_summary(record: LeaRecord, root: Path, policy: str = "complementary") -> str:
    """One LEA on one page: who it is and its All Grades results beside its county and the state."""
    notebook = root / record.notebook
    csv = notebook.with_name(f"{notebook.stem}.summary.csv")
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    esc = literal.html  # names as literal text (control characters as a space)
    rows = [("CDS code", record.cds), ("Type", TYPE_LABELS.get(record.type_id, str(record.type_id))),
            ("County", record.county_name), ("Test year", school_year(record.year)),
            ("Data SHA-256", record.data_sha256)]
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
    body = report.table_html(report.display(table))
    note = esc(report.footnote(record.year, policy).replace("`", ""))
    return (f'<section class="lea-summary"><h2>{esc(record.name)} ({esc(record.cds)})</h2>'
            f'<table class="lea-facts">{facts}</table><h3>All Grades summary</h3>{body}<p>{note}</p></section>')


def school_year(year: int) -> str:
    """A test year as its school year: 2022 → "2021–22"."""
    return f"{year - 1}–{str(year)[2:]}"


def years_line(records: list[LeaRecord]) -> str:
    """The cover's line on the data: "Test year 2021–22" (or the years, if the records span several)."""
    built = [r for r in records if r.built] or records
    years = [school_year(y) for y in sorted({r.year for r in built})]
    if len(years) < 2:
        return f"Test year {years[0]}" if years else ""
    return f"Test years {', '.join(years[:-1])} and {years[-1]}"


def contents(entries: list[tuple[str, str]]) -> str:
    """The numbered contents list: one row per (label, heading) with an empty page slot for its first page."""
    esc = html.escape
    rows = "".join(f'<li><span class="toc-number">{n}</span><span class="toc-title">{esc(label)}</span>'
                   f'<span class="toc-leader"></span>{PAGE_SLOT.format(esc(heading))}</li>'
                   for n, (label, heading) in enumerate(entries, start=1))
    return f'<ol class="report-toc">{rows}</ol>'


def document(html_dir: Path, chapters: tuple[str, ...], records: list[LeaRecord], root: Path, title: str,
             release_line: str, css: str, policy: str = "complementary") -> str:
    """The printable document; relative links resolve against the chapters' folder (a <base> element);
    `policy`: the suppression policy of the tables the LEA pages were made from.
    Its contents list is numbered in the site's chapter order and has empty page slots (see `start_pages`)."""
    pages = html_dir / "book"
    front = [pages / f"{name}.html" for name in (*FRONT, *chapters)]
    back = [pages / f"{name}.html" for name in BACK]
    links = "".join(f'<link rel="stylesheet" href="{html.escape(h)}">' for h in stylesheets(front[0]))
    ok = [r for r in sorted(records, key=lambda r: (r.county_code, r.cds)) if r.built]
    titles = [_title(p) for p in front]
    entries = [(INTRO_LABEL, titles[0])] + [(t, t) for t in titles[1:]]  # (contents label, heading)
    if ok:
        entries.append((f"LEA summaries: one page for each of the {len(ok)} LEAs", "LEA summaries"))
    entries += [(t, t) for t in map(_title, back)]
    years = years_line(records)
    parts = [f'<section class="report-cover"><h1>{html.escape(title)}</h1>'
             + (f'<p class="report-years">{html.escape(years)}</p>' if years else "")
             + f"<p><strong>{html.escape(release_line)}</strong></p><h2>Contents</h2>{contents(entries)}"
             "<p>The site holds the full LEA pages, their CSV tables and one PDF per LEA.</p></section>"]
    parts += [f'<div class="report-chapter">{article(p)}</div>' for p in front]
    if ok:
        parts.append('<div class="report-chapter"><h1>LEA summaries</h1><p>One page per LEA: its All Grades '
                     "results beside its county and the state. The full pages are in the site and in one PDF "
                     "per LEA.</p></div>")
        parts += [lea_summary(r, root, policy) for r in ok]
    parts += [f'<div class="report-chapter">{article(p)}</div>' for p in back]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<base href="{pages.resolve().as_uri()}/"><title>{html.escape(title)}</title>{links}'
            f"<style>{css}</style></head><body class=\"caaspp-report\"><main class=\"bd-article\">"
            + "".join(parts) + "</main></body></html>")


def headings(doc: str) -> list[str]:
    """The chapter headings the contents list points at, in order."""
    return [html.unescape(h) for h in SLOT.findall(doc)]


def start_pages(wanted: list[str], pages: list[str], top: int = 2) -> list[int]:
    """The page (1-based) on which each heading starts, given each page's text (pdftotext): the first page
    after the previous heading's whose first `top` lines (a preliminary print's header banner, then the
    chapter's h1: every chapter starts a page) include the heading as a line of its own."""
    found, after = [], 1  # page 1 is the cover
    for heading in wanted:
        want = " ".join(heading.split())
        at = next((i for i in range(after, len(pages)) if want in _top_lines(pages[i], top)), None)
        if at is None:
            raise ValueError(f"chapter {heading!r} not found at the top of any page after page {after}")
        found.append(at + 1)
        after = at + 1
    return found


def _top_lines(text: str, n: int) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()][:n]


def _title(page: Path) -> str:
    found = article_html(page.read_text(encoding="utf-8")) or ""
    h1 = BeautifulSoup(found, "html.parser").find("h1")
    return h1.get_text(" ", strip=True).rstrip("#").strip() if h1 else page.stem
