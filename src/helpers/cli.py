"""The `caaspp-book` command line: ingest → run → build."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console

from . import book, contract, runner
from . import ingest as ingesting
from .errors import InputError
from .paths import default_paths

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="A reproducible report book for California CAASPP results.\n\n"
         "Typical use: `caaspp-book ingest data/sample` → `caaspp-book tables` → `caaspp-book run` → "
         "`caaspp-book build`.\n\n"
         "Examples: `caaspp-book ingest data/sample` · `caaspp-book tables --lea 08618200000000 --out /tmp/t` · "
         "`caaspp-book run --jobs 2` · `caaspp-book build` · `caaspp-book synth statewide /tmp/sw`",
)
console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.command(epilog="Examples: `caaspp-book ingest data/sample` · "
                    "`caaspp-book ingest data/raw/sb_ca2023_all_csv_v1.txt data/raw/sb_ca2023entities_csv.txt`")
def ingest(
    paths: list[Path] = typer.Argument(..., help="Research, entities and lookup files, or folders of them."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
) -> None:
    """Read CAASPP files of every layout era into the Parquet store (replaced atomically)."""
    target = store or default_paths().store
    try:
        tables = ingesting.ingest(paths, target)
    except InputError as exc:
        fail(str(exc))
    src = tables["sources"]
    console.print(f"ingested {len(src)} files, {len(tables['results']):,} result rows → {target}")


@app.command(epilog="Examples: `caaspp-book tables` · `caaspp-book tables --lea 08618200000000 --year 2022 "
                    "--out /tmp/dncusd` · `caaspp-book tables --alt-cuts my_cuts.yml`")
def tables(
    lea: Optional[str] = typer.Option(None, "--lea", help="Only this LEA (14-digit CDS): itself and its schools."),
    year: Optional[int] = typer.Option(None, help="Only this test year."),
    out: Path = typer.Option(None, help="Output folder (default data/processed/tables)."),
    alt_cuts: Optional[Path] = typer.Option(None, help="Alternative SB cut file for the impact table."),
    students: Optional[Path] = typer.Option(None, help="Student records (Parquet) to compute from as well."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
) -> None:
    """Compute every LEA's tables in one pass: levels, reconciliation, trends, impact (CSV + Parquet)."""
    p = default_paths()
    try:
        frame = pd.read_parquet(students) if students else None
        computed = contract.compute(store or p.store, alt_cuts, frame)
    except (InputError, FileNotFoundError, LookupError) as exc:
        fail(str(exc))
    written = contract.write(computed, out or p.tables, lea, year)
    console.print(f"wrote {len(written)} files to {out or p.tables}: "
                  + ", ".join(f"{k} {len(v):,} rows" for k, v in computed.items()))


@app.command(epilog="Examples: `caaspp-book run` · `caaspp-book run --lea 08618200000000 --jobs 2`")
def run(
    lea: Optional[list[str]] = typer.Option(None, "--lea", help="Only this LEA's 14-digit CDS code (repeatable)."),
    year: Optional[int] = typer.Option(None, help="Test year (default: the latest in the store)."),
    jobs: int = typer.Option(os.cpu_count() or 1, help="Notebooks executed at once."),
    timeout: int = typer.Option(600, help="Seconds a notebook cell may take."),
    store: Path = typer.Option(None, help="Store folder (default data/processed/store)."),
    tables: Path = typer.Option(None, help="Tables folder (default data/processed/tables)."),
) -> None:
    """Execute the LEA notebook with papermill for every LEA; write the manifest."""
    p = default_paths()
    data = (store or p.store, tables or p.tables)
    try:
        planned = runner.plan(data[1], p.root, p.leas, year, lea)
    except (KeyError, FileNotFoundError) as exc:
        fail(str(exc).strip("'\""))
    done = lambda r: console.print(f"{r.status:>6}  {r.cds}  {r.name}  {r.duration:.1f}s  {r.error}", highlight=False)
    records = runner.run(planned, p.notebook, data, p.root, jobs, timeout, on_done=done)
    runner.write_manifest(records, p.manifest)
    failed = [r for r in records if r.status != "ok"]
    console.print(f"{len(records) - len(failed)} LEAs ok, {len(failed)} failed; manifest {p.manifest}")
    if failed:
        raise typer.Exit(1)


@app.command(epilog="Example: `caaspp-book build` (then open _build/html/index.html)")
def build() -> None:
    """Generate _toc.yml and the generated pages from the manifest and tables, then build the HTML book."""
    p = default_paths()
    try:
        result = book.build(p)
    except FileNotFoundError as exc:
        fail(f"{exc}: run `caaspp-book ingest`, `tables` and `run` first")
    if result.returncode != 0 or not (p.html / "index.html").exists():
        console.print(result.stdout[-4000:], result.stderr[-4000:], highlight=False)
        fail("Jupyter Book reported warnings or errors (built with -W -n --keep-going)", 1)
    print(p.html / "index.html")


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
    from .synth_students import students_for_lea, write_students

    try:
        frame = students_for_lea(store or default_paths().store, cds, year, seed=seed)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        fail(str(exc).strip("'\""))
    write_students(frame, out)
    console.print(f"wrote {len(frame):,} student × test records → {out}")


@synth.command("capa", epilog="Example: `caaspp-book synth capa --out data/interim/capa.parquet`")
def synth_capa(out: Path = typer.Option(..., help="Parquet file to write."),
               seed: int = typer.Option(0, help="Random seed."),
               n: int = typer.Option(2000, help="Students per subject and CAPA level.")) -> None:
    """CAPA raw-score records (levels I–V) for the cut-score impact example."""
    from .synth_capa import capa_students

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
    max_entities: Optional[int] = typer.Option(None, help="Only the first N entities (for quick runs)."),
) -> None:
    """Research-file-shaped results for every entity in an entities file: SB ELA/math and CAST."""
    from . import synth_statewide as sw

    wanted = [int(g) for g in groups.split(",")] if groups else None
    info = sw.generate(entities or sw.REFERENCE_ENTITIES, out, year, seed, wanted, max_entities=max_entities)
    console.print(f"wrote {info['rows']:,} rows for {info['entities']:,} entities in {info['seconds']:.1f}s → {out}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
