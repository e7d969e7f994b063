"""What a reviewer reads (the built sample site, `built_site`): CSVs with join keys at stable paths, no CDE
codes in the text, every page's footer stating what it was built from, no table or caption cut off at
1280 px, and the same bytes whether the site is built clean or after other builds."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from helpers.core.paths import Paths
from helpers.site import release

from .site_build import browser, serve, steps

pytestmark = pytest.mark.slow
DATA = "book/_data"  # the chapters' CSVs in the site (helpers.site.myst.DATA)
PAGE_TYPES = ("book/intro.html", "book/assessments.html", "book/methods.html", "book/statewide.html",
              "book/impact.html", "book/data_quality.html", "book/leas/index.html", "book/leas/08/index.html",
              "book/run_status.html")  # chapters, the LEA index, the county index, run status (+ every LEA page)
LAYOUT_JS = (Path(__file__).with_name("layout_check.js")).read_text(encoding="utf-8")


def pages(p: Paths) -> list[Path]:
    return [f for f in sorted(p.html.rglob("*.html")) if "_static" not in f.relative_to(p.html).parts]


def themed(p: Paths) -> list[Path]:
    """The pages the theme lays out (not the root's redirect to the first page)."""
    return [f for f in pages(p) if "bd-header-announcement" in f.read_text(encoding="utf-8")]


def header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text, newline="")))


def site_csvs(html: Path) -> dict[str, str]:
    """Every CSV the site offers, by its path (an LEA page's, in its page's zip: `<zip>/<file>`), with its text."""
    found = {f.relative_to(html).as_posix(): f.read_text(encoding="utf-8") for f in html.rglob("*.csv")}
    for offered in html.glob("book/leas/**/*.csv.zip"):
        with zipfile.ZipFile(offered) as z:
            found |= {f"{offered.relative_to(html).as_posix()}/{n}": z.read(n).decode("utf-8") for n in z.namelist()}
    return found


# ---------------------------------------------------------------- CSVs


def test_every_csv_has_named_columns_and_each_lea_csv_its_join_keys(built_site):
    found = site_csvs(built_site.html)
    lea = {path: text for path, text in found.items() if path.startswith("book/leas/")}
    assert len(found) > 80 and len(lea) >= 30
    assert all(".csv.zip/" in path for path in lea)  # an LEA page's CSVs are offered in its zip only
    for path, text in found.items():
        assert "" not in header(text) and len(set(header(text))) == len(header(text)), path
    for path, text in lea.items():
        names = set(header(text))
        assert {"cds", "year", "test"} <= names and names & {"entity_name", "entity", "school"}, path
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        assert frame["cds"].str.fullmatch(r"\d{14}").all() and frame["year"].str.fullmatch(r"20\d\d").all(), path


def test_chapter_csvs_have_stable_readable_paths(built_site):
    html = built_site.html
    assert not (html / "_downloads").exists()  # no Sphinx download copies under hashed folders
    data = sorted(f.name for f in (html / DATA).glob("*.csv"))
    assert {"tab-all-leas.csv", "tab-leas-08.csv", "tab-columns-levels.csv", "tab-change-log.csv"} <= set(data)
    linked = set()
    for page in pages(built_site):
        for a in BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select("p.caaspp-csv a"):
            target = (page.parent / a["href"]).resolve()
            assert target.is_file() and a.has_attr("download"), (page, a["href"])
            if target.parent == (html / DATA).resolve():
                linked.add(target.name)
    assert linked == set(data)  # every chapter CSV is linked, and from its page by a plain relative link


# ---------------------------------------------------------------- no CDE codes in the text

CODES = re.compile(r"\bGrade 1[34]\b|\bTest ID \d+|% level \d|\bstudent_group_id\b|\btype_id\b|\btest_id\b")


def visible_text(page: Path) -> str:
    """The page's text without scripts, and without the column dictionary (which names CSV columns on
    purpose): its tables `tab-columns-*` and the code spans naming columns."""
    doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for node in doc.select("script, style, table[id^=tab-columns-], code"):
        node.decompose()
    return " ".join(doc.get_text(" ").split())


def test_no_internal_codes_in_prose_or_tables(built_site):
    found = {}
    for page in pages(built_site):
        hits = sorted({m.group(0) for m in CODES.finditer(visible_text(page))})
        if hits:
            found[page.relative_to(built_site.html).as_posix()] = hits
    assert found == {}
    methods = (built_site.html / "book" / "methods.html").read_text(encoding="utf-8")
    assert "student_group_id" in methods and "type_id" in methods  # the dictionary does list the columns
    data_quality = visible_text(built_site.html / "book" / "data_quality.html")
    assert "All Grades" in data_quality and "ELA" in data_quality


# ---------------------------------------------------------------- the footer


def test_every_page_footer_states_data_version_commit_and_params(built_site):
    record = release.read_record(built_site.html)
    want = {key: record[key] or "unknown" for key, _ in release.FOOTER_FIELDS}
    assert len(want["data_sha256"]) == len(want["params_sha256"]) == 64
    checked = themed(built_site)
    assert len(checked) == len(pages(built_site)) - 1  # all but the root's redirect
    for page in checked:
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        [footer] = doc.select("footer p.caaspp-provenance")
        shown = {key: footer.select_one(f"code.caaspp-{key.replace('_', '-')}").get_text() for key in want}
        assert shown == want, page


# ---------------------------------------------------------------- layout at 1280 px


def test_no_table_column_or_caption_is_cut_off_at_1280_px(built_site):
    lea = sorted(f.relative_to(built_site.html).as_posix() for f in (built_site.html / "book/leas/08").glob("0*.html"))
    problems, tables = [], 0
    with serve(built_site.html) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        for rel in (*PAGE_TYPES, *lea):
            page.goto(base + rel)
            page.wait_for_load_state("networkidle")
            result = page.evaluate(LAYOUT_JS)
            tables += result["tables"]
            problems += [f"{rel}: {p}" for p in result["problems"]]
    assert tables > 60 and problems == []


# ---------------------------------------------------------------- the same bytes after other builds


def files(html: Path) -> dict[str, bytes]:
    return {f.relative_to(html).as_posix(): f.read_bytes() for f in sorted(html.rglob("*")) if f.is_file()}


def rename_lea(tables: Path, old: str, new: str) -> None:
    for f in sorted(tables.glob("*.parquet")):
        frame = pd.read_parquet(f)
        if "entity_name" in frame:
            frame.assign(entity_name=frame["entity_name"].replace(old, new)).to_parquet(f)


def test_a_site_rebuilt_after_other_data_is_the_same_bytes_as_built_clean(built_site, tmp_path):
    """A copy of the built project gets one LEA renamed in its tables (run and built: other pages, another
    LEA page name, other search words), then its original tables and run outputs back (as files written now:
    newer than the build) and is built again: every file of the site equals the clean build's."""
    root = tmp_path / "project"
    shutil.copytree(built_site.root, root, symlinks=True)
    p = Paths(root)
    kept = tmp_path / "kept"
    shutil.copytree(p.tables, kept / "tables")
    shutil.copytree(p.leas, kept / "leas")
    rename_lea(p.tables, "Del Norte County Office of Education", "Renamed County Office")
    steps(root, ("run", "--jobs", "2"), ("build", "--release", "preliminary"))
    assert "Renamed County Office" in (p.html / "book" / "leas" / "08" / "index.html").read_text(encoding="utf-8")
    for src, dst in ((kept / "tables", p.tables), (kept / "leas", p.leas)):
        shutil.rmtree(dst)
        shutil.copytree(src, dst, copy_function=shutil.copy)
    steps(root, ("build", "--release", "preliminary"))
    clean, again = files(built_site.html), files(p.html)
    assert sorted(again) == sorted(clean)
    assert [name for name in clean if clean[name] != again[name]] == []
