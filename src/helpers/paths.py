"""The one configuration of paths (cookiecutter-data-science style: raw → interim → processed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """The checkout root: $CAASPP_BOOK_ROOT, else the folder holding pyproject.toml above this file."""
    env = os.environ.get("CAASPP_BOOK_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "params").is_dir():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def sample(self) -> Path:
        return self.root / "data" / "sample"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def store(self) -> Path:
        return self.processed / "store"

    @property
    def tables(self) -> Path:
        return self.processed / "tables"

    @property
    def notebook(self) -> Path:
        return self.root / "notebooks" / "lea_report.ipynb"

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def leas(self) -> Path:
        return self.book / "leas"

    @property
    def manifest(self) -> Path:
        return self.leas / "manifest.json"

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"


def default_paths() -> Paths:
    return Paths(project_root())
