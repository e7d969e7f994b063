"""The notebook input hash covers what a page's output depends on, and nothing else: editing the CLI, the
runner, the site or a synthetic generator re-executes no LEA; editing what the notebook imports does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.run import lea_data

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the package, params/ and the notebook, which the digest reads instead of the real ones."""
    shutil.copytree(ROOT / "src" / "helpers", tmp_path / "src" / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "params", tmp_path / "params")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setattr(lea_data, "PACKAGE", tmp_path / "src" / "helpers")
    lea_data.code_digest.cache_clear()
    yield tmp_path
    lea_data.code_digest.cache_clear()


def digest(root: Path) -> str:
    lea_data.code_digest.cache_clear()
    return lea_data.code_digest(root / "notebooks" / "lea_report.ipynb", root / "params")


def edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def test_the_notebook_imports_report_and_what_it_calls() -> None:
    names = {p.relative_to(ROOT / "src").as_posix() for p in lea_data.notebook_modules(ROOT / "notebooks" / "lea_report.ipynb")}
    assert {"helpers/report/page_tables.py", "helpers/report/charts.py", "helpers/report/outputs.py",
            "helpers/ingest/store.py", "helpers/core/params.py"} <= names
    assert not {n for n in names if n.startswith(("helpers/run/", "helpers/site/", "helpers/synth/",
                                                  "helpers/publish/", "helpers/cli.py"))}


@pytest.mark.parametrize("edited", ["cli.py", "run/runner.py", "run/execute.py", "synth/students.py",
                                    "synth/statewide.py", "site/book.py", "publish/pdf.py", "lea_mode/book.py"])
def test_editing_what_no_page_imports_keeps_the_hash(copy: Path, edited: str) -> None:
    before = digest(copy)
    edit(copy / "src" / "helpers" / edited)
    assert digest(copy) == before


@pytest.mark.parametrize("edited", ["src/helpers/report/page_tables.py", "src/helpers/report/charts.py",
                                    "src/helpers/ingest/store.py", "src/helpers/core/params.py",
                                    "params/suppression.yml", "params/cuts/smarter_balanced.yml"])
def test_editing_what_a_page_depends_on_changes_the_hash(copy: Path, edited: str) -> None:
    before = digest(copy)
    edit(copy / edited)
    assert digest(copy) != before
