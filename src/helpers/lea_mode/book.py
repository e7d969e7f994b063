"""LEA mode (`caaspp-book lea`): an LEA's confidential internal book from its Student Score Data File.

Ingest (the student file, and the public research and entities files when given) → tables
(helpers.stats.lea_tables) → the internal notebook executed with papermill → a Jupyter Book of its own. Interim
data go to ``data/interim/lea/<cds>/`` (store, tables, book sources; gitignored), the site to
``_build/lea/<cds>/html`` (never the public ``_build/html``). Every page carries the confidential banner and
the release status; `release.json` records the mode, so `caaspp-book publish` refuses the build.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import nbformat
import yaml

from helpers.core.errors import InputError
from helpers.core.manifest import LeaJob
from helpers.core.paths import LeaPaths, Paths
from helpers.ingest import build as ingesting
from helpers.ingest import student_file as student_files
from helpers.publish import privacy
from helpers.run.execute import RunConfig, finish
from helpers.site import book, notebooks, release, stage
from helpers.stats import contract, lea_tables

STEM = "report"  # the report page: report.ipynb → report.html, its CSVs report.<table>.csv
DROPPED_SPHINX = ("templates_path", "html_sidebars")  # the public site's LEA-page sidebar
DROPPED_EXTENSIONS = ("helpers.site.sphinx_memory",)  # for ~2,300 pages; this book has two


@dataclass(frozen=True)
class Result:
    paths: LeaPaths
    year: int
    name: str
    build: subprocess.CompletedProcess
    findings: list[privacy.Finding]

    @property
    def ok(self) -> bool:
        return self.build.returncode == 0 and (self.paths.html / "index.html").exists() and not self.findings


def lea_paths(p: Paths, cds: str, out: Path | None = None) -> LeaPaths:
    """The paths of an LEA-mode build; ValueError for a bad CDS code or an output in the public site."""
    if not re.fullmatch(r"\d{14}", cds or ""):
        raise ValueError(f"--cds must be a 14-digit CDS code, not {cds!r}")
    lp = p.lea(cds, out)
    target = lp.out
    public = p.html.resolve()
    if target == public or target.is_relative_to(public) or public.is_relative_to(target):
        raise ValueError(f"{target} would overlap the public site {public}: an LEA-mode book is confidential")
    return lp


def check_student_file(path: Path) -> None:
    """InputError (line 1) unless `path` is a TOMS Student Score Data File."""
    if not path.is_file():
        raise InputError(path, "no such file")
    with open(path, "rb") as f:
        header = f.readline().decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not student_files.is_student_file([n.strip() for n in header.split("^")]):
        raise InputError(path, "not a TOMS Student Score Data File (no Record Type and SSID columns of a known "
                         "header dialect): give the student file first, then any research and entities files", 1)


def ingest(lp: LeaPaths, student: Path, public: Sequence[Path]) -> None:
    """The student file (and the public files) into the LEA-mode store; a research file is optional."""
    check_student_file(student)
    ingesting.ingest([student, *public], lp.store, require_results=False)


def compute(lp: LeaPaths, customs: Sequence[Path]) -> dict:
    """Every table of the LEA (helpers.stats.lea_tables), written to the LEA-mode tables folder."""
    computed = lea_tables.compute(lp.store, lp.cds, customs)
    contract.write(computed, lp.tables)
    return computed


def _rel(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def execute(lp: LeaPaths, p: Paths, year: int, name: str, status: str, timeout: float = 600) -> Path:
    """Run notebooks/lea_internal.ipynb with papermill (working folder: the project root) into the book's
    source folder, with its title set and the parameter cells hidden."""
    import papermill as pm

    out = lp.source / f"{STEM}.ipynb"
    lp.source.mkdir(parents=True, exist_ok=True)
    notebook = p.lea_notebook
    params = {"cds": lp.cds, "year": year, "tables": _rel(lp.tables, p.root), "release": status,
              "out_dir": _rel(lp.source, p.root), "stem": STEM}
    nb = pm.execute_notebook(str(notebook), None, parameters=params, cwd=str(p.root), kernel_name="python3",
                             progress_bar=False, request_save_on_cell_execute=False, execution_timeout=timeout)
    job = LeaJob(lp.cds, year, name, lp.cds[:2], "", 6, _rel(out, p.root), "")
    finish(nb, job, RunConfig(notebook, p.root, _rel(lp.store, p.root)))
    title = next(c for c in nb.cells if c.cell_type == "markdown")  # finish titled it "# name (cds)"
    title.source += f": internal report, spring {year}"
    out.write_text(nbformat.writes(nb), encoding="utf-8")
    return out


def intro_md(lp: LeaPaths, name: str, year: int, status: str) -> str:
    state = "**preliminary** (subject to change)" if status == "preliminary" else "**final**"
    return (f"# {book.md_text(name)}: internal CAASPP report\n\n"
            f"```{{warning}}\n{release.CONFIDENTIAL}\n```\n\n"
            f"CAASPP results of {book.md_text(name)} (CDS {lp.cds}) for spring {year}, computed from the LEA's "
            f"Student Score Data File by `caaspp-book lea`. Release status: {state}.\n\n"
            f"The [report]({STEM}.ipynb) has the scale-score distributions, classification accuracy and "
            "consistency, results by school, grade and student group, custom aggregates, Lexile and Quantile "
            "measures, the computed results beside the public ones, and the file's data quality. Results for "
            "fewer than 11 students with scores are suppressed as in the public reports.\n")


def config_doc(p: Paths, name: str, status: str) -> dict:
    """The project's Jupyter Book config, titled for the LEA, with the confidential and release banner."""
    doc = yaml.safe_load(p.config.read_text(encoding="utf-8"))
    doc["title"] = f"{name}: internal CAASPP report (confidential)"
    doc["exclude_patterns"] = ["_build/*", ".*", "**/.*"]
    doc.setdefault("html", {})["favicon"] = "_static/favicon.svg"
    sphinx = doc.setdefault("sphinx", {}).setdefault("config", {})
    for key in DROPPED_SPHINX:
        sphinx.pop(key, None)
    sphinx["html_static_path"] = ["_static"]
    sphinx["extensions"] = [e for e in sphinx.get("extensions", []) if e not in DROPPED_EXTENSIONS]
    return release.announce(doc, status, confidential=True)


def write_sources(lp: LeaPaths, p: Paths, name: str, year: int, status: str) -> Path:
    """Config, table of contents, intro page and static files of the book; returns the config."""
    src = lp.source
    shutil.rmtree(src / "_static", ignore_errors=True)
    shutil.copytree(p.static, src / "_static")
    (src / "intro.md").write_text(intro_md(lp, name, year, status), encoding="utf-8")
    toc = {"format": "jb-book", "root": "intro", "chapters": [{"file": STEM}]}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return release.write_config(config_doc(p, name, status), src / "_config.yml")


def finish_site(lp: LeaPaths, p: Paths, built: Path, status: str, year: int) -> list[privacy.Finding]:
    """Move the built site to the LEA's output folder with its CSVs and release record; scrub notebook
    copies of machine paths; return the privacy scan's findings. An output folder this tool did not build is
    refused, never removed."""
    stage.check_site(lp.html)
    shutil.rmtree(lp.html, ignore_errors=True)
    lp.out.mkdir(parents=True, exist_ok=True)
    shutil.move(str(built), str(lp.html))
    for csv in sorted(lp.source.glob(f"{STEM}.*.csv")):
        shutil.copyfile(csv, lp.html / csv.name)
    for copy in (lp.html / "_sources").rglob("*.ipynb") if (lp.html / "_sources").exists() else []:
        notebooks.scrub_notebook(copy, p.root)
    sources = lea_tables.read(lp.store, "sources")[["file", "sha256"]].to_dict("records")
    release.write_record(lp.html, status, sources, 1, mode="lea", cds=lp.cds)
    levels = lea_tables.read(lp.tables, "levels")
    codes = set(levels["cds"]) | set(levels["lea_cds"].dropna())
    return privacy.scan([lp.html], p.root, year, codes)


def run(p: Paths, student: Path, cds: str, public: Sequence[Path] = (), customs: Sequence[Path] = (),
        out: Path | None = None, status: str = "preliminary") -> Result:
    """The whole LEA-mode build (see the module docstring)."""
    release.check(status)
    lp = lea_paths(p, cds, out)
    stage.check_site(lp.html)  # before any work: its site is replaced only if it is one this tool built
    ingest(lp, student, public)
    computed = compute(lp, customs)
    year = int(computed["summary"]["year"].max()) if len(computed["summary"]) else \
        lea_tables.lea_students(lp.store, cds)[1]
    name = lea_tables.entity_names(computed["levels"]).get(cds, cds)
    shutil.rmtree(lp.source, ignore_errors=True)
    execute(lp, p, year, name, status)
    config = write_sources(lp, p, name, year, status)
    result = book.jupyter_book(lp.source, config=config)
    built = lp.source_html
    findings = finish_site(lp, p, built, status, year) if (built / "index.html").exists() else []
    return Result(lp, year, name, result, findings)
