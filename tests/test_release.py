"""Release status (final / preliminary) and publishing the built site."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
import yaml
from typer.testing import CliRunner

from helpers import cli
from helpers.core import manifest
from helpers.core.paths import Paths
from helpers.publish import export as publish
from helpers.publish import pdf
from helpers.site import release

from .conftest import DNCUSD, ROOT
from .fake_site import make_project, site


def test_preliminary_config_adds_the_banner_and_final_does_not(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    prelim = yaml.safe_load(release.config(root, "preliminary", tmp_path / "p.yml").read_text())
    final = yaml.safe_load(release.config(root, "final", tmp_path / "f.yml").read_text())
    assert "PRELIMINARY" in prelim["html"]["announcement"]
    assert "announcement" not in final["html"]
    assert final == yaml.safe_load((ROOT / "_config.yml").read_text())
    with pytest.raises(ValueError):
        release.config(root, "draft", tmp_path / "d.yml")
    assert "warning" in release.page_md("preliminary") and "final" in release.page_md("final")


def test_config_footer_states_the_provenance_escaped(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    made = {"version": "1.2<3", "commit": "ab" * 20, "params_sha256": "c" * 64, "data_sha256": "d" * 64}
    doc = yaml.safe_load(release.config(root, "final", tmp_path / "f.yml", made).read_text())
    footer = doc["html"]["extra_footer"]
    assert footer == ('<p class="caaspp-provenance">Built from Data SHA-256 <code class="caaspp-data-sha256">'
                      + "d" * 64 + '</code> · caaspp-book <code class="caaspp-version">1.2&lt;3</code> · commit '
                      '<code class="caaspp-commit">' + "ab" * 20 + '</code> · params SHA-256 <code '
                      'class="caaspp-params-sha256">' + "c" * 64 + "</code>.</p>")
    assert "unknown" in release.footer({**made, "commit": None})


@pytest.fixture
def built(tmp_path, sample_store, sample_tables, monkeypatch) -> Paths:
    """A project with a final two-LEA site and its PDFs, built with the sample's tables (for the scan)."""
    return make_project(tmp_path, sample_store, sample_tables, monkeypatch)


def rebuild(p: Paths, status: str) -> None:
    """The site finished again with this release status, and its PDFs printed again."""
    site(p, status, manifest.read(p.manifest))
    pdf.make(p)


def test_publish_refuses_a_preliminary_build_unless_allowed(built, tmp_path):
    rebuild(built, "preliminary")
    with pytest.raises(publish.Refused, match="preliminary"):
        publish.publish(built, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    out = publish.publish(built, tmp_path / "out", allow_preliminary=True)
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "release.json" in names and "index.html" in names and f"pdf/{pdf.REPORT}" in names
    assert json.loads((out / "release.json").read_text())["release"] == "preliminary"


def test_publish_zip_is_the_same_bytes_each_time(built, tmp_path):
    digests = []
    for name in ("a.zip", "b.zip"):
        out = publish.publish(built, tmp_path / name)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
        assert f"pdf/leas/08/{DNCUSD}-x.pdf" in zipfile.ZipFile(out).namelist()
    assert digests[0] == digests[1]


def test_publish_refuses_privacy_findings_and_foreign_folders(built, tmp_path):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("keep me")
    with pytest.raises(publish.Refused, match="other files"):
        publish.publish(built, tmp_path / "theirs")
    assert (tmp_path / "theirs" / "notes.txt").exists()
    csv = built.root / manifest.read(built.manifest)[0].notebook
    csv.with_suffix(".summary.csv").write_text("test,enrolled\nELA,2\n")  # 2 < 4 students: never published
    rebuild(built, "final")
    with pytest.raises(publish.Refused, match="privacy scan"):
        publish.publish(built, tmp_path / "out")


def test_cli_publish_exit_code_and_message(built, tmp_path, monkeypatch):
    monkeypatch.setenv("CAASPP_BOOK_ROOT", str(built.root))
    rebuild(built, "preliminary")
    result = CliRunner().invoke(cli.app, ["publish", str(tmp_path / "out.zip")])
    assert result.exit_code == 2
    assert "preliminary build" in result.output and "--allow-preliminary" in result.output
    assert not (tmp_path / "out.zip").exists()


def test_build_rejects_an_unknown_release(tmp_path, monkeypatch):
    monkeypatch.setenv("CAASPP_BOOK_ROOT", str(tmp_path))
    result = CliRunner().invoke(cli.app, ["build", "--release", "draft"])
    assert result.exit_code == 2 and "final or preliminary" in result.output

