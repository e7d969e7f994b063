"""helpers.site.notebooks' zip of a notebook page's CSVs and sphinx_pages' links to it: the same CSVs give the
same bytes, an unchanged zip is not written again, and only the page's own CSV links (as
helpers.report.outputs writes them) point at its zip."""

from __future__ import annotations

import os
import re
import zipfile

import pytest

from helpers.report import outputs
from helpers.site import book, notebooks, sphinx_pages, stage

STEM = "01612340000000-newark-unified"


def csvs(folder):
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for table, text in (("summary", "test,pct\nELA,53.66\n"), ("by_grade", "grade,pct\nGrade 3,19.46\n")):
        files.append(folder / f"{STEM}.{table}.csv")
        files[-1].write_text(text, encoding="utf-8")
    return files


def test_the_zip_holds_the_csvs_sorted_and_the_same_csvs_give_the_same_bytes(tmp_path):
    files = csvs(tmp_path / "run")
    first = notebooks.offer_tables(files, tmp_path / "a", STEM)
    second = notebooks.offer_tables(list(reversed(files)), tmp_path / "b", STEM)
    assert first.name == f"{STEM}.csv.zip" and first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as z:
        assert z.namelist() == [f"{STEM}.by_grade.csv", f"{STEM}.summary.csv"]
        assert z.read(f"{STEM}.summary.csv") == b"test,pct\nELA,53.66\n"
        assert {i.date_time for i in z.infolist()} == {notebooks.EPOCH}
        assert re.fullmatch(rb"sha256:[0-9a-f]{64}", z.comment)


def test_a_zip_without_the_digest_of_these_csvs_is_written_again(tmp_path):
    """A zip from an earlier version (same entries, no comment) or not a zip is replaced once."""
    files = csvs(tmp_path / "run")
    target = tmp_path / "site" / notebooks.tables_zip(STEM)
    target.parent.mkdir()
    target.write_bytes(notebooks._zip([(f.name, f.read_bytes()) for f in sorted(files)]))
    os.utime(target, (1, 1))
    notebooks.offer_tables(files, tmp_path / "site", STEM)
    assert target.stat().st_mtime != 1 and zipfile.ZipFile(target).comment.startswith(b"sha256:")
    first = target.read_bytes()
    os.utime(target, (1, 1))
    notebooks.offer_tables(files, tmp_path / "site", STEM)
    assert target.stat().st_mtime == 1
    target.write_bytes(b"not a zip")
    assert notebooks.offer_tables(files, tmp_path / "site", STEM).read_bytes() == first


def test_new_zipping_code_writes_the_zip_again(tmp_path, monkeypatch):
    files = csvs(tmp_path / "run")
    target = notebooks.offer_tables(files, tmp_path / "site", STEM)
    os.utime(target, (1, 1))
    monkeypatch.setattr(notebooks, "_code", lambda: b"a later version of helpers.site.notebooks")
    notebooks.offer_tables(files, tmp_path / "site", STEM)
    assert target.stat().st_mtime != 1


def test_an_unchanged_zip_is_not_written_again_and_a_changed_csv_is(tmp_path):
    files = csvs(tmp_path / "run")
    target = notebooks.offer_tables(files, tmp_path / "site", STEM)
    os.utime(target, (1, 1))
    notebooks.offer_tables(files, tmp_path / "site", STEM)
    assert target.stat().st_mtime == 1
    files[0].write_text("test,pct\nELA,53.67\n", encoding="utf-8")
    notebooks.offer_tables(files, tmp_path / "site", STEM)
    assert target.stat().st_mtime != 1
    assert b"53.67" in zipfile.ZipFile(target).read(files[0].name)
    os.utime(target, (1, 1))
    files[1].rename(files[1].with_name(f"{STEM}.by_group.csv"))  # the same bytes under another name
    notebooks.offer_tables([files[0], files[1].with_name(f"{STEM}.by_group.csv")], tmp_path / "site", STEM)
    assert target.stat().st_mtime != 1
    assert zipfile.ZipFile(target).namelist() == [f"{STEM}.by_group.csv", f"{STEM}.summary.csv"]
    assert sorted(f.name for f in (tmp_path / "site").iterdir()) == [target.name]  # no temporary file left


def test_the_pages_csv_links_point_at_its_zip_and_name_the_table():
    link = outputs.csv_link(STEM, "by_group")  # the form the notebook writes
    assert sphinx_pages.zipped_csv_links(f"<table></table>{link}", STEM) == (
        f'<table></table><p class="caaspp-csv"><a href="{STEM}.csv.zip" download>Download the tables of this page '
        f'(CSV, zip)</a>: this table is <code>{STEM}.by_group.csv</code></p>')


def test_links_to_another_pages_csvs_and_other_links_are_left_alone():
    other = outputs.csv_link("01000000000000-other", "summary")
    assert sphinx_pages.zipped_csv_links(other, STEM) == other
    chapter = '<p class="caaspp-csv"><a href="../_data/tab-x.csv" download>Download this table (CSV)</a></p>'
    assert sphinx_pages.zipped_csv_links(chapter, STEM) == chapter


def test_a_build_removes_loose_csvs_of_earlier_builds_zips_of_pages_gone_and_source_maps(tmp_path):
    folder = tmp_path / "book" / "leas" / "01"
    folder.mkdir(parents=True)
    for name in (f"{STEM}.csv.zip", f"{STEM}.summary.csv", "01000000000000-gone.csv.zip", f"{STEM}.html"):
        (folder / name).write_text("x")
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    for name in ("theme.js", "theme.js.map"):
        (scripts / name).write_text("x")
    removed = stage.prune(tmp_path, {f"book/leas/01/{STEM}"}, {f"book/leas/01/{STEM}.csv.zip"})
    assert sorted(removed) == ["_static/scripts/theme.js.map", "book/leas/01/01000000000000-gone.csv.zip",
                               f"book/leas/01/{STEM}.summary.csv"]
    assert sorted(f.name for f in folder.iterdir()) == [f"{STEM}.csv.zip", f"{STEM}.html"]
    assert [f.name for f in scripts.iterdir()] == ["theme.js"]


def test_the_chapters_csvs_are_copied_into_the_site_when_sphinx_copies_nothing(tmp_path):
    """Sphinx copies html_extra_path only when a page was out of date. A chapter CSV removed from the staged
    site and written again with no page changed (the statewide warm bench after a failed build) is copied by
    the build itself; temporary files of an interrupted write are not."""
    extra, html = tmp_path / "extra", tmp_path / "html"
    (extra / "book" / "_data").mkdir(parents=True)
    (extra / "book" / "_data" / "a.csv").write_text("x\n1\n")
    (extra / "book" / "_data" / "b.csv").write_text("y\n2\n")
    (extra / "book" / "_data" / ".c.csv.12.34.tmp").write_text("partial")
    (html / "book" / "_data").mkdir(parents=True)
    (html / "book" / "_data" / "a.csv").write_text("x\n0\n")  # an older build's bytes
    assert book.copy_extra(extra, html) == ["book/_data/a.csv", "book/_data/b.csv"]
    assert sorted(p.name for p in (html / "book" / "_data").iterdir()) == ["a.csv", "b.csv"]
    assert (html / "book" / "_data" / "a.csv").read_text() == "x\n1\n"
    assert book.copy_extra(extra, html) == []


def test_zipping_in_threads_gives_the_same_files_and_an_error_stops_it(tmp_path):
    """finish_site zips every notebook copy and every page's CSVs in `jobs` threads (book._threaded): the same
    zips as one thread, each call its own file, and a failing call's error is raised."""
    sites = {}
    for jobs in (1, 2):
        site = tmp_path / f"site{jobs}"
        calls = []
        for k in range(6):
            copy = site / "_sources" / f"{k:02d}-lea.ipynb"
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text('{"metadata": {"papermill": {"input_path": "/elsewhere/x.ipynb"}}}\n', encoding="utf-8")
            calls.append((copy, tmp_path))
        zips = book._threaded(notebooks.offer_zipped, calls, jobs)
        tables = book._threaded(notebooks.offer_tables, [(csvs(tmp_path / "run"), site / "leas", STEM)], jobs)
        assert [z.name for z in zips] == [f"{k:02d}-lea.ipynb.zip" for k in range(6)]
        assert not list((site / "_sources").glob("*.ipynb")) and tables == [site / "leas" / f"{STEM}.csv.zip"]
        sites[jobs] = {f.relative_to(site).as_posix(): f.read_bytes() for f in sorted(site.rglob("*")) if f.is_file()}
    assert sites[1] == sites[2] and len(sites[2]) == 7
    with zipfile.ZipFile(tmp_path / "site2" / "_sources" / "03-lea.ipynb.zip") as z:
        assert '"input_path": "x.ipynb"' in z.read("03-lea.ipynb").decode()
    with pytest.raises(FileNotFoundError, match="gone.ipynb"):
        book._threaded(notebooks.offer_zipped, [(tmp_path / "site2" / "_sources" / "gone.ipynb", tmp_path)], 2)
