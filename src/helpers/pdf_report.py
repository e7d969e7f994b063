"""The whole technical report as one printable HTML document: chapters 1–6, a one-page summary per LEA,
then chapter 8, built from the site's pages and the LEA pages' CSV tables."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from bs4 import BeautifulSoup

from . import report
from .runner import LeaRecord
from .store import TYPE_LABELS

FRONT = ("intro",)  # before book.CHAPTERS
BACK = ("run_status",)  # after the LEA summaries


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


def lea_summary(record: LeaRecord, root: Path) -> str:
    """One LEA on one page: who it is and its All Grades results beside its county and the state."""
    notebook = root / record.notebook
    csv = notebook.with_name(f"{notebook.stem}.summary.csv")
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    esc = html.escape
    rows = [("CDS code", record.cds), ("Type", TYPE_LABELS.get(record.type_id, str(record.type_id))),
            ("County", record.county_name), ("Test year", f"{record.year - 1}–{str(record.year)[2:]}"),
            ("Data SHA-256", record.data_sha256)]
    facts = "".join(f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in rows)
    body = report.display(table).to_html(index=False, border=0, classes="caaspp-table", escape=True)
    note = esc(report.footnote(record.year).replace("`", ""))
    return (f'<section class="lea-summary"><h2>{esc(record.name)} ({record.cds})</h2>'
            f'<table class="lea-facts">{facts}</table><h3>All Grades summary</h3>{body}<p>{note}</p></section>')


def document(html_dir: Path, chapters: tuple[str, ...], records: list[LeaRecord], root: Path, title: str,
             release_line: str, css: str) -> str:
    """The printable document; relative links resolve against the chapters' folder (a <base> element)."""
    pages = html_dir / "book"
    front = [pages / f"{name}.html" for name in (*FRONT, *chapters)]
    back = [pages / f"{name}.html" for name in BACK]
    links = "".join(f'<link rel="stylesheet" href="{html.escape(h)}">' for h in stylesheets(front[0]))
    n_ok = sum(r.built for r in records)
    contents = [_title(p) for p in front] + [f"LEA summaries: one page for each of the {n_ok} LEAs"] \
        + [_title(p) for p in back]
    parts = [f'<section class="report-cover"><h1>{html.escape(title)}</h1><p><strong>{html.escape(release_line)}'
             f"</strong></p><h2>Contents</h2><ol>{''.join(f'<li>{html.escape(c)}</li>' for c in contents)}</ol>"
             "<p>The site holds the full LEA pages, their CSV tables and one PDF per LEA.</p></section>"]
    parts += [f'<div class="report-chapter">{article(p)}</div>' for p in front]
    ok = [r for r in sorted(records, key=lambda r: (r.county_code, r.cds)) if r.built]
    if ok:
        parts.append('<div class="report-chapter"><h1>LEA summaries</h1><p>One page per LEA: its All Grades '
                     "results beside its county and the state. The full pages are in the site and in one PDF "
                     "per LEA.</p></div>")
        parts += [lea_summary(r, root) for r in ok]
    parts += [f'<div class="report-chapter">{article(p)}</div>' for p in back]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<base href="{pages.resolve().as_uri()}/"><title>{html.escape(title)}</title>{links}'
            f"<style>{css}</style></head><body class=\"caaspp-report\"><main class=\"bd-article\">"
            + "".join(parts) + "</main></body></html>")


def _title(page: Path) -> str:
    found = article_html(page.read_text(encoding="utf-8")) or ""
    h1 = BeautifulSoup(found, "html.parser").find("h1")
    return h1.get_text(" ", strip=True).rstrip("#").strip() if h1 else page.stem
