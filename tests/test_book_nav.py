"""The book's navigation from the manifest: the LEA index and county pages (with their filter box) and
_toc.yml; unchanged files keep their bytes and mtimes (incremental builds)."""

from __future__ import annotations

from pathlib import Path

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
    assert "| Envision \\| Academy | 01100170112607 | District | not built (failed) |" in alameda
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
    assert part["chapters"][1]["sections"] == [{"file": "book/leas/01/01611190000000-x"}]  # skipped is built
    assert part["chapters"][2]["sections"] == [{"file": "book/leas/19/19647330000000-x"}]


def test_navigation_files_are_byte_stable_and_not_rewritten(tmp_path):
    leas = tmp_path / "book" / "leas"
    files = book.write_county_pages(RECORDS, tmp_path, leas) + [book.write_toc(RECORDS, tmp_path, leas)]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    again = book.write_county_pages(list(reversed(RECORDS)), tmp_path, leas) + [
        book.write_toc(RECORDS, tmp_path, leas)]
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in again} == before
    assert yaml.safe_load(Path(tmp_path / "_toc.yml").read_text())["root"] == "book/intro"
