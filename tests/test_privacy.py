"""The privacy scan of built files and the scrubbing of notebook metadata."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from helpers.publish import privacy
from helpers.site import notebooks

from .conftest import DNCUSD

HEADER = ["year", "cds", "entity_name", "enrolled", "tested", "with_scores", "pct_met_and_above"]


def findings(rows, header=HEADER, year=None):
    return privacy.table_findings(header, rows, year)


@pytest.mark.parametrize("year,count,flagged", [(2022, "3", True), (2022, "1", True), (2022, "4", False),
                                                (2022, "0", False), (2018, "10", True), (2018, "11", False),
                                                (2022, "*", False), (2022, "–", False)])
def test_counts_below_the_years_threshold_are_flagged(year, count, flagged):
    row = [str(year), DNCUSD, "X", count, "40", "40", "12.50"]
    assert bool(findings([row])) is flagged


def test_results_shown_for_too_few_students_are_flagged_but_stars_are_not():
    assert findings([["2022", DNCUSD, "X", "12", "10", "10", "30.00"]])[0].startswith("results ['pct_met_and_above']")
    assert findings([["2022", DNCUSD, "X", "12", "10", "10", "*"]]) == []
    assert findings([["2022", DNCUSD, "X", "12", "11", "11", "30.00"]]) == []


def test_years_codes_and_other_columns_are_not_judged():
    header = ["Year", "CDS code", "With scores", "% Met and Above", "county_pct_met_and_above", "n_grades"]
    assert findings([["2022", "08000000000003", "1,748", "27.86", "2.00", "3"]], header) == []
    # display labels are read too, and the page's year stands in when the table has none
    assert findings([["Del Norte", "2"]], ["Entity", "Tested"], year=2022)
    assert findings([["Del Norte", "2"]], ["Entity", "Tested"], year=None) == []


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_scan_reads_csv_html_and_notebook_tables(tmp_path):
    site = tmp_path / "html"
    write(site, "a.csv", "test,entity,enrolled,tested,with_scores,pct_met_and_above\nELA,X,5,2,2,*\n")
    write(site, "b.html", "<table><tr><th>Enrolled</th><th>Tested</th></tr><tr><td>1,234</td><td>3</td></tr></table>")
    html = "<table><thead><tr><th>With scores</th><th>% Met</th></tr></thead><tr><td>7</td><td>14.29</td></tr></table>"
    write(site, "c.ipynb", json.dumps({"cells": [{"cell_type": "code", "outputs": [{"data": {"text/html": html}}]}],
                                       "metadata": {}}))
    found = privacy.scan([site], tmp_path, 2022)
    kinds = sorted((f.path, f.kind) for f in found)
    assert kinds == [("html/a.csv", "small-count"), ("html/a.csv", "small-count"), ("html/b.html", "small-count"),
                     ("html/c.ipynb", "small-results")]


def test_scan_flags_student_ids_paths_and_secrets_but_not_cds_codes(tmp_path):
    site = tmp_path / "html"
    write(site, "ok.html", f"<p>{DNCUSD} 2022 sha 1234567890abcdef 3,092,716 08618200</p>")
    write(site, "ssid.txt", "student 1234567890 scored")
    write(site, "path.html", f"<p>made in {tmp_path}/x and /root/.cache and /home/ann/y</p>")
    write(site, "secret.json", '{"x": "s3cr3t-v4lue-123"}')
    write(site, "_static/theme.js", "var max = 2147483647; // vendored code: numbers are not IDs")
    env = {"GITHUB_TOKEN": "s3cr3t-v4lue-123", "API_KEY": "short", "HOME": "/root"}
    found = privacy.scan([site], tmp_path, 2022, known_codes={DNCUSD}, environ=env)
    by_file = {}
    for f in found:
        by_file.setdefault(f.path, set()).add(f.kind)
    assert by_file == {"html/ssid.txt": {"ssid"}, "html/path.html": {"machine-path"}, "html/secret.json": {"secret"}}
    assert all("s3cr3t" not in str(f) for f in found)  # findings name the variable, never the value
    assert "10-digit" in next(str(f) for f in found if f.kind == "ssid")


@pytest.mark.parametrize("name,text", [
    ("ids.tsv", "entity\t1234567890\tx\n"), ("ids.dat", "a,1234567890,b\n"), ("export", "id: 1234567890.\n"),
    ("ids.csv", "x,1234567890,y\n"), ("ids.log", "(1234567890)"), ("ids.md", "SSID 1234567890."),
    ("caret.txt", "A^1234567890.^B\r\n"), ("end", "1234567890")])
def test_student_ids_are_found_in_any_text_file_and_after_any_delimiter(tmp_path, name, text):
    write(tmp_path / "site", name, text)
    assert [(f.path, f.kind) for f in privacy.scan([tmp_path / "site"], tmp_path, 2022, environ={})] == [
        (f"site/{name}", "ssid")]


def test_numbers_that_are_not_student_ids_are_not_flagged(tmp_path):
    write(tmp_path / "site", "numbers.dat", f"0.1234567890 1234567890.5 12345678901 x1234567890 {DNCUSD} "
                                            "1,234,567,890 a1234567890b 3,092,716\n")
    write(tmp_path / "site", "image.png", "\x00\x01 1234567890 binary")  # a NUL: not text
    assert privacy.scan([tmp_path / "site"], tmp_path, 2022, environ={}) == []


CDE_HEADER = ["County Code", "District Code", "School Code", "Test Year", "Total Tested At Entity Level",
              "Total Tested with Scores at Reporting Level", "Students Enrolled", "Students Tested",
              "Students with Scores", "Mean Scale Score", "Percentage Standard Met and Above"]


@pytest.mark.parametrize("column", ["Total Tested At Entity Level", "Total Tested with Scores at Reporting Level",
                                    "Students Enrolled", "Students Tested", "Students with Scores"])
def test_small_counts_under_cdes_own_column_names_are_flagged(column):
    row = {h: "40" for h in CDE_HEADER} | {"County Code": "08", "District Code": "61820", "School Code": "0000000",
                                           "Test Year": "2022", "Mean Scale Score": "2400.1",
                                           "Percentage Standard Met and Above": "*", column: "2"}
    found = findings([[row[h] for h in CDE_HEADER]], CDE_HEADER)
    kind = "with_scores" if "Scores" in column else "enrolled" if "Enrolled" in column else "tested"
    assert found[0] == f"{kind} 2 < 4 (year 2022) in row ['08', '61820', '0000000']"
    # the row's own students with scores decide whether its results may be shown, not the entity's total
    assert len(found) == (2 if column == "Students with Scores" else 1), found


def test_results_for_too_few_students_under_cdes_names_are_flagged_in_a_caret_file(tmp_path):
    row = ["08", "61820", "0000000", "2022", "40", "40", "40", "40", "7", "2401.5", "28.57"]
    write(tmp_path / "site", "sb_ca2022_1.txt", "^".join(CDE_HEADER) + "\r\n" + "^".join(row) + "\r\n")
    found = privacy.scan([tmp_path / "site"], tmp_path, None, environ={})
    assert [(f.path, f.kind) for f in found] == [("site/sb_ca2022_1.txt", "small-results")]
    assert "['Mean Scale Score', 'Percentage Standard Met and Above'] shown for 7" in found[0].detail


def test_a_malformed_notebook_or_pdf_is_a_named_finding(tmp_path):
    write(tmp_path / "site", "broken.ipynb", '{"cells": [')
    write(tmp_path / "site", "broken.pdf", "%PDF-1.7 not really")
    write(tmp_path / "site", "fine.html", "<p>ok</p>")
    found = {(f.path, f.kind): f.detail for f in privacy.scan([tmp_path / "site"], tmp_path, 2022, environ={})}
    assert set(found) == {("site/broken.ipynb", "unreadable"), ("site/broken.pdf", "unreadable")}
    assert found[("site/broken.ipynb", "unreadable")].startswith("not a readable notebook")
    assert found[("site/broken.pdf", "unreadable")].startswith("not a readable PDF")


def test_a_single_file_can_be_scanned(tmp_path):
    path = write(tmp_path, "one.txt", "student 1234567890")
    assert [(f.path, f.kind) for f in privacy.scan([path], tmp_path, 2022, environ={})] == [("one.txt", "ssid")]


def test_a_zip_too_large_unzipped_or_nested_too_deep_is_unreadable_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(privacy, "ZIP_ENTRY_MAX", 1000)
    (tmp_path / "site").mkdir()
    with zipfile.ZipFile(tmp_path / "site" / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.txt", "0" * 1001)
    nested = b"student 1234567890"
    for level in range(3, 0, -1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(f"level{level}.zip" if level < 3 else "ids.txt", nested)
        nested = buffer.getvalue()
    (tmp_path / "site" / "deep.zip").write_bytes(nested)  # deep.zip > level1.zip > level2.zip > ids.txt: read
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("deep.zip", nested)
    (tmp_path / "site" / "deeper.zip").write_bytes(buffer.getvalue())  # one zip more: not read
    found = {f.path: (f.kind, f.detail) for f in privacy.scan([tmp_path / "site"], tmp_path, 2022, environ={})}
    assert found["site/bomb.zip"] == ("unreadable", "zeros.txt in the zip is 1,001 bytes unzipped, more than the "
                                                    "1,000 the scan reads")
    assert found["site/deep.zip"][0] == "ssid"
    assert found["site/deeper.zip"] == ("unreadable", "level2.zip in the zip is a zip nested more than 3 deep")


def papermill_notebook(tmp_path: Path, root: Path) -> Path:
    nb = {"cells": [], "metadata": {"papermill": {"input_path": f"{root}/notebooks/lea_report.ipynb",
                                                  "output_path": f"{root}/book/leas/08/.x.tmp.ipynb",
                                                  "parameters": {"store": "data/processed/store"}},
                                    "other": ["/opt/elsewhere/file.txt"]}}
    return write(tmp_path / "_sources", "nb.ipynb", json.dumps(nb))


def test_a_notebook_is_offered_zipped_without_the_machines_paths(tmp_path):
    root = tmp_path / "project"
    path = papermill_notebook(tmp_path, root)
    assert privacy.scan([path], root, 2022, environ={})  # the raw notebook carries the machine's paths
    zipped = notebooks.offer_zipped(path, root)
    assert zipped == tmp_path / "_sources" / "nb.ipynb.zip" and not path.exists()
    with zipfile.ZipFile(zipped) as z:
        assert z.namelist() == ["nb.ipynb"]
        text = z.read("nb.ipynb").decode()
    meta = json.loads(text)["metadata"]
    assert meta["papermill"]["input_path"] == "notebooks/lea_report.ipynb"
    assert meta["papermill"]["output_path"] == "book/leas/08/.x.tmp.ipynb"
    assert meta["other"] == ["file.txt"] and meta["papermill"]["parameters"]["store"] == "data/processed/store"
    assert str(root) not in text and privacy.scan([zipped], root, 2022, environ={}) == []
    assert notebooks.scrubbed(text, root) == text  # a second pass changes nothing
    first = zipped.read_bytes()
    notebooks.offer_zipped(papermill_notebook(tmp_path, root), root)
    assert zipped.read_bytes() == first  # same notebook, same zip (no time of day inside)


def test_the_scan_reads_the_files_inside_a_zip_and_names_them(tmp_path):
    html = "<table><thead><tr><th>With scores</th><th>% Met</th></tr></thead><tr><td>7</td><td>14.29</td></tr></table>"
    nb = json.dumps({"cells": [{"cell_type": "code", "outputs": [{"data": {"text/html": html}}]}], "metadata": {}})
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("ids.txt", "student 1234567890")
    (tmp_path / "site").mkdir()
    with zipfile.ZipFile(tmp_path / "site" / "a.ipynb.zip", "w") as z:
        z.writestr("a.ipynb", nb)
        z.writestr("chart.png", b"\x89PNG\r\n\x1a\n\0\0 1234567890")
        z.writestr("more.zip", inner.getvalue())
    write(tmp_path / "site", "broken.zip", "PK not a zip")
    found = sorted((f.path, f.kind, f.detail) for f in privacy.scan([tmp_path / "site"], tmp_path, 2022, environ={}))
    assert [(path, kind) for path, kind, _ in found] == [("site/a.ipynb.zip", "small-results"),
                                                         ("site/a.ipynb.zip", "ssid"), ("site/broken.zip", "unreadable")]
    assert found[0][2].startswith("a.ipynb in the zip: results ['% Met'] shown for 7 students")
    assert found[1][2] == "more.zip in the zip: ids.txt in the zip: 10-digit number 1234567890 (student ID shape)"
    assert found[2][2].startswith("not a readable zip: File is not a zip file")




def test_the_id_and_path_patterns_find_what_their_look_behind_first_forms_find():
    """SSID and MACHINE_PATHS start with what they match and look behind from there (a pattern starting with a
    look-behind is tried at every character: 2 and 14 times slower on a site): the same matches as the plain
    forms, on random text of digits, letters, dots, slashes and the paths' names."""
    import random

    plain_forms = {privacy.SSID: r"(?<![\w])(?<!\d\.)\d{10}(?![\w])(?!\.\d)",
                   privacy.MACHINE_PATHS: r"(?<![\w.:/~-])/(?:tmp|root|home|Users|var/folders|private/var)/[\w.-]+"}
    pieces = ["0", "1234567890", "12345", "9", "a", "é", ".", "/", ":", "~", "-", " ", "\n", ",", "tmp/", "root/",
              "home", "Users/", "var/folders/", "private/var/", "x.y"]
    rng = random.Random(14)
    text = "".join(rng.choice(pieces) for _ in range(60_000))
    for pattern, plain in plain_forms.items():
        found = [m.span() for m in pattern.finditer(text)]
        assert found == [m.span() for m in re.compile(plain).finditer(text)] and len(found) > 50, pattern.pattern
