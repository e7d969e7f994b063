"""Execute the LEA notebook for one LEA: `run_lea(job, config)` → record, never raising for the LEA's own
failures. Idempotent: the same job gives the same notebook bytes, and a file whose bytes would not change
is not rewritten (its mtime stays, so Sphinx does not re-read it)."""

from __future__ import annotations

import ast
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.core.manifest import LeaJob, LeaRecord, record
from helpers.core.stable_write import write_if_changed
from helpers.core.text import md as md_text
from helpers.run import kernels

log = logging.getLogger(__name__)
HIDE = "remove-cell"
TIMING_KEYS = ("start_time", "end_time", "duration")


@dataclass(frozen=True)
class RunConfig:
    """Everything an LEA run needs besides its job (picklable: sent to worker processes)."""

    notebook: Path  # the parameterized notebook
    root: Path  # project root: the kernels' working folder; job paths are relative to it
    store: str  # notebook parameter, relative to root
    timeout: float = 600  # seconds any one cell may run (nbclient interrupts it)
    fresh_kernels: bool = False  # a new kernel per LEA instead of a reset one
    kernel_name: str = "python3"
    grace: float = 5.0  # the whole LEA may take timeout + grace seconds (wall clock), then its kernel is killed
    tables: str = "data/processed/tables"  # notebook parameter, relative to root

    @property
    def wall_clock(self) -> float:
        return self.timeout + self.grace


def parameters(job: LeaJob, config: RunConfig) -> dict:
    """The notebook's parameters for `job` (all paths relative to the root, so outputs do not depend on
    where the project is)."""
    out = Path(job.notebook)
    return {"cds": job.cds, "year": job.year, "store": config.store, "tables": config.tables,
            "lea_data": job.lea_data, "data_sha256": job.data_sha256,
            "out_dir": (out.parent / f".{out.stem}.out").as_posix(), "stem": out.stem}


class _Watchdog:
    """Kills the kernel when the LEA's wall-clock time is up (nbclient then reports a dead kernel)."""

    def __init__(self, seconds: float) -> None:
        self.kernel: kernels.Kernel | None = None
        self.fired = threading.Event()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired.set()
        if self.kernel is not None:
            self.kernel.kill()

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def imports_of(notebook: Path) -> str:
    """The top-level import statements of the notebook's code cells, in order (cells that do not parse, such as
    IPython magics, are left out)."""
    found = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        found += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(found)


def prepare(config: RunConfig) -> None:
    """Start this worker's kernel and import the notebook's modules in it while the run is still planning, so
    the first LEA finds both done (a kernel start and the imports are most of a lone LEA's time: a warm
    rebuild). The first notebook then runs after a reset, like every later one. Never raises: an LEA that
    finds no kernel starts one and reports its own errors."""
    if config.fresh_kernels:
        return
    kernel = None
    try:
        kernel = kernels.acquire(Path(config.root), config.kernel_name, False, min(60, config.timeout))
        kernel.ready()
        kernel.preload(imports_of(Path(config.notebook)))
    except Exception as exc:  # noqa: BLE001 - the LEA runs as without it
        log.warning("could not prepare a kernel before the first LEA: %s", exc)
        if kernel is not None:
            kernels.discard(kernel)


def run_lea(job: LeaJob, config: RunConfig) -> LeaRecord:
    """Execute the notebook for `job` and write `job.notebook` (and its CSVs) atomically; a notebook error,
    a timeout or a dead kernel give a failed record, with the partial notebook kept outside the book as
    `.<stem>.failed.ipynb`."""
    root = Path(config.root)
    out = root / job.notebook
    params = parameters(job, config)
    stage = root / params["out_dir"]
    phases: dict = {}
    start = time.perf_counter()
    kernel = None
    watchdog = _Watchdog(config.wall_clock)
    try:
        tick = time.perf_counter()
        kernel = kernels.acquire(root, config.kernel_name, config.fresh_kernels, min(60, config.timeout))
        starting = kernel.km is None
        kernel.ready()  # a start is bounded by its own timeout and retries, not by the watchdog
        phases["kernel"] = time.perf_counter() - tick
        phases["kernel_started"] = starting  # else reset after the worker's previous LEA
        if kernel.start_failures:
            phases["kernel_start_retries"] = len(kernel.start_failures)
        with watchdog:
            watchdog.kernel = kernel
            tick = time.perf_counter()
            shutil.rmtree(stage, ignore_errors=True)
            nb = kernel.execute(config.notebook, params, config.timeout)
            phases["execute"] = time.perf_counter() - tick
            phases["cells"] = _cell_seconds(nb)
            tick = time.perf_counter()
            finish(nb, job, config)
            _publish(stage, out.parent, out.stem)
            write_if_changed(out, nbformat.writes(nb))
            _remove(partial_copy(out))
            phases["write"] = time.perf_counter() - tick
    except Exception as exc:  # noqa: BLE001 - a failing LEA is recorded, the others go on
        return _failed(job, config, exc, kernel, watchdog.fired.is_set(), time.perf_counter() - start, phases)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if kernel is not None and config.fresh_kernels:
            kernel.shutdown()
    return record(job, "ok", time.perf_counter() - start, phases=phases)


def _failed(job: LeaJob, config: RunConfig, exc: Exception, kernel: kernels.Kernel | None, timed_out: bool,
            duration: float, phases: dict) -> LeaRecord:
    nb = kernel.last_nb if kernel is not None else None
    if kernel is not None:
        kernels.discard(kernel)  # its state is unknown: the next LEA gets a new one
    cell = getattr(exc, "exec_count", None)
    if cell is None and nb is not None:
        cell = _running_cell(nb)
    if timed_out:
        error = f"Timeout: the LEA ran longer than {config.wall_clock:g} s (wall clock); its kernel was killed"
    elif type(exc).__name__ == "CellTimeoutError":
        error = f"Timeout: a cell ran longer than {config.timeout:g} s"
    elif hasattr(exc, "ename"):
        error = f"{exc.ename}: {exc.evalue}".strip()
    else:
        error = f"{type(exc).__name__}: {exc}".strip()
    if nb is not None:  # keep the partial notebook beside, never inside, the book
        out = Path(config.root) / job.notebook
        try:
            finish(nb, job, config)
            write_if_changed(partial_copy(out), nbformat.writes(nb))
        except Exception:  # noqa: BLE001 - a broken partial notebook must not hide the LEA's error
            pass
    return record(job, "failed", duration, error, cell, phases)


def _running_cell(nb) -> int | None:
    """Execution count of the cell that was running when the notebook stopped: the last one papermill
    started (its `exception` flag is set when a cell starts; cells never reached keep None)."""
    started = [c for c in nb.cells if c.cell_type == "code"
               and c.get("metadata", {}).get("papermill", {}).get("exception") is not None]
    return started[-1].get("execution_count") if started else None


def _cell_seconds(nb) -> list[float]:
    return [round(float(c.metadata.get("papermill", {}).get("duration") or 0), 4)
            for c in nb.cells if c.cell_type == "code"]


def finish(nb, job: LeaJob, config: RunConfig) -> None:
    """Title the page, hide the parameter cells and drop run-dependent metadata (times, absolute paths)."""
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            cell.metadata["tags"] = sorted(set(tags) | {HIDE})
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        for key in TIMING_KEYS:
            cell.metadata.get("papermill", {}).pop(key, None)
        cell.metadata.pop("execution", None)
    title = next(c for c in nb.cells if c.cell_type == "markdown")
    title.source = f"# {md_text(job.name)} ({md_text(job.cds)})"
    meta = nb.metadata.get("papermill", {})
    for key in TIMING_KEYS:
        meta.pop(key, None)
    meta["input_path"] = _relative(Path(config.notebook), Path(config.root))
    meta["output_path"] = job.notebook


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _publish(stage: Path, folder: Path, stem: str) -> None:
    """Move the CSVs the notebook wrote into the staging folder to their place beside the notebook, and
    remove the LEA's CSVs of an earlier run that this one did not write (a table its data no longer has):
    the page offers every `<stem>.*.csv` beside it (helpers.site.book.offer_csvs)."""
    written = set()
    if stage.is_dir():
        for path in sorted(stage.iterdir()):
            write_if_changed(folder / path.name, path.read_bytes())
            written.add(path.name)
    for old in lea_csvs(folder, stem):
        if old.name not in written:
            _remove(old)


def lea_csvs(folder: Path, stem: str) -> list[Path]:
    """The CSVs beside notebook `<stem>.ipynb` (`<stem>.<table>.csv`); one listing of the folder."""
    if not folder.is_dir():
        return []
    prefix = f"{stem}."  # a stem has no dot (runner.slug), so this is `<stem>.<table>.csv` and no other stem's
    with os.scandir(folder) as entries:
        return sorted(folder / e.name for e in entries if e.name.startswith(prefix) and e.name.endswith(".csv"))


def partial_copy(notebook: Path) -> Path:
    """Where a failed run keeps its partial notebook: beside the book's page, never a page itself."""
    return notebook.with_name(f".{notebook.stem}.failed.ipynb")


def remove_outputs(notebook: Path) -> None:
    """An LEA's notebook of an earlier run and what it wrote beside it: its CSVs and a failed partial
    notebook (for an LEA whose page moved because its name changed)."""
    for path in [notebook, partial_copy(notebook),
                 *lea_csvs(notebook.parent, notebook.stem)]:
        _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
