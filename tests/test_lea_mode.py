"""LEA mode (`caaspp-book lea`): the confidential internal book from a seeded synthetic Student Score Data
File of Del Norte County Unified, with and without the public sample; the SSID never leaves the reader;
the three header dialects give the same tables; `publish` refuses the build."""

from __future__ import annotations

import re
import shutil
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from helpers import cli
from helpers.core.errors import InputError
from helpers.core.paths import Paths
from helpers.ingest import build as ingest
from helpers.lea_mode import book as lea_mode
from helpers.publish import export as publishing
from helpers.publish import links
from helpers.publish import pdf as pdfs
from helpers.publish import privacy
from helpers.report import lea_sections
from helpers.site import release
from helpers.stats import lea_tables
from helpers.synth.students import (
    add_score_details,
    district,
    students_for_lea,
    write_student_file,
)

from .conftest import DNCUSD, ROOT, SAMPLE

CUSTOM = ROOT / "params" / "custom" / "example_grades_6_8_el.yml"
SAME_TABLES = ("levels", "comparison", "reconciliation", "summary", "bars", "accuracy")
NAME_COLUMNS = re.compile(r"ssid|first.?name|last.?name|middle.?name|birth", re.I)


def scratch(root: Path) -> Paths:
    """A project folder of its own: config, notebooks and static files (params come from the checkout)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "book" / "_static", root / "book" / "_static")
    return Paths(root)


@pytest.fixture(scope="module")
def students(sample_store: Path) -> pd.DataFrame:
    return add_score_details(students_for_lea(sample_store, DNCUSD, 2022, seed=0), seed=0)


@pytest.fixture(scope="module")
def student_file(students: pd.DataFrame, tmp_path_factory) -> Path:
    return write_student_file(students, tmp_path_factory.mktemp("toms") / "dncusd_2022.txt", "camel")


def html_snapshot() -> dict[str, float]:
    html = ROOT / "_build" / "html"
    return {p.as_posix(): p.stat().st_mtime for p in html.rglob("*")} if html.exists() else {}


@pytest.fixture(scope="module")
def built(student_file: Path, tmp_path_factory) -> tuple[Paths, lea_mode.Result, dict, dict, float]:
    """A preliminary LEA-mode book with the public sample and the example custom spec."""
    before = html_snapshot()
    p = scratch(tmp_path_factory.mktemp("lea") / "project")
    start = time.perf_counter()
    result = lea_mode.run(p, student_file, DNCUSD, [SAMPLE], [CUSTOM], status="preliminary")
    return p, result, before, html_snapshot(), time.perf_counter() - start


@pytest.fixture(scope="module")
def built_alone(student_file: Path, tmp_path_factory) -> tuple[Paths, lea_mode.Result]:
    """A final LEA-mode book from the student file alone (no research file)."""
    p = scratch(tmp_path_factory.mktemp("lea_alone") / "project")
    return p, lea_mode.run(p, student_file, DNCUSD, status="final")


def pages(result: lea_mode.Result) -> list[Path]:
    found = [f for f in result.paths.html.rglob("*.html") if "_static" not in f.parts]  # not theme templates
    return sorted(f for f in found if 'http-equiv="Refresh"' not in f.read_text(encoding="utf-8"))  # nor redirects


def digit_windows(text: str) -> set[str]:
    """Every 10-digit substring of the text's digit runs (an SSID hidden in a longer number too)."""
    return {run[i:i + 10] for run in re.findall(r"\d{10,}", text) for i in range(len(run) - 9)}


# ---------------------------------------------------------------- fast: the pieces


def test_ingest_without_a_research_file(student_file, tmp_path):
    tables = ingest.ingest([student_file], tmp_path / "store", require_results=False)
    assert len(tables["students"]) > 0 and tables.rows("results") == 0
    with pytest.raises(InputError, match="no research"):
        ingest.ingest([student_file], tmp_path / "again")  # the public pipeline still needs one
    with pytest.raises(InputError, match="nothing to report"):
        ingest.ingest([SAMPLE / "lookups"], tmp_path / "none", require_results=False)


def test_student_file_must_come_first_and_cds_must_be_valid(tmp_path):
    research = next((SAMPLE / "research").glob("sb_ca2022*"))
    with pytest.raises(InputError, match=r"line 1.*not a TOMS Student Score Data File"):
        lea_mode.check_student_file(research)
    p = Paths(tmp_path)
    with pytest.raises(ValueError, match="14-digit"):
        lea_mode.lea_paths(p, "0861820")
    with pytest.raises(ValueError, match="public site"):
        lea_mode.lea_paths(p, DNCUSD, tmp_path / "_build" / "html" / "lea")
    assert lea_mode.lea_paths(p, DNCUSD).out == (tmp_path / "_build" / "lea" / DNCUSD).resolve()


def test_unknown_lea_names_the_file(student_file, tmp_path):
    lp = lea_mode.lea_paths(Paths(tmp_path), "01611190000000")
    lea_mode.ingest(lp, student_file, [])
    with pytest.raises(InputError, match=r"dncusd_2022\.txt.*no student records of LEA 01611190000000"):
        lea_mode.compute(lp, [])


def test_banner_is_confidential_plus_release_status():
    assert release.announcement("final") == ""  # the public final site has none
    final, prelim = release.announcement("final", confidential=True), release.announcement("preliminary", True)
    assert final.startswith("<strong>CONFIDENTIAL</strong>") and "final" in final
    assert "PRELIMINARY" in prelim and "CONFIDENTIAL" in prelim


def test_each_dialect_gives_the_same_tables(students, tmp_path):
    got = {}
    for dialect in ("camel", "spaced", "w401"):
        path = write_student_file(students, tmp_path / f"{dialect}.txt", dialect)
        lp = lea_mode.lea_paths(Paths(tmp_path / dialect), DNCUSD)
        lea_mode.ingest(lp, path, [SAMPLE])
        got[dialect] = lea_mode.compute(lp, [CUSTOM])
    for name in SAME_TABLES + ("custom_grades_6_8_el",):
        for dialect in ("spaced", "w401"):
            pd.testing.assert_frame_equal(got[dialect][name], got["camel"][name], obj=f"{dialect} {name}")
    assert len(got["camel"]["comparison"]) > 0 and got["camel"]["levels"]["source"].eq("computed").any()
    own = got["camel"]["levels"]
    assert set(own.loc[own["source"] == "computed", "type_id"]) <= {6, 7, 9, 10}  # no county or state rows
    assert got["spaced"]["measures"].empty and not got["camel"]["measures"].empty  # spaced has no Lexile field


def test_records_of_other_leas_are_counted_and_listed_by_kind(students, tmp_path):
    other = students.head(20).assign(lea_cds="01611920000000", cds="01611920130229", county_code="01",
                                     district_code="61192", school_code="0130229")
    charter = students.iloc[20:23].assign(lea_cds="08618200123456", cds="08618200123456", school_code="0123456")
    mixed = pd.concat([students.iloc[23:], other, charter], ignore_index=True)
    path = write_student_file(mixed, tmp_path / "mixed.txt", "camel")
    lp = lea_mode.lea_paths(Paths(tmp_path / "p"), DNCUSD)
    lea_mode.ingest(lp, path, [])
    computed = lea_mode.compute(lp, [])
    counts = computed["issue_counts"].set_index("kind")["records"].to_dict()
    assert counts == {"record of another LEA: 01611920000000": 20, "record of another LEA: 08618200123456": 3}
    issues = computed["issues"]
    assert issues["line"].tolist() == list(range(len(students) - 23 + 2, len(students) + 2))
    assert set(issues["field"]) == {"CALPADSDistrictCode"} and set(issues["file"]) == {"mixed.txt"}
    inputs = computed["inputs"].set_index("kind")
    assert (inputs.at["students", "rows_read"], inputs.at["students", "kept"]) == (len(mixed), len(mixed) - 23)
    book = lea_sections.Book(DNCUSD, 2022, "Del Norte", "final", "report", computed)
    said = lea_sections.data_quality(book)[0].data
    assert said.startswith(f"{len(mixed):,} records read, {len(mixed) - 23:,} kept, 23 excluded: 0 bad records "
                           "and 23 records of other LEAs;"), said


def test_school_pages_escape_names_and_link_their_csv(students, tmp_path):
    path = write_student_file(students, tmp_path / "f.txt", "camel")
    lp = lea_mode.lea_paths(Paths(tmp_path / "p"), DNCUSD)
    lea_mode.ingest(lp, path, [])
    computed = lea_mode.compute(lp, [])
    school = next(c for c in computed["levels"]["cds"] if c != DNCUSD)
    levels = computed["levels"].assign(entity_name=lambda f: f["entity_name"].where(
        f["cds"] != school, "<b>Evil</b> & Co"))
    book = lea_sections.Book(DNCUSD, 2022, "Del Norte", "final", "report", {**computed, "levels": levels})
    pages = lea_sections.school_pages(book)
    computed_cds = levels.loc[levels["source"] == "computed", "cds"].unique()
    assert sorted(pages) == sorted(f"schools/{c}.md" for c in computed_cds)
    text, rows = pages[f"schools/{school}.md"]
    assert text.split("\n")[0] == f"# \\<b\\>Evil\\</b\\> \\& Co ({school})"  # helpers.core.text.md
    assert "<b>Evil" not in text.split("\n", 1)[1]  # the table's cells are escaped (no school column, no raw tag)
    assert f'<a href="{school}.groups.csv" download>' in text
    table_line = next(line for line in text.splitlines() if line.startswith("<table"))
    assert table_line.count("<tr") == len(rows) + 1  # header + one row per test × grade × group
    index = lea_sections.schools_index(book)
    assert f"](schools/{school}.md) | {school} | {len(rows)} |" in index
    text, tables_ = lea_sections.custom_page(lea_mode.compute_custom(lp, [CUSTOM]), 2022)
    assert "\n## Grades 6–8 at three schools, English learners\n" in text and list(tables_) == ["custom_grades_6_8_el"]
    assert '<a href="custom.custom_grades_6_8_el.csv" download>' in text
    assert "No custom aggregate was asked for" in lea_sections.custom_page({}, 2022)[0]


def test_a_changed_spec_changes_only_the_custom_steps_key(student_file, tmp_path):
    p = Paths(ROOT)
    lp = lea_mode.lea_paths(p, DNCUSD, tmp_path / "out")
    edited = tmp_path / CUSTOM.name
    edited.write_text(CUSTOM.read_text(encoding="utf-8").replace("English learners\"", "ELs\""), encoding="utf-8")
    keys = [lea_mode.input_keys(p, lp, student_file, [SAMPLE], [spec], "preliminary") for spec in (CUSTOM, edited)]
    assert [k for k in keys[0] if keys[0][k] != keys[1][k]] == ["custom"]
    final = lea_mode.input_keys(p, lp, student_file, [SAMPLE], [CUSTOM], "final")
    assert [k for k in keys[0] if keys[0][k] != final[k]] == ["report"]  # the status is a parameter of the notebook


# ---------------------------------------------------------------- slow: the whole book


@pytest.mark.slow
def test_lea_book_is_built_apart_from_the_public_site(built):
    p, result, before, after, _ = built
    assert result.ok, result.build.stderr[-3000:] + "\n".join(map(str, result.findings))
    assert result.paths.html == (p.root / "_build" / "lea" / DNCUSD / "html").resolve()
    assert (result.paths.html / "index.html").exists() and (result.paths.html / "report.html").exists()
    assert sorted(x.name for x in (p.root / "_build").iterdir()) == ["lea"]  # no _build/html here
    assert before == after  # nor was the checkout's public site touched
    assert (p.root / "data" / "interim" / "lea" / DNCUSD / "store" / "students.parquet").exists()
    record = release.read_record(result.paths.html)
    assert record["mode"] == "lea" and record["cds"] == DNCUSD and record["release"] == "preliminary"


@pytest.mark.slow
def test_every_page_carries_the_confidential_and_release_banners(built):
    _, result, *_ = built
    assert len(pages(result)) >= 4  # intro, report, search, genindex
    for page in pages(result):
        text = page.read_text(encoding="utf-8")
        assert "CONFIDENTIAL</strong> — internal use only" in text, page.name
        assert release.BANNER_HTML in text, page.name


@pytest.mark.slow
def test_numbers_computed_from_the_synthetic_records_appear(built, students):
    _, result, *_ = built
    sed = students[(students["test_id"] == 1) & (students["grade"] == 5) & students["sed"].eq(True)]
    scored = sed[sed["include_indicator"].eq("Y") & sed["scale_score"].notna()]
    assert len(scored) >= 11
    pct = round(100 * scored["achievement_level"].ge(3).sum() / len(scored) + 1e-9, 2)
    soup = BeautifulSoup((result.paths.html / "report.html").read_text(encoding="utf-8"), "html.parser")
    school = BeautifulSoup((result.paths.html / "schools" / f"{DNCUSD}.html").read_text(encoding="utf-8"),
                           "html.parser")
    assert school.find("a", href=f"{DNCUSD}.groups.csv") is not None
    assert (result.paths.html / "schools" / f"{DNCUSD}.groups.csv").exists()
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in school.find("table").find_all("tr")]
    row = next(r for r in rows if r[:3] == ["ELA", "Grade 5", "Socioeconomically disadvantaged"])
    assert f"{pct:.2f}" in row and str(len(scored)) in row
    hidden = next(r for r in rows if r[:3] == ["ELA", "Grade 5", "EL (English learner)"])
    assert set(hidden[3:]) == {"*"}  # complementary suppression (it would reveal a small group by subtraction)
    text = soup.get_text(" ")
    assert "Rudner" in text and "Classification accuracy" in text
    custom = BeautifulSoup((result.paths.html / "custom.html").read_text(encoding="utf-8"), "html.parser")
    assert "Grades 6–8 at three schools, English learners" in custom.get_text(" ")  # the custom aggregate
    assert (result.paths.html / "custom.custom_grades_6_8_el.csv").exists()
    assert "Lexile" in text and "public results are not available" not in text.lower()


@pytest.mark.slow
def test_suppressed_cells_show_no_value(built):
    _, result, *_ = built
    html = [f.read_text(encoding="utf-8") for f in pages(result)]
    small = 0
    for table in BeautifulSoup("".join(html), "html.parser").find_all("table"):
        head = [th.get_text(strip=True) for th in table.find_all("th")]
        if "With scores" not in head or "% Met and Above" not in head:
            continue
        n, met = head.index("With scores"), head.index("% Met and Above")
        for tr in table.find_all("tr"):
            cells = [td.get_text(strip=True) for td in tr.find_all("td")]
            if cells and cells[n].isdigit() and 0 < int(cells[n]) < 11:
                small += 1
                assert cells[met] == "*" and cells[head.index("Mean scale score")] == "*", cells
    assert small > 0  # the school × grade × group tables have small groups, all hidden
    assert privacy.scan([result.paths.html], ROOT, result.year, {DNCUSD}) == result.findings == []
    assert links.check(result.paths.html) == []  # the report page's download link names its notebook's zip
    with zipfile.ZipFile(result.paths.html / "report.csv.zip") as z:  # the report page's CSVs, offered zipped
        groups = pd.read_csv(z.open("report.groups.csv"), dtype=str, keep_default_na=False)
    assert not list(result.paths.html.glob("report.*.csv"))
    assert not list(result.paths.html.rglob("*.map"))  # the theme's source maps are not published
    tiny = groups["with_scores"].str.isdigit() & (groups["with_scores"].str.len() > 0)
    tiny &= groups["with_scores"].where(tiny, "99").astype(int).between(1, 10)
    assert tiny.any() and (groups.loc[tiny, "pct_met_and_above"] == "*").all()


@pytest.mark.slow
def test_ssid_never_leaves_the_reader(built, student_file):
    p, result, *_ = built
    text = student_file.read_text(encoding="utf-8")
    header = text.split("\n", 1)[0].split("^")
    at = next(i for i, h in enumerate(header) if h.lower() == "ssid")
    ssids = {line.split("^")[at] for line in text.splitlines()[1:] if line}
    assert len(ssids) > 1000 and all(len(s) == 10 for s in ssids)
    folders = [p.root / "data" / "interim" / "lea" / DNCUSD, result.paths.out]
    files = [f for folder in folders for f in folder.rglob("*") if f.is_file()]
    assert any(f.suffix == ".parquet" for f in files) and any(f.suffix == ".ipynb" for f in files)
    assert any(f.name.endswith(".ipynb.zip") for f in files)  # the site offers the notebook zipped: read inside
    for f in files:
        if f.suffix == ".parquet":
            frame = pd.read_parquet(f)
            assert not [c for c in frame.columns if NAME_COLUMNS.search(str(c))], f
            found = digit_windows(frame.to_csv(index=False)) & ssids
        elif f.suffix in {".png", ".svg", ".woff", ".woff2", ".ico", ".inv", ".pickle", ".doctree"}:
            continue
        elif f.suffix == ".zip":
            with zipfile.ZipFile(f) as z:
                found = {w for name in z.namelist() for w in digit_windows(z.read(name).decode("utf-8"))} & ssids
        else:
            body = f.read_text(encoding="utf-8", errors="replace")
            found = digit_windows(body) & ssids
            if f.suffix == ".csv":
                assert not [c for c in body.split("\n", 1)[0].split(",") if NAME_COLUMNS.search(c)], f
        assert not found, f"{f}: {len(found)} SSIDs"


@pytest.mark.slow
def test_run_without_a_research_file(built_alone):
    p, result = built_alone
    assert result.ok, result.build.stderr[-3000:] + "\n".join(map(str, result.findings))
    text = BeautifulSoup((result.paths.html / "report.html").read_text(encoding="utf-8"), "html.parser").get_text(" ")
    assert "Public results are not available" in text
    assert result.name == DNCUSD  # no entities file: the LEA is named by its code
    for page in pages(result):
        assert "Release status: <strong>final</strong>" in page.read_text(encoding="utf-8"), page.name
    assert set(lea_tables.read(result.paths.store, "results").columns) >= {"year", "cds"}


@pytest.mark.slow
def test_publish_refuses_the_lea_build(built, tmp_path):
    p, result, *_ = built
    with pytest.raises(publishing.Refused, match="confidential LEA-mode build"):
        publishing.publish(p, tmp_path / "out", site=result.paths.html)
    shutil.copytree(result.paths.html, p.html)  # even when copied where the public site goes
    try:
        with pytest.raises(publishing.Refused, match=f"LEA {DNCUSD}"):
            publishing.publish(p, tmp_path / "out2", allow_preliminary=True)
        run = CliRunner().invoke(cli.app, ["publish", str(tmp_path / "out3"), "--site", str(result.paths.html)],
                                 env={"CAASPP_BOOK_ROOT": str(p.root)})
        assert run.exit_code == 2 and "confidential LEA-mode build" in run.output
    finally:
        shutil.rmtree(p.html)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out3").exists()


@pytest.mark.slow
def test_rerun_skips_unchanged_steps_and_a_changed_spec_rebuilds_only_the_custom_page(built, student_file, tmp_path):
    p, first, *_ = built
    again = lea_mode.run(p, student_file, DNCUSD, [SAMPLE], [CUSTOM], status="preliminary")
    assert again.ok and set(again.steps.values()) == {"skipped"} and list(again.steps) == list(lea_mode.STEPS)
    assert again.build is lea_mode.SKIPPED_BUILD  # Jupyter Book did not run (times: bench/lea_district.py)
    edited = tmp_path / CUSTOM.name
    edited.write_text(CUSTOM.read_text(encoding="utf-8").replace("English learners\"", "ELs (edited)\""),
                      encoding="utf-8")
    report_mtime = (first.paths.html / "report.html").stat().st_mtime_ns
    try:
        changed = lea_mode.run(p, student_file, DNCUSD, [SAMPLE], [edited], status="preliminary")
        assert changed.ok and {s for s, d in changed.steps.items() if d == "ran"} == {"custom", "site"}
        log = re.sub(r"\x1b\[[0-9;]*m", "", changed.build.stdout)
        read = re.findall(r"^reading sources\.\.\. \[\s*\d+%\] (\S+)\s*$", log, re.M)
        assert read == ["custom"], changed.build.stdout[-2000:]  # Sphinx read the custom page alone
        text = BeautifulSoup((first.paths.html / "custom.html").read_text(encoding="utf-8"), "html.parser").get_text()
        assert "ELs (edited)" in text and "English learners" not in text.split("Custom aggregates", 2)[-1]
        assert (first.paths.html / "report.html").stat().st_mtime_ns >= report_mtime
    finally:  # the other tests read the original book
        back = lea_mode.run(p, student_file, DNCUSD, [SAMPLE], [CUSTOM], status="preliminary")
    assert back.ok and back.steps["custom"] == "ran" and back.steps["report"] == "skipped"


def report_csvs(result: lea_mode.Result) -> list[str]:
    return sorted(f.name for f in result.paths.source.glob("report.*.csv"))


@pytest.mark.slow
def test_a_rerun_without_the_research_file_offers_only_the_tables_its_report_has(built_alone, student_file,
                                                                                 tmp_path):
    """The report's zip offers every report.*.csv beside it: the comparisons of a run with the research file
    must not outlive that run (page_tables.write_csvs removes a table's CSV when the table is empty)."""
    _, alone = built_alone
    p = scratch(tmp_path / "project")
    with_public = lea_mode.run(p, student_file, DNCUSD, [SAMPLE], status="final")
    assert with_public.ok and set(report_csvs(with_public)) > set(report_csvs(alone))
    again = lea_mode.run(p, student_file, DNCUSD, status="final")
    assert again.ok and again.steps["report"] == "ran"
    assert report_csvs(again) == report_csvs(alone)
    with zipfile.ZipFile(again.paths.html / "report.csv.zip") as z:
        assert sorted(z.namelist()) == report_csvs(alone)
    assert not any(f.name.startswith(".") for f in again.paths.source.iterdir())  # no staging folder left


@pytest.mark.slow
def test_lea_pdf_is_confidential_on_every_page_and_never_published(built, tmp_path):
    p, result, *_ = built
    env = {"CAASPP_BOOK_ROOT": str(p.root)}
    run = CliRunner().invoke(cli.app, ["pdf", "--site", str(result.paths.out)], env=env)
    assert run.exit_code == 0, run.output
    pdf = result.paths.out / "pdf" / f"{DNCUSD}-internal-report.pdf"
    assert pdf.exists() and not (p.root / "_build" / "pdf").exists()
    texts = pdfs.page_texts(pdf)
    assert len(texts) > 10
    for n, text in enumerate(texts, start=1):
        flat = " ".join(text.split())
        assert "CONFIDENTIAL — internal use only" in flat and "PRELIMINARY RESULTS — subject to change" in flat, n
    whole = " ".join(" ".join(texts).split())
    assert "Results by school, grade and student group" in whole and "Custom aggregates" in whole
    assert f"Del Norte County Unified ({DNCUSD})" in whole  # the LEA's own school page
    assert privacy.scan([result.paths.pdf], ROOT, result.year, {DNCUSD}) == []
    again = CliRunner().invoke(cli.app, ["pdf", "--site", str(result.paths.html)], env=env)
    assert again.exit_code == 0 and again.output.startswith("skipped"), again.output
    with pytest.raises(publishing.Refused, match="confidential LEA-mode build"):
        publishing.publish(p, tmp_path / "out", site=result.paths.out)  # the build folder, not its html/
    with pytest.raises(publishing.Refused, match="confidential LEA-mode build"):
        publishing.publish(p, tmp_path / "out", site=result.paths.pdf)
    shutil.copytree(result.paths.html, p.html)
    release.write_record(p.html, "final", [], 1)  # a public site ...
    shutil.copytree(result.paths.pdf, p.pdf / "leas")  # ... with the LEA-mode PDF among its PDFs
    try:
        with pytest.raises(publishing.Refused, match="confidential LEA-mode PDF"):
            publishing.publish(p, tmp_path / "out2")
    finally:
        shutil.rmtree(p.build / "html")
        shutil.rmtree(p.pdf)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out2").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("lea_district")  # its own group: it shares no fixture, so it may run on the other worker
def test_a_large_district_gets_one_page_per_school(tmp_path):
    cds = "01999990000000"
    frame = add_score_details(district(cds, n_schools=60, n_students=40_000), seed=0)
    assert frame["cds"].nunique() == 60 and len(frame) == 80_000
    path = write_student_file(frame, tmp_path / "district.txt")
    p = scratch(tmp_path / "project")
    result = lea_mode.run(p, path, cds)
    assert result.ok, result.build.stderr[-3000:] + "\n".join(map(str, result.findings[:10]))
    school_pages = sorted((result.paths.html / "schools").glob("*.html"))
    assert len(school_pages) == 61  # the district as a whole and its 60 schools
    index = BeautifulSoup((result.paths.html / "schools.html").read_text(encoding="utf-8"), "html.parser")
    linked = {a["href"] for a in index.find("article").find_all("a", href=True) if a["href"].startswith("schools/")}
    assert linked == {f"schools/{f.name}" for f in school_pages}
    assert max(f.stat().st_size for f in [*school_pages, result.paths.html / "report.html"]) < 500_000  # not one ~750 KB page
    assert len(list((result.paths.html / "schools").glob("*.groups.csv"))) == 61
    again = lea_mode.run(p, path, cds)
    assert set(again.steps.values()) == {"skipped"}  # its time is bench/lea_district.py's, not a test's
