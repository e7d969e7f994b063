"""The one configuration of paths (cookiecutter-data-science style: raw → interim → processed).

Every path the tool reads or writes is a property here; other modules join only file names onto them.
"""

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


PACKAGE = Path(__file__).resolve().parents[1]  # src/helpers


@dataclass(frozen=True)
class Paths:
    root: Path

    # inputs
    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def alt_cuts_dir(self) -> Path:
        return self.params / "alt_cuts"

    @property
    def alt_cuts(self) -> Path:
        """The alternative SB cut set of the illustrative impact table."""
        return self.alt_cuts_dir / "sb_illustrative_alternative.yml"

    @property
    def sample(self) -> Path:
        return self.root / "data" / "sample"

    @property
    def reference(self) -> Path:
        return self.root / "data" / "reference"

    @property
    def reference_entities(self) -> Path:
        """The 2023 entities file the statewide synthetic set is drawn from."""
        return self.reference / "sb_ca2023entities_csv.txt.gz"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def notebook(self) -> Path:
        return self.notebooks / "lea_report.ipynb"

    @property
    def lea_notebook(self) -> Path:
        """The internal (LEA-mode) notebook."""
        return self.notebooks / "lea_internal.ipynb"

    @property
    def config(self) -> Path:
        """The book's Jupyter Book configuration."""
        return self.root / "_config.yml"

    # data flow
    @property
    def interim(self) -> Path:
        return self.root / "data" / "interim"

    @property
    def slices(self) -> Path:
        """Each LEA's slice of the tables, which its notebook reads (helpers.ingest.slice_files)."""
        return self.interim / "lea_slices"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def store(self) -> Path:
        return self.processed / "store"

    @property
    def tables(self) -> Path:
        return self.processed / "tables"

    # the book and its builds
    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def static(self) -> Path:
        return self.book / "_static"

    @property
    def print_css(self) -> Path:
        return self.static / "caaspp-print.css"

    @property
    def leas(self) -> Path:
        return self.book / "leas"

    @property
    def manifest(self) -> Path:
        return self.leas / "manifest.json"

    @property
    def build(self) -> Path:
        return self.root / "_build"

    @property
    def html(self) -> Path:
        return self.build / "html"

    @property
    def pdf(self) -> Path:
        return self.build / "pdf"

    @property
    def pdf_work(self) -> Path:
        return self.build / ".pdf-work"

    @property
    def pdf_index(self) -> Path:
        """What the PDFs were printed from: each PDF's hashes, and the site's release.json digest."""
        return self.pdf / "index.json"

    @property
    def build_config(self) -> Path:
        """The generated _config.yml a build uses (release banner added)."""
        return self.build / ".config" / "_config.yml"

    @property
    def build_toc(self) -> Path:
        """The generated _toc.yml a build uses (from the manifest; no file of the checkout is rewritten)."""
        return self.build / ".config" / "_toc.yml"

    @property
    def staging(self) -> Path:
        """Jupyter Book's output folder of `build`, kept between builds (incremental): its _build/html and
        _build/.doctrees. The site is assembled here and copied to `html` only when it is complete."""
        return self.build / ".staging"

    @property
    def staging_html(self) -> Path:
        return self.staging / "_build" / "html"

    @property
    def staging_flag(self) -> Path:
        """Present while Jupyter Book writes into the staging folder: a build that finds it was interrupted,
        and rebuilds every page."""
        return self.staging / "building"

    @property
    def checked(self) -> Path:
        """What the build's link check and privacy scan remember of the staged site's files, by content
        (helpers.publish.checked): beside the staged site, never in it."""
        return self.staging / "checked"

    @property
    def html_next(self) -> Path:
        """The next site, assembled from the staging folder, then swapped with `html`."""
        return self.build / ".html-next"

    def lea_build(self, cds: str) -> Path:
        """The default build folder of an LEA-mode book."""
        return self.build / "lea" / cds

    def lea(self, cds: str, out: Path | None = None) -> "LeaPaths":
        return LeaPaths(self.root, cds, (out or self.lea_build(cds)).resolve())

    def district_root(self, cds: str) -> Path:
        """The scoped project of `caaspp-book district <cds>`: a project of its own (book sources, params and
        notebook copied in; its store, tables and manifest), apart from this whole-state one."""
        return self.interim / "district" / cds

    def district_build(self, cds: str) -> Path:
        """The default build folder (site, PDFs) of `caaspp-book district <cds>`."""
        return self.build / "district" / cds

    def district(self, cds: str, out: Path | None = None) -> "DistrictPaths":
        return DistrictPaths(self.district_root(cds).resolve(), (out or self.district_build(cds)).resolve())


@dataclass(frozen=True)
class DistrictPaths(Paths):
    """A district's scoped project: every path of a project rooted at `root`, except its builds (site,
    PDFs, staging), which go to `site_root`. The relative layout (store, tables, slices, book/leas) is the
    whole-state project's, so a notebook's parameters, and so its bytes, are the same in both."""

    site_root: Path

    @property
    def build(self) -> Path:
        return self.site_root


@dataclass(frozen=True)
class LeaPaths:
    """Where an LEA-mode build of `cds` reads and writes."""

    root: Path
    cds: str
    out: Path  # the build folder; the site is out/html

    @property
    def html(self) -> Path:
        return self.out / "html"

    @property
    def interim(self) -> Path:
        return self.root / "data" / "interim" / "lea" / self.cds

    @property
    def store(self) -> Path:
        return self.interim / "store"

    @property
    def tables(self) -> Path:
        return self.interim / "tables"

    @property
    def source(self) -> Path:
        """The book's source folder (config, toc, intro, executed notebook and CSVs)."""
        return self.interim / "book"

    @property
    def custom_tables(self) -> Path:
        """The custom aggregates (one table per `--custom` spec), apart from the other tables."""
        return self.interim / "custom"

    @property
    def steps(self) -> Path:
        """The input hash of each step of the last build (what a rerun skips)."""
        return self.interim / "steps.json"

    @property
    def schools(self) -> Path:
        """The generated per-school pages of the book."""
        return self.source / "schools"

    @property
    def pdf(self) -> Path:
        """The PDF of the internal book (never under the public _build/pdf)."""
        return self.out / "pdf"

    @property
    def pdf_file(self) -> Path:
        return self.pdf / f"{self.cds}-internal-report.pdf"

    @property
    def pdf_work(self) -> Path:
        """The printable document the PDF is printed from."""
        return self.interim / "pdf" / "book.html"

    @property
    def source_html(self) -> Path:
        """Where Jupyter Book writes the site before it is moved to `html`."""
        return self.source / "_build" / "html"


def default_paths() -> Paths:
    return Paths(project_root())
