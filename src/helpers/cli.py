"""The `caaspp-book` command line: ingest → tables → run → build → pdf → publish.

Thin: each command imports its stage when it runs, so `--help` loads no stage (and no papermill).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from helpers.core.errors import InputError, Refusal
from helpers.core.paths import default_paths

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="A reproducible report book for California CAASPP results.\n\n"
         "Typical use: `caaspp-book ingest data/sample` → `caaspp-book tables` → `caaspp-book run` → "
         "`caaspp-book build` → `caaspp-book pdf` → `caaspp-book publish OUT`.\n\n"
         "Examples, one per command (`caaspp-book COMMAND --help` for more):\n\n"
         + "\n".join(f"- `caaspp-book {example}`" for example in (
             "ingest data/sample",
             "tables --lea 08618200000000 --year 2022 --out /tmp/dncusd",
             "run --jobs 2",
             "build --release preliminary",
             "pdf --jobs 2",
             "lea StudentScoreDataFile.txt --cds 08618200000000 data/sample",
             "district 08618200000000 sb_ca2023_all_csv_v1.txt sb_ca2023entities_csv.txt",
             "publish /srv/www/caaspp",
             "scan _build/html",
             "synth statewide /tmp/statewide --year 2023",
         )),
)
console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every step cleans up (temp folders, the Jupyter Book process)."""


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated()


def positive(value: float) -> float:
    """An option that must be more than 0 (typer's `min=` admits its bound)."""
    if value <= 0:
        raise typer.BadParameter(f"must be more than 0, not {value:g}")
    return value


@app.command(epilog="Examples: `caaspp-book ingest data/sample` · "
                    "`caaspp-book ingest data/raw/sb_ca2023_all_csv_v1.txt data/raw/sb_ca2023entities_csv.txt`")
def ingest(
    paths: list[Path] = typer.Argument(..., help="Research, entities and lookup files, or folders of them."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
    county: Optional[str] = typer.Option(None, help="Only this county's research rows (2-digit code, the first "
                                         "two of a CDS code) and the state's, filtered as each file is read."),
) -> None:
    """Read CAASPP files of every layout era into the Parquet store (replaced atomically)."""
    from helpers.ingest import build as ingesting
    from helpers.ingest import findings

    target = store or default_paths().store
    try:
        tables = ingesting.ingest(paths, target, county=county)
    except (InputError, Refusal, ValueError) as exc:
        fail(str(exc))
    for path, why in tables.skipped:
        console.print(f"skipped {path}: {why}", highlight=False)
    for message in findings.warnings(tables["findings"]):
        console.print(f"[yellow]warning:[/] {message}", highlight=False)
    src = tables["sources"]
    console.print(f"ingested {len(src)} files, {tables.rows('results'):,} result rows → {target}")


@app.command(epilog="Examples: `caaspp-book tables` · `caaspp-book tables --lea 08618200000000 --year 2022 "
                    "--out /tmp/dncusd` · `caaspp-book tables --alt-cuts my_cuts.yml` · "
                    "`caaspp-book tables --suppression complementary`")
def tables(
    lea: Optional[str] = typer.Option(None, "--lea", help="Only this LEA (14-digit CDS): itself and its schools "
                                      "(needs --out)."),
    year: Optional[int] = typer.Option(None, help="Only this test year (needs --out)."),
    out: Path = typer.Option(None, help="Output folder (default data/processed/tables). A folder with files "
                             "caaspp-book did not write is refused."),
    alt_cuts: Optional[Path] = typer.Option(None, help="Alternative SB cut file for the impact table."),
    students: Optional[Path] = typer.Option(None, help="Student records to compute from as well: a TOMS Student "
                                            "Score Data File (any dialect) or tidy records (Parquet)."),
    custom: Optional[Path] = typer.Option(None, "--custom", help="Custom aggregate spec (YAML, see params/custom/); "
                                          "needs --students. Written as the `custom` table."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
    suppression: str = typer.Option("published", "--suppression", help="Published rows: `published` (CDE's "
                                    "values as published, its `*` kept) or `complementary` (also hide every value "
                                    "that would let a hidden one be worked out by subtraction). Computed rows: "
                                    "always complementary."),
    jobs: Optional[int] = typer.Option(None, "--jobs", min=1, help="Worker processes for the chunks of a "
                                       "store (default: 2, at most one per core, for a store of more than "
                                       "500,000 result rows; else 1). The files are the same bytes either way."),
) -> None:
    """Compute every LEA's tables in one pass: levels, reconciliation, trends, impact (CSV + Parquet)."""
    from helpers.ingest import student_file
    from helpers.stats import chunked, contract
    from helpers.stats import custom as customs
    from helpers.synth import impact_example

    if suppression not in ("published", "complementary"):
        fail(f"--suppression must be published or complementary, not {suppression!r}")
    p = default_paths()
    if (lea or year) and (out is None or out.resolve() == p.tables.resolve()):
        fail("--lea and --year write only part of the tables: give --out DIR, another folder. The project's "
             f"tables ({p.tables}), which `caaspp-book run` reads, keep every LEA and year.")
    try:
        contract.check_subset(store or p.store, lea, year)
        frame, report = student_file.records(students) if students else (None, None)
        if report is not None and report.bad:
            console.print(f"{report.file}: {report.excluded} bad records excluded", highlight=False)
            for message in report.messages()[:20]:
                console.print(message, highlight=False)
        if custom is not None and frame is None:
            fail("--custom needs --students (the records to aggregate)")
        if frame is None:  # the store alone: in chunks, in bounded memory (whole under complementary)
            rows = chunked.build(store or p.store, out or p.tables, impact_example.inputs(), alt_cuts, lea, year,
                                 policy=suppression, jobs=jobs)
            console.print(f"wrote {2 * len(rows)} files to {out or p.tables}: "
                          + ", ".join(f"{k} {v:,} rows" for k, v in rows.items()))
            return
        computed = contract.compute(store or p.store, impact_example.inputs(), alt_cuts, frame, suppression)
        if custom is not None:
            computed["custom"] = customs.compute(frame, custom)
        written = contract.write(computed, out or p.tables, lea, year)
    except (InputError, FileNotFoundError, LookupError, Refusal) as exc:
        fail(str(exc))
    console.print(f"wrote {len(written)} files to {out or p.tables}: "
                  + ", ".join(f"{k} {len(v):,} rows" for k, v in computed.items()))


@app.command(epilog="Examples: `caaspp-book run` · `caaspp-book run --lea 08618200000000 --jobs 2` · "
                    "`caaspp-book run --force` · `caaspp-book run --backend dask --scheduler tcp://10.0.0.5:8786` · "
                    "`caaspp-book run --timeout 120 --allow-failures 3`")
def run(
    lea: Optional[list[str]] = typer.Option(None, "--lea", help="Only this LEA's 14-digit CDS code (repeatable)."),
    year: Optional[int] = typer.Option(None, help="Test year (default: the latest in the store)."),
    jobs: int = typer.Option(os.cpu_count() or 1, min=1,
                             help="Notebooks executed at once (processes and dask backends)."),
    backend: str = typer.Option("processes", help="processes (worker processes here), serial (this process) or "
                                                  "dask (dask.distributed: --scheduler, or a LocalCluster)."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address of an existing cluster (workers "
                                                       "need this project at the same path)."),
    timeout: float = typer.Option(600, callback=positive,
                                  help="Seconds an LEA may take (wall clock; also the limit of any cell)."),
    force: bool = typer.Option(False, "--force", help="Run every LEA, changed or not."),
    allow_failures: int = typer.Option(0, min=0, help="Exit 0 when at most this many LEAs failed."),
    fresh_kernels: bool = typer.Option(False, "--fresh-kernels", help="A new kernel per LEA instead of one "
                                                                      "reset kernel per worker."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
    tables: Path = typer.Option(None, help="Tables folder (default data/processed/tables)."),
    timings: Optional[Path] = typer.Option(None, help="Also write each executed LEA's seconds per phase (kernel "
                                                      "start or reset, execute, each cell, write) to this JSON file."),
) -> None:
    """Execute the LEA notebook with papermill for every LEA whose inputs changed (or failed last time);
    merge the outcomes into the manifest (book/leas/manifest.json)."""
    import time

    from helpers.run import backends, progress, runner

    p = default_paths()
    if backend not in backends.NAMES:
        fail(f"--backend must be one of {', '.join(backends.NAMES)}, not {backend!r}")
    settings = runner.Settings.from_paths(p, store=store, tables=tables, year=year, only=tuple(lea or ()),
                                          force=force, timeout=timeout, fresh_kernels=fresh_kernels)
    try:
        plan = runner.Plan(settings)
    except (KeyError, FileNotFoundError, IndexError) as exc:
        fail(str(exc).strip("'\""))
    if plan.total == 0:
        console.print(runner.no_leas_message(settings), highlight=False)
    start = time.perf_counter()
    chosen = backends.make(backend, jobs, scheduler, deadline=settings.deadline)
    with progress.RunProgress(console, plan.total) as bar:
        result = runner.run(settings, chosen, bar.update, plan)
    console.print(progress.summary(result.records, time.perf_counter() - start, 1 if backend == "serial" else jobs))
    console.print(f"manifest {p.manifest}", highlight=False)
    if timings:
        runner.write_timings(result, timings)
    if len(result.failed) > allow_failures:
        raise typer.Exit(1)


@app.command(epilog="Examples: `caaspp-book build` (then open _build/html/index.html) · "
                    "`caaspp-book build --release preliminary` · `caaspp-book build --allow-failures 2` · "
                    "`caaspp-book build --jobs 2`")
def build(
    release: str = typer.Option("final", help="Release status: final, or preliminary (a banner on every page "
                                              "of the site and of the PDFs; `publish` refuses it)."),
    allow_failures: int = typer.Option(0, help="Build when at most this many LEAs failed in the last run "
                                               "(each one's page says it failed, and when)."),
    jobs: int = typer.Option(1, min=1, help="Sphinx processes reading and writing pages at once (sphinx-build "
                                            "-j), then processes of the link check and privacy scan; the site "
                                            "is the same bytes either way."),
) -> None:
    """Generate the pages and the table of contents from the manifest and tables, build the HTML book in a
    staging folder (incremental), check it (every internal link resolves, the privacy scan finds nothing),
    then put it in _build/html in one step. A failed or interrupted build leaves the previous site as it was."""
    build_site(default_paths(), release, allow_failures, jobs)


def build_site(p, release: str, allow_failures: int, jobs: int = 1) -> None:
    """`build` for the project of `p` (helpers.core.paths.Paths): see its help."""
    import shutil

    from helpers.core import atomic, manifest
    from helpers.publish import links, privacy
    from helpers.site import book, stage
    from helpers.site.release import site_shas

    kept = f"{p.html} was left as it was"
    if release not in ("final", "preliminary"):
        fail(f"--release must be final or preliminary, not {release!r}")
    replaced = False
    try:
        failed = [r for r in manifest.read(p.manifest) if not r.built]
        if len(failed) > allow_failures:
            fail(f"{len(failed)} LEA(s) failed in the last run ({', '.join(r.cds for r in failed[:10])}): run "
                 "them again (`caaspp-book run`), or build with --allow-failures "
                 f"{len(failed)} (their pages then say that they failed). {kept}", 1)
        stage.check_site(p.html)
        result = book.build(p, release, jobs)
        if result.returncode != 0 or not (p.staging_html / "index.html").exists():
            console.print(result.stdout[-4000:], result.stderr[-4000:], highlight=False)
            fail(f"Jupyter Book reported warnings or errors (built with -W -n --keep-going); {kept}", 1)
        shas = site_shas(p.staging_html)  # hashed once, for release.json; the checks look them up
        problems = [f"broken link {b}" for b in links.check(p.staging_html, p.checked / "links.json", jobs, shas)] + [
            str(f) for f in privacy.scan_build(p, [p.staging_html], p.checked / "privacy.json", jobs, shas)]
        if problems:
            console.print("\n".join(problems[:50]), highlight=False)
            fail(f"{len(problems)} problem(s) in the built site (links, privacy scan); {kept}", 1)
        with atomic.interrupts_held():
            previous = stage.replace_site(p)
            replaced = True
        if previous is not None:
            shutil.rmtree(previous)
    except Refusal as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(f"{exc}: run `caaspp-book ingest`, `tables` and `run` first")
    except KeyboardInterrupt as exc:
        code = 143 if isinstance(exc, Terminated) else 130
        fail("interrupted after the new site was put in place" if replaced else
             f"interrupted: the build did not finish; {kept}", code)
    if failed:
        console.print(f"{len(failed)} LEA(s) failed in the last run: their pages say so", highlight=False)
    print(p.html / "index.html")


@app.command(epilog="Examples: `caaspp-book pdf` · `caaspp-book pdf --jobs 4` · `caaspp-book pdf --force` · "
                    "`caaspp-book pdf --lea 08618200000000`")
def pdf(
    jobs: int = typer.Option(2, min=1, help="Pages printed at once (one Chromium, several tabs)."),
    force: bool = typer.Option(False, "--force", help="Print every PDF, changed or not."),
    lea: Optional[list[str]] = typer.Option(None, "--lea", help="Only this LEA's PDF (repeatable; the whole "
                                                                "report is then not printed)."),
    site: Optional[Path] = typer.Option(None, help="An LEA-mode build folder (_build/lea/CDS): the PDF of its "
                                        "confidential book, into its pdf/ folder (never _build/pdf)."),
) -> None:
    """PDFs of the built site into _build/pdf: one per LEA page (only pages whose content changed) and the
    whole technical report; then the privacy scan of their text. With --site, the PDF of an LEA-mode book."""
    from helpers.publish import pdf as pdfs
    from helpers.publish import privacy

    p = default_paths()
    if site is not None:
        lea_pdf(p, site, force)
        return
    show = lambda r: console.print(f"{r.status:>8}  {r.key}  {r.pages:>3} pages  {r.seconds:.2f}s  {r.error}",
                                   highlight=False)
    try:
        results = pdfs.make(p, jobs, force, lea, on_done=show)
    except (FileNotFoundError, Refusal) as exc:
        fail(str(exc))
    printed = [r for r in results if r.status == "printed" and r.key != "report"]
    failed = [r for r in results if r.status == "failed"]
    timing = pdfs.read_index(p.pdf_index).get("timing", {})
    rate = (f"; {timing['seconds_per_lea_pdf']:.2f} s per LEA PDF ({timing['lea_wall_seconds']:.1f} s wall "
            f"for {len(printed)}, {jobs} at a time)") if printed else ""
    console.print(f"{len(printed)} LEA PDFs printed, {sum(r.status == 'skipped' for r in results)} unchanged, "
                  f"{len(failed)} failed{rate} → {pdfs.out_dir(p)}", highlight=False)
    findings = privacy.scan_build(p, [pdfs.out_dir(p)])
    if findings:
        console.print("\n".join(str(f) for f in findings[:50]), highlight=False)
        fail(f"privacy scan: {len(findings)} problem(s) in the PDFs", 1)
    if failed:
        raise typer.Exit(1)


def lea_pdf(p, site: Path, force: bool) -> None:
    """Print an LEA-mode book (its build folder, or its html/ folder) to its pdf/ folder."""
    from helpers.publish import pdf as pdfs
    from helpers.site import release

    out = site.parent if (site / release.RECORD).exists() else site
    try:
        record = release.read_record(out / "html")
        if record.get("mode") != "lea":
            fail(f"{site} is not an LEA-mode build: `caaspp-book pdf` without --site prints the public site")
        done = pdfs.make_lea(p, p.lea(record["cds"], out), force)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    if done.status == "failed":
        fail(f"the PDF was not printed: {done.error}", 1)
    console.print(f"{done.status}  {done.pages} pages  {done.seconds:.2f}s  CONFIDENTIAL: internal use only, "
                  "do not publish", highlight=False)
    print(out / "pdf" / done.pdf)


@app.command(epilog="Examples: `caaspp-book district 08618200000000 sb_ca2023_all_csv_v1.txt "
                    "sb_ca2023entities_csv.txt` · `caaspp-book district 08618200000000 data/raw --pdf`")
def district(
    cds: str = typer.Argument(..., help="The district's 14-digit CDS code."),
    files: list[Path] = typer.Argument(..., help="Research files (statewide or not, any years) and entities "
                                       "files, or folders of them."),
    out: Optional[Path] = typer.Option(None, help="Build folder: the site in OUT/html, PDFs in OUT/pdf "
                                       "(default _build/district/CDS)."),
    with_pdf: bool = typer.Option(False, "--pdf", help="Also print the district's PDF."),
    release: str = typer.Option("final", help="Release status: final or preliminary."),
    fresh: bool = typer.Option(False, "--fresh", help="Ingest and compute again even if the files are unchanged."),
    timeout: float = typer.Option(600, callback=positive, help="Seconds the notebook may take."),
) -> None:
    """One district's book from the statewide files: its county's and the state's rows ingested (filtered
    while reading), their tables, the district's notebook and a book of its county and the state, in a
    scoped project (data/interim/district/CDS) apart from the whole-state one. A rerun redoes only what
    changed (files given, the notebook, charts)."""
    import time

    from helpers.lea_mode import district as scoped
    from helpers.run import progress

    start = time.perf_counter()
    try:
        dp = scoped.district_paths(default_paths(), cds, out)
        scoped.sync(default_paths().root, dp.root)
        made = scoped.prepare_data(dp, cds, files, fresh)
        console.print(f"{'ingested and computed' if made else 'unchanged'}: {dp.store.parent} "
                      f"({time.perf_counter() - start:.1f} s)", highlight=False)
        result = scoped.run(dp, cds, timeout)
    except (InputError, Refusal, ValueError, LookupError, FileNotFoundError) as exc:
        fail(str(exc))
    console.print(progress.summary(result.records, time.perf_counter() - start, 1), highlight=False)
    if result.failed:
        fail(f"the notebook of {cds} failed: {result.failed[0].error}", 1)
    build_site(dp, release, 0)
    if with_pdf:
        _district_pdf(dp, cds)
    console.print(f"done in {time.perf_counter() - start:.1f} s", highlight=False)


def _district_pdf(p, cds: str) -> None:
    """Print the district's PDF (its LEA page) and scan its text."""
    from helpers.publish import pdf as pdfs
    from helpers.publish import privacy

    try:
        results = pdfs.make(p, 1, False, [cds])
    except (FileNotFoundError, Refusal) as exc:
        fail(str(exc))
    findings = privacy.scan_build(p, [pdfs.out_dir(p)])
    if findings or any(r.status == "failed" for r in results):
        fail("; ".join([str(f) for f in findings[:20]] + [r.error for r in results if r.status == "failed"]), 1)
    for r in results:
        print(pdfs.out_dir(p) / r.pdf)


@app.command(epilog="Examples: `caaspp-book lea data/raw/dncusd_2022_students.txt --cds 08618200000000` · "
                    "`caaspp-book lea FILE --cds 08618200000000 data/sample --custom params/custom/"
                    "example_grades_6_8_el.yml --release preliminary`")
def lea(
    student_file: Path = typer.Argument(..., help="The LEA's TOMS Student Score Data File (any header dialect)."),
    public: Optional[list[Path]] = typer.Argument(None, help="Optional: CDE's public research and entities files "
                                                  "(or folders) of the same year, to set the results beside."),
    cds: str = typer.Option(..., "--cds", help="The LEA's 14-digit CDS code."),
    custom: Optional[list[Path]] = typer.Option(None, "--custom", help="Custom aggregate spec (YAML, see "
                                                "params/custom/); repeatable."),
    out: Optional[Path] = typer.Option(None, help="Build folder (default _build/lea/CDS; the site is its html/)."),
    release: str = typer.Option("preliminary", help="Release status shown on every page: preliminary (the "
                                "default: a Student Score Data File comes before the public release) or final."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print the book to one PDF in the build folder's pdf/ "
                             "(confidential notice and release status on every page)."),
    force: bool = typer.Option(False, "--force", help="Redo every step, changed or not (a rerun skips the "
                               "steps whose inputs are unchanged)."),
) -> None:
    """Build an LEA's CONFIDENTIAL internal book from its Student Score Data File: distributions, accuracy,
    results by school × grade × student group, custom aggregates, Lexile/Quantile, computed vs published,
    data quality. Interim data in data/interim/lea/CDS/, the site in _build/lea/CDS/html; never published
    (`publish` refuses it)."""
    from helpers.lea_mode import book as lea_mode

    if release not in ("final", "preliminary"):
        fail(f"--release must be final or preliminary, not {release!r}")
    try:
        result = lea_mode.run(default_paths(), student_file, cds, public or (), custom or (), out, release, force)
    except (InputError, ValueError, FileNotFoundError, LookupError, Refusal) as exc:
        fail(str(exc))
    for kind in ("ran", "skipped"):
        names = [step for step, done in result.steps.items() if done == kind]
        console.print(f"{kind}: {', '.join(names) or 'none'}", highlight=False)
    if result.build.returncode != 0 or not (result.paths.html / "index.html").exists():
        console.print(result.build.stdout[-4000:], result.build.stderr[-4000:], highlight=False)
        fail("Jupyter Book reported warnings or errors (built with -W -n --keep-going)", 1)
    if result.findings:
        console.print("\n".join(str(f) for f in result.findings[:50]), highlight=False)
        fail(f"privacy scan: {len(result.findings)} problem(s) in the LEA-mode book", 1)
    console.print("CONFIDENTIAL: internal use only, do not publish", highlight=False)
    print(result.paths.html / "index.html")
    if pdf:
        lea_pdf(default_paths(), result.paths.out, force)


@app.command(epilog="Examples: `caaspp-book publish /srv/www/caaspp` · `caaspp-book publish site.zip` · "
                    "`caaspp-book publish /tmp/review --allow-preliminary`")
def publish(
    out: Path = typer.Argument(..., help="A folder (replaced whole) or a .zip archive."),
    allow_preliminary: bool = typer.Option(False, "--allow-preliminary",
                                           help="Publish a preliminary build (its banner stays on every page)."),
    site: Optional[Path] = typer.Option(None, help="The built site to publish (default _build/html; an LEA-mode "
                                        "build is refused)."),
) -> None:
    """Copy the built site and its PDFs (under pdf/) to OUT, after the release check and the privacy scan."""
    from helpers.publish import export as publishing

    try:
        target = publishing.publish(default_paths(), out, allow_preliminary, site)
    except publishing.Refused as exc:
        fail(f"not published: {exc}")
    print(target)


@app.command(epilog="Examples: `caaspp-book scan` · `caaspp-book scan _build/html/book`")
def scan(paths: Optional[list[Path]] = typer.Argument(None, help="Folders or files to scan (default: "
                                                                  "_build/html and _build/pdf).")) -> None:
    """Privacy scan of built files: small counts and results, student-ID shapes, machine paths, secrets."""
    from helpers.publish import privacy

    missing = [str(path) for path in paths or () if not path.exists()]
    if missing:
        fail(f"nothing to scan: {', '.join(missing)} not found")
    p = default_paths()
    try:
        findings = privacy.scan_build(p, paths or [p.html, p.pdf])
    except FileNotFoundError as exc:
        fail(str(exc))
    for f in findings:
        print(f)
    console.print(f"{len(findings)} finding(s)", highlight=False)
    if findings:
        raise typer.Exit(1)


synth = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                    help="Seeded, deterministic synthetic data (no real student is in this repository).")
app.add_typer(synth, name="synth")


@synth.command("students", epilog="Example: `caaspp-book synth students 08618200000000 --year 2022 "
                                  "--out data/interim/students_dncusd_2022.parquet`")
def synth_students(
    cds: str = typer.Argument(..., help="The LEA whose published rows the students reproduce."),
    year: int = typer.Option(..., help="Test year."),
    out: Path = typer.Option(..., help="Parquet file to write."),
    seed: int = typer.Option(0, help="Random seed."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
) -> None:
    """Student records whose levels reproduce a real LEA's published percentages when aggregated."""
    from helpers.synth.students import students_for_lea, write_students

    try:
        frame = students_for_lea(store or default_paths().store, cds, year, seed=seed)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        fail(str(exc).strip("'\""))
    write_students(frame, out)
    console.print(f"wrote {len(frame):,} student × test records → {out}")


@synth.command("capa", epilog="Example: `caaspp-book synth capa --out data/interim/capa.parquet`")
def synth_capa(out: Path = typer.Option(..., help="Parquet file to write."),
               seed: int = typer.Option(0, help="Random seed."),
               n: int = typer.Option(2000, min=1, help="Students per subject and CAPA level.")) -> None:
    """CAPA raw-score records (levels I–V) for the cut-score impact example."""
    from helpers.synth.capa import capa_students

    frame = capa_students(seed=seed, n_per_level=n)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    console.print(f"wrote {len(frame):,} CAPA records → {out}")


@synth.command("statewide", epilog="Example: `caaspp-book synth statewide data/interim/statewide` "
                                   "(then `caaspp-book ingest data/interim/statewide`)")
def synth_statewide(
    out: Path = typer.Argument(..., help="Folder for the research and entities files."),
    entities: Path = typer.Option(None, help="Entities file (default: the vendored 2023 statewide file)."),
    year: int = typer.Option(2023), seed: int = typer.Option(0),
    groups: Optional[str] = typer.Option(None, help="Comma-separated student group IDs (default: all)."),
    max_entities: Optional[int] = typer.Option(None, min=1, help="Only the first N entities (for quick runs)."),
) -> None:
    """Research-file-shaped results for every entity in an entities file: SB ELA/math and CAST."""
    from helpers.synth import statewide as sw

    wanted = [int(g) for g in groups.split(",")] if groups else None
    info = sw.generate(entities or default_paths().reference_entities, out, year, seed, wanted, max_entities=max_entities)
    console.print(f"wrote {info['rows']:,} rows for {info['entities']:,} entities in {info['seconds']:.1f}s → {out}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    app()


if __name__ == "__main__":
    main()
