"""Input text is data, never markup: hostile entity names (tests/hostile.py) are literal text in Markdown,
on every page (HTML and in a browser), in the PDFs, CSVs and search index; they inject no element, run no
code, bring no file from outside the project into the site and fail no build (the build runs with -W).

The site is built once per session from a copy of the shipped sample whose Del Norte entities file names
carry the corpus (ingest → tables → run → build → pdf); a final build, which then publishes."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from helpers.core import text
from helpers.core.paths import Paths
from helpers.publish import pdf
from helpers.report.page_tables import md_text

from . import hostile
from .conftest import ROOT, SAMPLE
from .hostile import LEA_CDS, MARY_PEACOCK, UNICODE, shown
from .site_build import (
    ARTIFACTS,
    browser,
    cli,
    page_images,
    pdf_pages,
    scratch_project,
    serve,
    steps,
)

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def names(tmp_path_factory) -> hostile.Corpus:
    return hostile.corpus(tmp_path_factory.mktemp("corpus"))


def every_name(c: hostile.Corpus) -> list[str]:
    return [*c.names.values(), c.county, UNICODE]


# ---------------------------------------------------------------- the escaping functions


def myst_html(source: str) -> BeautifulSoup:
    """Markdown as MyST's parser renders it, with Jupyter Book's default syntax extensions (the book turns
    most of them off; escaping must not rely on that) except linkify, which only the book's config (tested
    below) keeps off."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    extensions = {"colon_fence", "dollarmath", "substitution", "tasklist", "amsmath", "deflist"}
    parser = create_md_parser(MdParserConfig(enable_extensions=extensions), RendererHTML)
    return BeautifulSoup(parser.render(source), "html.parser")


@pytest.mark.parametrize("context", ["heading", "line", "table", "link", "list"])
def test_md_text_keeps_every_name_literal_in_every_markdown_context(names, context):
    for name in every_name(names):
        escaped = md_text(name)
        source = {"heading": f"# {escaped} (x)\n", "line": f"{escaped}\n", "list": f"- **LEA:** {escaped}\n",
                  "table": f"| A | B |\n|---|---|\n| {escaped} | x |\n", "link": f"[{escaped}](page.md)\n"}[context]
        doc = myst_html(source)
        element = {"heading": "h1", "line": "p", "list": "li", "table": "td", "link": "a"}[context]
        found = doc.find(element)
        assert found is not None, (context, name, source)
        want = {"heading": shown(name) + " (x)", "list": "LEA: " + shown(name)}.get(context, shown(name))
        assert shown(found.get_text()) == want, (context, name)
        tags = {t.name for t in doc.find_all(True)}
        assert tags <= {"h1", "p", "ul", "li", "strong", "table", "thead", "tbody", "tr", "th", "td", "a"}, name
        assert [a.get("href") for a in doc.find_all("a")] == (["page.md"] if context == "link" else [])


def test_a_csv_cell_a_spreadsheet_would_run_is_text():
    frame = pd.DataFrame({"name": ['=HYPERLINK("http://127.0.0.1:9/","x")', "+1 Main", "-x", "@SUM(A1)", "\tTab",
                                   "Del Norte", None],
                          "diff": ["+1.2", "-12.3", "-0.5%", "3", "", "1e3", "−4"], "n": range(7)})
    out = text.csv_frame(frame)
    assert out["name"].tolist()[:6] == ["'" + v for v in frame["name"][:5]] + ["Del Norte"]
    assert pd.isna(out["name"][6])
    assert out["diff"].tolist() == frame["diff"].tolist() and out["n"].tolist() == list(range(7))
    assert frame["name"][0].startswith("=")  # the caller's frame is not changed
    same = frame[["diff", "n"]]
    assert text.csv_frame(same) is same


def test_option_values_and_html_text_are_literal(names):
    from myst_parser.parsers.options import options_to_items

    for name in every_name(names):
        items, _ = options_to_items("alt: " + text.option(name))
        assert items == [("alt", text.plain(name))]
        html = BeautifulSoup(f'<p title="{text.html(name)}">{text.html(name)}</p>', "html.parser")
        assert html.p.get_text() == html.p["title"] == text.plain(name) and len(html.find_all(True)) == 1


def test_the_book_evaluates_no_substitution_and_links_no_bare_url():
    """Of Jupyter Book's default MyST extensions the book keeps colon fences only (substitutions run Jinja on
    `{{ }}`, linkify makes a URL in a name a link), and Sphinx's smart quotes are off (a name's quotes and
    dashes are shown as written)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["parse"]["myst_enable_extensions"] == ["colon_fence"]
    assert config["sphinx"]["config"]["smartquotes"] is False


# ---------------------------------------------------------------- one site built from the corpus


@dataclass(frozen=True)
class Site:
    p: Paths
    corpus: hostile.Corpus

    def lea_page(self, key: str) -> Path:
        [page] = (self.p.html / "book" / "leas" / "08").glob(f"{LEA_CDS[key]}-*.html")
        return page

    def lea_pdf(self, key: str) -> Path:
        [found] = (pdf.out_dir(self.p) / "leas" / "08").glob(f"{LEA_CDS[key]}-*.pdf")
        return found

    def soup(self, page: Path) -> BeautifulSoup:
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for link in doc.select("a.headerlink"):
            link.decompose()
        return doc


def write_unicode_name(tables: Path) -> None:
    """Mary Peacock Elementary named `UNICODE` (what a cp1252 entities file cannot hold) in every table."""
    for path in sorted(tables.glob("*.parquet")):
        frame = pd.read_parquet(path)
        if "entity_name" in frame and "cds" in frame:
            frame["entity_name"] = frame["entity_name"].astype(object)
            frame.loc[frame["cds"] == MARY_PEACOCK, "entity_name"] = UNICODE
            frame.to_parquet(path, index=False)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    tmp = tmp_path_factory.mktemp("escaping")
    corpus = hostile.corpus(tmp)
    sample = hostile.hostile_sample(SAMPLE, tmp / "sample", corpus.names)
    root = tmp / "project"
    root.mkdir()
    p = Paths(scratch_project(root))
    steps(root, ("ingest", str(sample)), ("tables",))
    write_unicode_name(p.tables)
    steps(root, ("run", "--jobs", "2"), ("build",), ("pdf", "--jobs", "2"))
    return Site(p, corpus)


def pages(site: Site) -> list[Path]:
    return [f for f in sorted(site.p.html.rglob("*.html")) if "_static" not in f.relative_to(site.p.html).parts]


@slow
def test_no_code_ran_and_no_file_from_outside_entered_the_site(site):
    for marker in site.corpus.markers:  # `{{ … os.system('touch <marker>') }}`, `{% set … %}`
        assert not (site.p.root / marker).exists() and not Path(marker).exists(), marker
    generated = {f.name: f.read_bytes() for f in (site.p.book / "_generated" / "extra" / "book" / "_data").glob("*.csv")}
    downloads = [f for f in (site.p.html / "book" / "_data").rglob("*") if f.is_file()]
    assert downloads and all(generated.get(f.name) == f.read_bytes() for f in downloads), downloads
    for f in [*site.p.html.rglob("*"), *pdf.out_dir(site.p).rglob("*")]:
        if f.is_file() and f.suffix != ".pdf":
            assert site.corpus.secret.encode() not in f.read_bytes(), f
    for f in pdf.out_dir(site.p).rglob("*.pdf"):
        assert site.corpus.secret not in "".join(pdf_pages(f)), f


@slow
def test_every_lea_name_is_the_literal_title_of_its_page(site):
    for key, cds in LEA_CDS.items():
        name = site.corpus.lea(key)
        doc = site.soup(site.lea_page(key))
        assert shown(doc.select_one("article h1").get_text()) == f"{shown(name)} ({cds})", key
        header = next(li for li in doc.select("article li") if li.get_text().startswith("LEA:"))
        assert shown(header.get_text()) == f"LEA: {shown(name)}", key
        assert shown(doc.title.get_text()).startswith(f"{shown(name)} ({cds})"), key


@slow
def test_every_school_name_is_a_literal_cell_of_its_leas_table(site):
    schools = {"dncusd": [*hostile.DNCUSD_SCHOOLS, "Uncharted Shores Academy"], "coe": [*hostile.COE_SCHOOLS,
                                                                                     "Castle Rock"]}
    for key, olds in schools.items():
        doc = site.soup(site.lea_page(key))
        table = next(t for t in doc.select("table.caaspp-table") if t.caption and "results by school" in t.caption.get_text())
        cells = {shown(td.get_text()) for td in table.select("tbody td")}
        assert {shown(site.corpus.names[old]) for old in olds} <= cells, key
    unicode_table = next(t for t in site.soup(site.lea_page("dncusd")).select("table.caaspp-table")
                         if t.caption and "results by school" in t.caption.get_text())
    assert shown(UNICODE) in {shown(td.get_text()) for td in unicode_table.select("tbody td")}


@slow
def test_the_index_county_run_status_and_statewide_pages_show_the_names_as_text(site):
    county = site.corpus.county
    leas = [site.corpus.lea(k) for k in LEA_CDS]
    index = site.soup(site.p.html / "book" / "leas" / "index.html")
    cells = {shown(td.get_text()) for td in index.select("table tbody td")}
    assert {shown(n) for n in leas} | {shown(county)} <= cells
    assert shown(county) in {shown(a.get_text()) for a in index.select("article li a")}
    page = site.soup(site.p.html / "book" / "leas" / "08" / "index.html")
    assert shown(page.select_one("article h1").get_text()) == shown(county)
    assert {shown(n) for n in leas} <= {shown(td.get_text()) for td in page.select("table tbody td")}
    status = site.soup(site.p.html / "book" / "run_status.html")
    assert {shown(n) for n in leas} <= {shown(td.get_text()) for td in status.select("table tbody td")}
    statewide = site.soup(site.p.html / "book" / "statewide.html")
    assert shown(county) in {shown(h.get_text()) for h in statewide.select("article h2")}
    assert any(shown(c.get_text()).endswith(f"{shown(county)}: results by test and grade, spring 2022.")
               for c in statewide.select("table caption"))
    assert any(shown(county) in img.get("alt", "") for img in statewide.select("figure img"))


@slow
def test_the_search_index_holds_titles_as_escaped_text(site):
    raw = (site.p.html / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1:raw.rindex(")")])
    title = f"{text.plain(site.corpus.lea('dncusd'))} ({LEA_CDS['dncusd']})"
    assert html.escape(title) in index["alltitles"] and title not in index["alltitles"]
    assert not [t for t in [*index["alltitles"], *index["titles"]] if "<" in t or ">" in t]


@slow
def test_no_page_of_the_site_holds_an_injected_element(site):
    for page in pages(site):
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert not doc.select("[onerror], [onmouseover]"), page
        assert not [a for a in doc.select("a[href]") if a["href"].startswith(("javascript:", "data:"))
                    or "127.0.0.1:9" in a["href"]], page
        assert not [i for i in doc.select("img[src]") if i["src"] == "x" or "127.0.0.1:9" in i["src"]], page
        assert not [s for s in doc.select("script") if "alert(" in s.get_text()], page
        assert "<script>alert(" not in page.read_text(encoding="utf-8"), page


def dom_findings(page) -> dict[str, int]:
    """Counts of elements a name could have injected (all must be 0)."""
    return page.evaluate("""() => ({
      handlers: document.querySelectorAll('[onerror],[onmouseover],[onload]:not(body)').length,
      script_links: document.querySelectorAll('a[href^="javascript:"],a[href^="data:"],a[href*="127.0.0.1:9"]').length,
      images: [...document.images].filter(i => !/^(data:image\\/png;base64,|[^:]*$)/.test(i.getAttribute('src'))
                                             || i.getAttribute('src') === 'x').length,
      scripts: [...document.scripts].filter(s => s.textContent.includes('alert(')).length,
      markup: [...document.querySelectorAll('article b, article i, article u, article em, article del, article s')]
              .filter(e => ['bold', 'it', 'u', 'rst', 'em', 's', 'Unified'].includes(e.textContent)).length,
      math: document.querySelectorAll('.math, mjx-container, .substitution').length,
    })""")


@slow
def test_no_element_is_injected_and_no_script_runs_in_a_browser(site):
    visited = [site.lea_page(k) for k in LEA_CDS] + [site.p.html / "book" / f for f in (
        "leas/index.html", "leas/08/index.html", "run_status.html", "statewide.html", "data_quality.html",
        "impact.html")]
    dialogs: list[str] = []
    foreign: list[str] = []
    with serve(site.p.html) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((base, "data:")) else None)
        for path in visited:
            page.goto(base + path.relative_to(site.p.html).as_posix())
            page.wait_for_load_state("networkidle")
            page.hover("article")
            assert dom_findings(page) == dict.fromkeys(
                ("handlers", "script_links", "images", "scripts", "markup", "math"), 0), path
        page.goto(base + site.lea_page("dncusd").relative_to(site.p.html).as_posix())
        title = f"{shown(site.corpus.lea('dncusd'))} ({LEA_CDS['dncusd']})"
        heading = page.locator("article h1").first.evaluate(
            "h => { const c = h.cloneNode(true); c.querySelectorAll('.headerlink').forEach(a => a.remove());"
            " return c.textContent; }")
        assert shown(heading) == title
        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / "escaped-names.png"), full_page=True)
        for query in (text.plain(site.corpus.lea("dncusd")), "onerror"):  # the whole title; a word in it
            page.goto(base + "search.html?q=" + quote(query))
            page.wait_for_selector("#search-results li", timeout=20000)
            page.wait_for_load_state("networkidle")
            assert dom_findings(page)["images"] == 0 and page.locator("#search-results img").count() == 0
            assert title in [a.inner_text() for a in page.locator("#search-results li > a").all()], query
    assert dialogs == [] and foreign == [], (dialogs, foreign)
    assert all(urlparse(u).hostname != "127.0.0.1" or u.startswith(base) for u in foreign)


@slow
def test_pdfs_show_every_name_as_text(site):
    for key in LEA_CDS:
        assert hostile.in_pdf(site.corpus.lea(key)) in hostile.pdf_text(site.lea_pdf(key)), key
    dncusd = hostile.pdf_text(site.lea_pdf("dncusd"))
    for old in hostile.DNCUSD_SCHOOLS:
        assert hostile.in_pdf(site.corpus.names[old]) in dncusd, old
    assert hostile.in_pdf(UNICODE) in dncusd and hostile.in_pdf("27.86") in dncusd
    report = hostile.pdf_text(pdf.out_dir(site.p) / pdf.REPORT)
    for name in [site.corpus.lea(k) for k in LEA_CDS] + [site.corpus.county]:
        assert hostile.in_pdf(name) in report, name[:80]
    assert page_images(site.lea_pdf("dncusd"), ARTIFACTS / "pdf-escaping")


def offered_csv(site, lea: str, table: str) -> str:
    """An LEA table's CSV as the site offers it: in the zip of its page's CSVs."""
    [offered] = (site.p.html / "book" / "leas" / "08").glob(f"{LEA_CDS[lea]}-*.csv.zip")
    with zipfile.ZipFile(offered) as z:
        return z.read(offered.name.replace(".csv.zip", f".{table}.csv")).decode("utf-8")


@slow
def test_csvs_hold_the_names_exactly(site):
    rows = list(csv.DictReader(io.StringIO(offered_csv(site, "dncusd", "schools"), newline="")))
    assert {site.corpus.names[old] for old in hostile.DNCUSD_SCHOOLS} | {UNICODE} <= {r["school"] for r in rows}
    named = {r["school"] for r in csv.DictReader(io.StringIO(offered_csv(site, "coe", "schools"), newline=""))}
    assert "'" + site.corpus.names["Elk Creek"] in named  # a formula's text, shown as text by a spreadsheet
    index = site.p.html / "book" / "_data" / "tab-all-leas.csv"
    rows = list(csv.DictReader(io.StringIO(index.read_bytes().decode("utf-8"), newline="")))
    assert {r["LEA"] for r in rows} == {site.corpus.lea(k) for k in LEA_CDS}


@slow
def test_a_final_build_has_no_banner_and_publishes(site, tmp_path):
    assert json.loads((site.p.html / "release.json").read_text())["release"] == "final"
    assert "PRELIMINARY" not in site.lea_page("dncusd").read_text(encoding="utf-8")
    assert all("PRELIMINARY" not in page for page in pdf_pages(site.lea_pdf("dncusd")))
    result = cli(site.p.root, "publish", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "index.html").exists() and (tmp_path / "out" / "pdf" / pdf.REPORT).exists()
    shutil.rmtree(tmp_path / "out")
