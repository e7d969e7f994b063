"""LEA mode (`caaspp-book lea`): an LEA's confidential internal book from its Student Score Data File.

Ingest (the student file, and the public research and entities files when given) → tables
(helpers.stats.lea_tables) → the internal notebook executed with papermill → a Jupyter Book of its own. Interim
data go to ``data/interim/lea/<cds>/`` (store, tables, book sources; gitignored), the site to
``_build/lea/<cds>/html`` (never the public ``_build/html``). Every page carries the confidential banner and
the release status; `release.json` records the mode, so `caaspp-book publish` refuses the build.

The book: the intro, the report (the executed notebook), the custom aggregates' page, and the results by
school × grade × student group as one generated page per school linked from an index (a large district's
rows would make one page of megabytes). Each step (`STEPS`) has an input hash (files' sha256, custom specs,
notebook, the code it runs, params, release status); a rerun skips a step whose hash is the last build's, and
the Jupyter Book build re-reads only the pages that changed (a changed spec: the custom page alone).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import nbformat
import yaml

from helpers.core import atomic, stable_write
from helpers.core.text import csv_frame
from helpers.core.errors import InputError
from helpers.core.manifest import LeaJob
from helpers.core.paths import LeaPaths, Paths
from helpers.ingest import build as ingesting
from helpers.ingest import student_file as student_files
from helpers.publish import privacy
from helpers.report import lea_sections, page_tables
from helpers.run import lea_data
from helpers.run.execute import RunConfig, finish
from helpers.site import book, notebooks, release, stage
from helpers.stats import contract, lea_tables
from helpers.stats import custom as customs_

STEM = "report"  # the report page: report.ipynb → report.html, its CSVs report.<table>.csv
DROPPED_SPHINX = ("templates_path", "html_sidebars")  # the public site's LEA-page sidebar
DROPPED_EXTENSIONS = ("helpers.site.sphinx_memory",)  # for ~2,300 pages; this book has two


STEPS = ("ingest", "tables", "custom", "report", "schools", "site")
SKIPPED_BUILD = subprocess.CompletedProcess(["jupyter-book"], 0, "unchanged: not rebuilt\n", "")


@dataclass
class Steps:
    """The input hash of each step; a step whose hash is the last build's (and whose output exists) is
    skipped. A step's hash is dropped from the record while it runs, so a failed step runs again."""

    path: Path
    record: dict[str, str]
    done: dict[str, str] = field(default_factory=dict)  # step → "ran" | "skipped"

    @classmethod
    def load(cls, path: Path) -> "Steps":
        return cls(path, json.loads(path.read_text(encoding="utf-8")) if path.exists() else {})

    def run(self, step: str, key: str, work: Callable[[], object], present: bool = True) -> bool:
        """Run `work` unless `step` is current; returns whether it ran."""
        if present and self.record.get(step) == key:
            self.done[step] = "skipped"
            return False
        self.record.pop(step, None)
        self._save()
        work()
        self.record[step] = key
        self.done[step] = "ran"
        self._save()
        return True

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stable_write.write_if_changed(self.path, json.dumps(self.record, indent=1, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Result:
    paths: LeaPaths
    year: int
    name: str
    build: subprocess.CompletedProcess
    findings: list[privacy.Finding]
    steps: dict[str, str] = field(default_factory=dict)  # step → "ran" | "skipped"

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
    """Every table of the LEA (helpers.stats.lea_tables) into the LEA-mode tables folder, the custom
    aggregates into their own folder; returns both."""
    computed = compute_tables(lp)
    return {**computed, **compute_custom(lp, customs)}


def compute_tables(lp: LeaPaths) -> dict:
    computed = lea_tables.compute(lp.store, lp.cds)
    contract.write(computed, lp.tables)
    return computed


def compute_custom(lp: LeaPaths, customs: Sequence[Path]) -> dict:
    students = lea_tables.lea_students(lp.store, lp.cds)[0]
    computed = {f"custom_{customs_.load(spec).id}": customs_.compute(students, spec) for spec in customs}
    contract.write(computed, lp.custom_tables)
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


def write_sources(lp: LeaPaths, p: Paths, name: str, year: int, status: str, schools: Sequence[str]) -> Path:
    """Config, table of contents, intro page and static files of the book (each written only when it
    changed, so an unchanged page is not read again); returns the config."""
    src = lp.source
    src.mkdir(parents=True, exist_ok=True)
    for static in sorted(f for f in p.static.rglob("*") if f.is_file()):
        stable_write.write_if_changed(src / "_static" / static.relative_to(p.static), static.read_bytes())
    stable_write.write_if_changed(src / "intro.md", intro_md(lp, name, year, status))
    sections = [{"file": page.removesuffix(".md")} for page in schools]
    toc = {"format": "jb-book", "root": "intro", "chapters": [
        {"file": STEM}, {"file": lea_sections.CUSTOM}, {"file": lea_sections.SCHOOLS, "sections": sections}]}
    stable_write.write_if_changed(src / "_toc.yml", yaml.safe_dump(toc, sort_keys=False))
    return release.write_config(config_doc(p, name, status), src / "_config.yml")


def write_custom(lp: LeaPaths, year: int) -> None:
    """The custom aggregates' page and its CSVs."""
    frames = lea_tables.load(lp.custom_tables)
    text, tables_ = lea_sections.custom_page(frames, year)
    lp.source.mkdir(parents=True, exist_ok=True)
    for old in lp.source.glob(f"{lea_sections.CUSTOM}.*.csv"):
        old.unlink()
    page_tables.write_csvs(tables_, lp.source, lea_sections.CUSTOM)
    stable_write.write_if_changed(lp.source / f"{lea_sections.CUSTOM}.md", text)


def write_schools(lp: LeaPaths, book_: lea_sections.Book) -> list[str]:
    """The index and one page per school (with its CSV), each written only when it changed; pages of
    schools no longer in the tables are removed. Returns the school pages (relative to the book)."""
    pages = lea_sections.school_pages(book_)
    lp.schools.mkdir(parents=True, exist_ok=True)
    for rel, (text, rows) in pages.items():
        page = lp.source / rel
        stable_write.write_if_changed(page, text)
        stable_write.write_if_changed(page.with_suffix(".groups.csv"),
                                      csv_frame(rows).to_csv(index=False, lineterminator="\n"))
    wanted = {lp.source / rel for rel in pages}
    for stale in lp.schools.glob("*.md"):
        if stale not in wanted:
            stale.unlink()
            stale.with_suffix(".groups.csv").unlink(missing_ok=True)
    stable_write.write_if_changed(lp.source / f"{lea_sections.SCHOOLS}.md", lea_sections.schools_index(book_))
    return sorted(pages)


def school_list(lp: LeaPaths) -> list[str]:
    return sorted(f"{lea_sections.SCHOOLS}/{f.name}" for f in lp.schools.glob("*.md"))


def finish_site(lp: LeaPaths, p: Paths, built: Path, status: str, year: int,
                clean: bool = False) -> list[privacy.Finding]:
    """Copy the built site (the build folder keeps it, for the next incremental build) to the LEA's output
    folder with its CSVs (the report page's zipped) and release record, without the theme's source maps; zip
    notebook copies without machine paths; return the privacy scan's findings. `clean`: the previous site
    passed the scan, so its files that are unchanged are not scanned again."""
    before = {f.relative_to(lp.html): f.read_bytes() for f in lp.html.rglob("*") if f.is_file()} \
        if clean and lp.html.exists() else {}
    stage.check_site(lp.html)  # a folder this tool did not build is refused, never replaced
    with _replacing_site(lp.html) as tmp:
        shutil.copytree(built, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".buildinfo"))
        stage.drop_source_maps(tmp)
        report_csvs = sorted(lp.source.glob(f"{STEM}.*.csv"))  # the report page's: offered zipped
        if report_csvs:
            notebooks.offer_tables(report_csvs, tmp, STEM)
        for csv in sorted(lp.source.rglob("*.csv")):
            rel = csv.relative_to(lp.source)
            if rel.parts[0] != "_build" and csv not in report_csvs:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(csv, tmp / rel)
        for copy in sorted((tmp / "_sources").rglob("*.ipynb")) if (tmp / "_sources").exists() else []:
            notebooks.offer_zipped(copy, p.root)
        sources = lea_tables.read(lp.store, "sources")[["file", "sha256"]].to_dict("records")
        release.write_record(tmp, status, sources, 1, mode="lea", cds=lp.cds)
    levels = lea_tables.read(lp.tables, "levels")
    codes = set(levels["cds"]) | set(levels["lea_cds"].dropna())
    files = [(f, f.relative_to(lp.out).as_posix()) for f in sorted(lp.html.rglob("*")) if f.is_file()
             and before.get(f.relative_to(lp.html)) != f.read_bytes()]
    return privacy.scan_files(files, p.root, year, codes)


@contextmanager
def _replacing_site(html: Path) -> Iterator[Path]:
    """A temp folder beside `html` that takes its place in one step when the block succeeds (its
    release.json, written in the block, is the site's marker: site.stage.check_site)."""
    tmp = atomic.temp_folder(html)
    try:
        yield tmp
        with atomic.interrupts_held():
            previous = atomic.swap_in(tmp, html)
        if previous is not None:
            shutil.rmtree(previous)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def input_keys(p: Paths, lp: LeaPaths, student: Path, public: Sequence[Path], customs: Sequence[Path],
               status: str) -> dict[str, str]:
    """The input hash of every step but the site's: the files' and specs' sha256, the code each step runs
    (helpers modules, transitively), params/ and library versions, the notebook, the release status."""
    files = [(f.name, lea_data.file_sha256(f)) for f in [student, *ingesting.expand(list(public))]]
    code = lambda *m: lea_data.modules_digest(tuple(m), p.params)  # noqa: E731
    keys = {"ingest": _sha(["ingest", files, code("helpers.ingest.build")])}
    keys["tables"] = _sha(["tables", keys["ingest"], lp.cds, code("helpers.stats.lea_tables")])
    specs = [(s.name, lea_data.file_sha256(s)) for s in customs]
    keys["custom"] = _sha(["custom", keys["tables"], specs,
                           code("helpers.stats.custom", "helpers.report.lea_sections")])
    nb = p.lea_notebook
    keys["report"] = _sha(["report", keys["tables"], status, lea_data.file_sha256(nb),
                           lea_data.code_digest(nb, p.params)])
    keys["schools"] = _sha(["schools", keys["tables"], code("helpers.report.lea_sections")])
    return keys


def site_key(p: Paths, lp: LeaPaths, keys: dict[str, str], config: Path) -> str:
    """The site's input hash: every page's and the book's sources (config, toc, intro)."""
    sources = [lea_data.file_sha256(lp.source / n) for n in ("_toc.yml", "intro.md")]
    return _sha(["site", keys, lea_data.file_sha256(config), sources, lea_data.modules_digest(
        ("helpers.site.book", "helpers.site.release", "helpers.publish.privacy"), p.params)])


def run(p: Paths, student: Path, cds: str, public: Sequence[Path] = (), customs: Sequence[Path] = (),
        out: Path | None = None, status: str = "preliminary", force: bool = False) -> Result:
    """The whole LEA-mode build (see the module docstring); `force`: every step, changed or not."""
    release.check(status)
    lp = lea_paths(p, cds, out)
    stage.check_site(lp.html)  # before any work: its site is replaced only if this tool built it
    check_student_file(student)
    keys = input_keys(p, lp, student, public, customs, status)
    steps = Steps(lp.steps, {} if force else Steps.load(lp.steps).record)
    steps.run("ingest", keys["ingest"], lambda: ingest(lp, student, public), (lp.store / "students.parquet").exists())
    steps.run("tables", keys["tables"], lambda: compute_tables(lp), (lp.tables / "levels.parquet").exists())
    data = lea_tables.load(lp.tables)
    summary = data["summary"]
    year = int(summary["year"].max()) if len(summary) else lea_tables.lea_students(lp.store, cds)[1]
    name = lea_tables.entity_names(data["levels"]).get(cds, cds)
    steps.run("custom", keys["custom"], lambda: (compute_custom(lp, customs), write_custom(lp, year)),
              (lp.source / f"{lea_sections.CUSTOM}.md").exists())
    steps.run("report", keys["report"], lambda: execute(lp, p, year, name, status),
              (lp.source / f"{STEM}.ipynb").exists())
    book_ = lea_sections.Book(cds, year, name, status, STEM, data)
    steps.run("schools", keys["schools"], lambda: write_schools(lp, book_),
              (lp.source / f"{lea_sections.SCHOOLS}.md").exists())
    config = write_sources(lp, p, name, year, status, school_list(lp))
    outcome: dict = {"build": SKIPPED_BUILD, "findings": []}
    clean = "site" in steps.record  # the last site passed the privacy scan

    def site() -> None:
        outcome["build"] = book.jupyter_book(lp.source, config=config)
        built = lp.source_html
        ok = outcome["build"].returncode == 0 and (built / "index.html").exists()
        outcome["findings"] = finish_site(lp, p, built, status, year, clean) if ok else []
        if not ok or outcome["findings"]:
            raise _Failed()

    try:
        steps.run("site", site_key(p, lp, keys, config), site, (lp.html / "index.html").exists())
    except _Failed:
        pass
    return Result(lp, year, name, outcome["build"], outcome["findings"], dict(steps.done))


class _Failed(Exception):
    """The build failed or the privacy scan found something: the site step is not recorded as done."""
