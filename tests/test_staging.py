"""`build` writes into a staging folder and replaces _build/html only with a complete, checked site: a failed
or interrupted build leaves the previous site byte-identical and says so; pages of LEAs no longer in the
plan are removed; a failed LEA's page says that it failed; files the tool did not write are never deleted;
the checkout's files are not rewritten."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from helpers.core import manifest
from helpers.core.paths import Paths
from helpers.publish import links, verify
from helpers.site import stage

from .conftest import DNCUSD, ROOT, SAMPLE
from .site_build import cli, scratch_project, steps

pytestmark = pytest.mark.slow
COE = "08100820000000"  # Del Norte County Office of Education


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Paths:
    root = scratch_project(tmp_path_factory.mktemp("staging"))
    steps(root, ("ingest", str(SAMPLE)), ("tables",), ("run", "--lea", DNCUSD, "--lea", COE, "--jobs", "2"),
          ("build",))
    return Paths(root)


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lea_files(p: Paths, cds: str) -> list[str]:
    """The LEA's page, CSVs and notebook copy in the site (the impact chapter's CSVs may name an LEA too)."""
    return sorted(f for f in snapshot(p.html) if cds in f and f.startswith(("book/", "_sources/"))
                  and not f.startswith("book/_data/"))


def test_the_table_of_contents_is_generated_into_the_build(project):
    toc = project.build_toc.read_text(encoding="utf-8")
    assert f"book/leas/08/{COE}-" in toc and f"book/leas/08/{DNCUSD}-" in toc
    assert not (project.root / "_toc.yml").exists()  # no file of the checkout is written
    assert verify.site_problems(project.html, json.loads((project.html / "release.json").read_text())) == []


def test_a_failed_build_leaves_the_previous_site_as_it_was(project):
    before = snapshot(project.html)
    methods = project.book / "methods.md"
    original = methods.read_text(encoding="utf-8")
    try:
        methods.write_text(original + "\n\nSee {ref}`no-such-label`.\n", encoding="utf-8")
        result = cli(project.root, "build")
    finally:
        methods.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stderr
    assert "Jupyter Book reported warnings or errors" in result.stderr and "was left as it was" in result.stderr
    assert snapshot(project.html) == before


def test_a_file_someone_added_to_the_site_is_never_deleted(project):
    added = project.html / "CNAME"
    added.write_text("caaspp.example.org\n")
    try:
        result = cli(project.root, "build")
        assert result.returncode == 2 and "CNAME" in result.stderr and "did not write" in result.stderr
        assert added.read_text() == "caaspp.example.org\n"
    finally:
        added.unlink()


def jupyter_book_child(build: subprocess.Popen, timeout: float = 300) -> psutil.Process:
    """The Jupyter Book (Sphinx) process of a running `caaspp-book build`, once it has started."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and build.poll() is None:
        for child in psutil.Process(build.pid).children(recursive=True):
            try:
                if "helpers.site.jb_process" in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                pass
        time.sleep(0.1)
    raise AssertionError(f"Jupyter Book never ran (build exited {build.poll()})")


def sphinx_writing(staging: Path, since: float, timeout: float = 120) -> None:
    """Once Sphinx has written a file in the staging folder since `since` (a time.time()): a fixed sleep let a
    faster build finish Sphinx, and take the staging flag away, before the signal came."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for path in staging.rglob("*"):
            try:
                if path.is_file() and path.name != "building" and path.stat().st_mtime > since:
                    return
            except OSError:
                pass
        time.sleep(0.02)
    raise AssertionError("Sphinx wrote nothing in the staging folder")


def test_an_interrupted_build_leaves_the_previous_site_and_the_next_one_rebuilds_it(project):
    before = snapshot(project.html)
    started = time.time()
    env = {**os.environ, "CAASPP_BOOK_ROOT": str(project.root), "PYTHONPATH": str(ROOT / "src")}
    build = subprocess.Popen([sys.executable, "-m", "helpers.cli", "build", "--release", "preliminary"],
                             cwd=project.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sphinx = jupyter_book_child(build)
    sphinx_writing(project.staging, started)  # every page gets the preliminary banner: Sphinx is mid-build
    build.send_signal(signal.SIGTERM)
    _out, err = build.communicate(timeout=120)
    assert build.returncode == 143, err
    assert "interrupted: the build did not finish" in err and "was left as it was" in err
    assert snapshot(project.html) == before
    assert not sphinx.is_running() or sphinx.status() == psutil.STATUS_ZOMBIE
    assert project.staging_flag.exists()  # the staging folder may hold half-written pages
    steps(project.root, ("build",))  # writes every page again, then replaces the site
    assert not project.staging_flag.exists()
    record = json.loads((project.html / "release.json").read_text())
    assert record["release"] == "final" and verify.site_problems(project.html, record) == []
    assert "PRELIMINARY" not in (project.html / "book" / "intro.html").read_text(encoding="utf-8")


def test_removed_leas_leave_the_site_and_a_failed_lea_page_says_it_failed(project):
    records = manifest.read(project.manifest)
    coe_page = next(f for f in lea_files(project, COE) if f.startswith("book/") and f.endswith(".html"))
    suffixes = sorted("".join(Path(f).suffixes[-2:]) for f in lea_files(project, DNCUSD))
    assert suffixes == [".csv.zip", ".html", ".ipynb.zip"]  # its page, its CSVs and its notebook copy
    failed = [manifest.LeaRecord(**{**r.to_json(), "status": "failed", "error": "ValueError: deliberate",
                                    "failed_cell": 3, "failed_at": "2025-05-01 12:34 UTC"})
              for r in records if r.cds == COE]
    manifest.write(failed, project.manifest)  # the COE failed its rerun; DNCUSD left the plan
    before = snapshot(project.html)
    result = cli(project.root, "build")
    assert result.returncode == 1 and "1 LEA(s) failed" in result.stderr and "--allow-failures" in result.stderr
    assert snapshot(project.html) == before
    result = cli(project.root, "build", "--allow-failures", "1")
    assert result.returncode == 0, result.stderr
    assert "1 LEA(s) failed in the last run: their pages say so" in result.stderr
    assert lea_files(project, DNCUSD) == []  # page, CSVs, notebook copy: gone
    assert coe_page not in snapshot(project.html)  # the old report is not published as if current
    [page] = [f for f in lea_files(project, COE) if f.endswith(".html")]
    text = (project.html / page).read_text(encoding="utf-8")
    assert "No report: the run of this LEA" in text and "2025-05-01 12:34 UTC" in text
    assert "ValueError: deliberate" in text
    status = (project.html / "book" / "run_status.html").read_text(encoding="utf-8")
    assert COE in status and "failed" in status and DNCUSD not in status
    record = json.loads((project.html / "release.json").read_text())
    assert record["leas"] == {} and record["failed"][COE]["failed_at"] == "2025-05-01 12:34 UTC"
    assert verify.site_problems(project.html, record) == []


def test_the_root_redirect_gets_the_sites_icon_and_a_link(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "favicon.svg").write_text("<svg/>")
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />\n')
    stage.root_redirect(tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert '<meta http-equiv="Refresh" content="0; url=book/intro.html">' in page
    assert '<link rel="icon" href="_static/favicon.svg">' in page and '<a href="book/intro.html">' in page
    assert [(b.page, b.target) for b in links.check(tmp_path)] == [("index.html", "book/intro.html")]  # checked
