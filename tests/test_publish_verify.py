"""`publish` ships only a complete, consistent build: every site file as release.json lists it, and the PDFs
`caaspp-book pdf` printed from that very build and release status (Chromium replaced by a stand-in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import cli
from helpers.core import manifest
from helpers.core.paths import Paths
from helpers.publish import export, pdf
from helpers.site import release

from .conftest import DNCUSD
from .fake_site import COE, make_project, record, site


@pytest.fixture
def project(tmp_path, sample_store, sample_tables, monkeypatch) -> Paths:
    return make_project(tmp_path, sample_store, sample_tables, monkeypatch)


def published(p: Paths, out: Path, *args: str) -> tuple[int, str]:
    env = {"CAASPP_BOOK_ROOT": str(p.root), "COLUMNS": "400"}
    result = CliRunner().invoke(cli.app, ["publish", str(out), *args], env=env)
    return result.exit_code, " ".join(result.output.split())


def test_a_consistent_build_is_published_whole(project, tmp_path):
    code, output = published(project, tmp_path / "out")
    assert code == 0, output
    names = sorted(f.relative_to(tmp_path / "out").as_posix() for f in (tmp_path / "out").rglob("*") if f.is_file())
    record = release.read_record(project.html)
    assert names == sorted([*record["files"], "release.json", ".caaspp-book", f"pdf/{pdf.REPORT}",
                            f"pdf/leas/08/{COE}-x.pdf", f"pdf/leas/08/{DNCUSD}-x.pdf"])
    assert record["leas"] == {COE: f"book/leas/08/{COE}-x.html", DNCUSD: f"book/leas/08/{DNCUSD}-x.html"}
    assert {"version", "commit", "params_sha256", "data_sha256"} <= set(record)
    assert record["commit"] is None  # no git repository here: tolerated
    index = json.loads(project.pdf_index.read_text())
    assert index["site"] == {"release_sha256": release.digest(project.html), "release": "final"}


@pytest.mark.parametrize("change, named", [
    (lambda p: (p.html / "book" / "intro.html").unlink(), "book/intro.html is missing"),
    (lambda p: (p.html / "book" / "notes.html").write_text("<p>mine</p>"), "book/notes.html is not part of the build"),
    (lambda p: (p.html / "book" / "intro.html").write_text("<p>edited</p>"), "book/intro.html changed since the build"),
    (lambda p: (p.pdf / "leas" / "08" / f"{COE}-x.pdf").unlink(), f"{COE}-x.pdf is missing"),
    (lambda p: (p.pdf / "leas" / "08" / "old-lea.pdf").write_bytes(b"%PDF"), "old-lea.pdf is not part of the build"),
    (lambda p: (p.pdf / pdf.REPORT).write_bytes(b"%PDF other"), f"{pdf.REPORT} changed since it was printed"),
])
def test_publish_refuses_a_missing_extra_or_changed_file_and_names_it(project, tmp_path, change, named):
    change(project)
    code, output = published(project, tmp_path / "out")
    assert code == 2 and "not published" in output and named in output, output
    assert not (tmp_path / "out").exists()


def test_publish_refuses_pdfs_of_another_build(project, tmp_path):
    """The site is rebuilt (one LEA's page changed) after the PDFs were printed."""
    site(project, "final", [record(DNCUSD, "Del Norte County Unified (renamed)"), record(COE, "Del Norte COE")])
    code, output = published(project, tmp_path / "out")
    assert code == 2 and "printed from another build of the site" in output, output
    pdf.make(project)  # printed again from this build: only the changed page
    assert published(project, tmp_path / "out")[0] == 0


def test_publish_refuses_pdfs_of_another_release_status(project, tmp_path):
    """Preliminary PDFs beside a final site, and final PDFs beside a preliminary site."""
    site(project, "preliminary", [record(DNCUSD, "Del Norte County Unified"), record(COE, "Del Norte COE")])
    pdf.make(project)
    site(project, "final", [record(DNCUSD, "Del Norte County Unified"), record(COE, "Del Norte COE")])
    code, output = published(project, tmp_path / "out")
    assert code == 2 and "printed from a preliminary build and the site is final" in output, output
    pdf.make(project)
    site(project, "preliminary", [record(DNCUSD, "Del Norte County Unified"), record(COE, "Del Norte COE")])
    code, output = published(project, tmp_path / "out", "--allow-preliminary")
    assert code == 2 and "printed from a final build and the site is preliminary" in output, output


def test_a_partial_pdf_run_after_a_rebuild_is_not_this_builds(project, tmp_path):
    site(project, "final", [record(DNCUSD, "Del Norte County Unified (renamed)"), record(COE, "Del Norte COE")])
    pdf.make(project, only=[DNCUSD])  # the report and the COE's PDF are the previous build's
    code, output = published(project, tmp_path / "out")
    assert code == 2 and "printed from another build" in output, output


def test_pdfs_of_leas_no_longer_in_the_site_are_removed_but_not_other_files(project, tmp_path):
    gone = project.pdf / "leas" / "08" / f"{COE}-x.pdf"
    theirs = project.pdf / "leas" / "08" / "notes.pdf"
    theirs.write_bytes(b"%PDF someone's")
    site(project, "final", [record(DNCUSD, "Del Norte County Unified")])  # the COE left the plan
    assert not (project.html / "book" / "leas" / "08" / f"{COE}-x.html").exists()  # pruned with its CSV
    assert not list((project.html / "book" / "leas" / "08").glob(f"{COE}-*"))
    pdf.make(project)
    assert not gone.exists() and theirs.exists()
    code, output = published(project, tmp_path / "out")  # someone's PDF is not this build's: refused
    assert code == 2 and "notes.pdf is not part of the build" in output, output


def test_pdf_refuses_a_manifest_the_site_was_not_built_from(project):
    manifest.write([record(DNCUSD, "Del Norte County Unified")], project.manifest)
    result = CliRunner().invoke(cli.app, ["pdf"], env={"CAASPP_BOOK_ROOT": str(project.root), "COLUMNS": "400"})
    assert result.exit_code == 2 and "run `caaspp-book build` first" in " ".join(result.output.split())


def test_publish_never_replaces_a_folder_or_archive_it_did_not_write(project, tmp_path):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("keep me")
    (tmp_path / "theirs.zip").write_bytes(b"not a zip of ours")
    assert published(project, tmp_path / "theirs")[0] == 2
    assert published(project, tmp_path / "theirs.zip")[0] == 2
    assert (tmp_path / "theirs" / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "theirs.zip").read_bytes() == b"not a zip of ours"
    assert published(project, tmp_path / "ours")[0] == 0
    (tmp_path / "ours" / "added.txt").write_text("a file the web host added")
    code, output = published(project, tmp_path / "ours")
    assert code == 2 and "added.txt" in output and (tmp_path / "ours" / "added.txt").exists()


def test_export_check_names_the_release_problem_first(project):
    (project.html / "release.json").unlink()
    with pytest.raises(export.Refused, match="release.json not found"):
        export.check(project)
