"""ingest → tables → run → build through the command line, in a scratch copy of the project (the one
built site of the test run: tests/conftest.py)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from helpers.core.paths import Paths

from .conftest import DNCUSD, ROOT, SAMPLE

pytestmark = pytest.mark.slow
COE = "08100820000000"  # Del Norte County Office of Education


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAASPP_BOOK_ROOT": str(root), "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def built(built_site: Paths) -> Path:
    return built_site.root


def page(root: Path, cds: str) -> str:
    [path] = (root / "_build" / "html" / "book" / "leas" / "08").glob(f"{cds}-*.html")
    return path.read_text(encoding="utf-8")


def test_lea_page_shows_its_published_percentages(built):
    html = page(built, DNCUSD)
    assert "<h1>Del Norte County Unified (08618200000000)" in html
    assert "<td>27.86</td>" in html and "<td>16.57</td>" in html  # 2022 All Grades ELA and math % met+
    assert "<td>29.61</td>" in html  # Del Norte County beside it


def test_star_where_the_file_had_a_star(built):
    # Elk Creek (08-10082-0106625): Students Enrolled is '*' in the 2022 file (line 51: All Grades, ELA), the
    # other counts are 0 and it has no results
    soup = BeautifulSoup(page(built, COE), "html.parser")
    table = next(t for t in soup.find_all("table") if t.caption and "results by school" in t.caption.get_text())
    head = [th.get_text(strip=True) for th in table.thead.find_all("th")]
    cells = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    elk = [dict(zip(head, row)) for row in cells if row[0] == "Elk Creek"]
    assert [(r["Test"], r["Enrolled"], r["Tested"], r["With scores"], r["% Met and Above"]) for r in elk] == [
        ("ELA", "*", "0", "0", "–"), ("Mathematics", "*", "0", "0", "–")]


def test_toc_and_intro_come_from_the_run(built):
    toc = Paths(built).build_toc.read_text()
    assert not (built / "_toc.yml").exists()  # a build writes no file of the checkout
    assert toc.index(f"book/leas/08/{COE}") < toc.index(f"book/leas/08/{DNCUSD}")
    intro = (built / "_build" / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    sample = SAMPLE / "research" / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
    assert hashlib.sha256(sample.read_bytes()).hexdigest() in intro
    county = (built / "_build" / "html" / "book" / "leas" / "08" / "index.html").read_text(encoding="utf-8")
    run = json.loads(Paths(built).manifest.read_text(encoding="utf-8"))
    assert [r["cds"] for r in run] == sorted(r["cds"] for r in run) and len(run) == 4
    assert all(r["name"] in county and f"book/leas/08/{r['cds']}" in toc for r in run)  # every LEA run, no other


def test_unknown_lea_is_a_clear_error(built):
    result = cli(built, "run", "--lea", "99999999999999")
    assert result.returncode == 2
    assert "not an LEA with results in the store: 99999999999999" in result.stderr
