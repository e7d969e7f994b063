"""An entity named like markup renders as text everywhere (site, browser, PDFs); a final build carries no
banner and publishes. The fixture is the sample's store and tables with one LEA renamed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.paths import Paths
from helpers.publish import pdf

from .conftest import DNCUSD
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

pytestmark = pytest.mark.slow
NAME = "<script>alert(1)</script> Niños"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; Niños"


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_store: Path, sample_tables: Path) -> Paths:
    p = Paths(scratch_project(tmp_path_factory.mktemp("escaping")))
    shutil.copytree(sample_store, p.store)
    p.tables.mkdir(parents=True)
    for table in ("levels", "trends", "reconciliation", "impact"):
        frame = pd.read_parquet(sample_tables / f"{table}.parquet")
        if "entity_name" in frame:
            frame.loc[frame["cds"] == DNCUSD, "entity_name"] = NAME
        frame.to_parquet(p.tables / f"{table}.parquet", index=False)
    steps(p.root, ("run", "--lea", DNCUSD), ("build",), ("pdf",))
    return p


def lea_page(p: Paths) -> Path:
    [page] = (p.html / "book" / "leas" / "08").glob(f"{DNCUSD}-*.html")
    return page


def test_the_name_is_escaped_in_every_page(site):
    assert lea_page(site).name == f"{DNCUSD}-script-alert-1-script-ninos.html"
    pages = [f for f in site.html.rglob("*.html") if "_static" not in f.parts]
    for page in pages:
        assert "<script>alert(1)" not in page.read_text(encoding="utf-8"), page
    for page in (lea_page(site), site.html / "book" / "leas" / "08" / "index.html",
                 site.html / "book" / "run_status.html"):
        assert ESCAPED in page.read_text(encoding="utf-8"), page


def test_the_name_shows_as_text_in_a_browser(site):
    dialogs: list[str] = []
    with serve(site.html) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + f"book/leas/08/{lea_page(site).name}")
        page.wait_for_load_state("networkidle")
        assert page.locator("article h1").first.inner_text().startswith(NAME)
        assert page.locator("table.caaspp-table").first.get_by_text(NAME).count() >= 1
        (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / "escaped-name.png"), full_page=True)
    assert dialogs == []


def test_pdfs_render_the_name_with_its_accent(site):
    [path] = (pdf.out_dir(site) / "leas" / "08").glob(f"{DNCUSD}-*.pdf")
    text = "\n".join(pdf_pages(path))
    assert NAME in text and "27.86" in text
    report = "\n".join(pdf_pages(pdf.out_dir(site) / pdf.REPORT))
    assert f"{NAME} ({DNCUSD})" in report
    assert page_images(path, ARTIFACTS / "pdf-escaping")


def test_a_final_build_has_no_banner_and_publishes(site, tmp_path):
    assert json.loads((site.html / "release.json").read_text())["release"] == "final"
    assert "PRELIMINARY" not in lea_page(site).read_text(encoding="utf-8")
    [path] = (pdf.out_dir(site) / "leas" / "08").glob(f"{DNCUSD}-*.pdf")
    assert all("PRELIMINARY" not in page for page in pdf_pages(path))
    result = cli(site.root, "publish", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "index.html").exists() and (tmp_path / "out" / "pdf" / pdf.REPORT).exists()
