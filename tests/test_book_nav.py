"""The book's navigation from the manifest: the LEA index and county pages (with their filter box) and
_toc.yml; unchanged files keep their bytes and mtimes (incremental builds)."""

from __future__ import annotations

import yaml

from helpers.core.manifest import LeaRecord
from helpers.site import book


def rec(cds: str, name: str, county: str, county_name: str, status: str = "ok") -> LeaRecord:
    return LeaRecord(cds, 2023, name, county, county_name, 6, f"book/leas/{county}/{cds}-x.ipynb", "h", status, 1.0)


RECORDS = [
    rec("19647330000000", "Los Angeles Unified", "19", "Los Angeles County"),
    rec("01611190000000", "Alameda Unified", "01", "Alameda County", "skipped"),
    rec("01100170112607", "Envision | Academy", "01", "Alameda County", "failed"),
]


def test_county_pages_list_every_lea_and_link_the_built_ones(tmp_path):
    leas = tmp_path / "book" / "leas"
    written = book.write_county_pages(RECORDS, tmp_path, leas)
    assert written == [leas / "index.md", leas / "01" / "index.md", leas / "19" / "index.md"]
    alameda = (leas / "01" / "index.md").read_text()
    assert alameda.startswith("# Alameda County\n")  # not "Alameda County County"
    assert "| [Envision \\| Academy](01100170112607-x.failed.md) | 01100170112607 | District | not built (failed) |" \
        in alameda  # the page that says it failed
    assert "| [Alameda Unified](01611190000000-x.ipynb) | 01611190000000 | District | report |" in alameda
    assert alameda.index("01100170112607") < alameda.index("01611190000000")  # CDS order
    assert 'data-table="tab-leas-01"' in alameda and ":name: tab-leas-01" in alameda
    index = (leas / "index.md").read_text()
    assert "2 LEA reports in 2 counties" in index
    assert "[Los Angeles Unified](19/19647330000000-x.ipynb)" in index and "- [Alameda County](01/index.md) (2 LEAs)" in index
    assert "- [Los Angeles County](19/index.md) (1 LEA)" in index


def test_one_county_is_not_counties(tmp_path):
    leas = tmp_path / "book" / "leas"
    book.write_county_pages(RECORDS[:1], tmp_path, leas)
    assert "1 LEA report in 1 county." in (leas / "index.md").read_text()


def test_toc_has_counties_as_chapters_and_built_leas_as_sections(tmp_path):
    leas = tmp_path / "book" / "leas"
    toc = book.toc(RECORDS, tmp_path, leas)
    part = toc["parts"][1]
    assert part["caption"] == "LEA reports"
    assert [c["file"] for c in part["chapters"]] == ["book/leas/index", "book/leas/01/index", "book/leas/19/index"]
    assert part["chapters"][1]["sections"] == [{"file": "book/leas/01/01100170112607-x.failed"},  # failed: its page
                                               {"file": "book/leas/01/01611190000000-x"}]  # skipped is built
    assert part["chapters"][2]["sections"] == [{"file": "book/leas/19/19647330000000-x"}]


def test_navigation_files_are_byte_stable_and_not_rewritten(tmp_path):
    leas = tmp_path / "book" / "leas"
    toc = tmp_path / "_build" / ".config" / "_toc.yml"
    files = book.write_county_pages(RECORDS, tmp_path, leas) + [book.write_toc(RECORDS, tmp_path, leas, toc)]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    again = book.write_county_pages(list(reversed(RECORDS)), tmp_path, leas) + [
        book.write_toc(RECORDS, tmp_path, leas, toc)]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in again} == before
    assert yaml.safe_load(toc.read_text())["root"] == "book/intro"
    assert not (tmp_path / "_toc.yml").exists()  # the checkout's files are not rewritten


def test_a_failed_lea_gets_a_page_saying_when_it_failed_and_the_page_goes_when_it_no_longer_fails(tmp_path):
    leas = tmp_path / "book" / "leas"
    failed = rec("01100170112607", "Envision | Academy", "01", "Alameda County", "failed")
    failed.error, failed.failed_cell, failed.failed_at = "KeyError: `x` [link](y)", 3, "2025-05-01 12:34 UTC"
    [page] = book.write_failure_pages([RECORDS[0], failed], tmp_path, leas)
    assert page == leas / "01" / "01100170112607-x.failed.md"
    text = page.read_text()
    assert text.startswith("# Envision \\| Academy (01100170112607)\n")
    assert "failed in cell 3 (2025-05-01 12:34 UTC)" in text and "no earlier report of this LEA is published" in text
    assert "```text\nKeyError: `x` [link](y)\n```" in text  # the error verbatim, never Markdown
    assert "[run status](../../run_status.md)" in text
    assert book.write_failure_pages([RECORDS[0]], tmp_path, leas) == [] and not page.exists()
