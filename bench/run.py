"""caaspp-book benchmarks (not tests): one run on this machine prints

1. the naive baseline (a sequential loop of the `papermill` CLI per LEA, then a book build) against
   `caaspp-book run` + `build` on the same 50 synthetic LEAs, and the ratio;
2. the full statewide synthetic set (every LEA of the 2023 entities file): cold end-to-end time per step
   (synth, ingest, tables, run, build) and peak memory (RSS summed over each step's process tree);
3. a warm rebuild after one LEA's data changed (run + build);
4. time per LEA: kernel start vs reset, execution (per cell), writing, and the book build's share;
5. book build time and size against the number of LEA pages per navigation layout (bench/book_scale.py);
6. five statewide years (2019, 2021–2024, every student group): ingest + tables, wall, CPU and peak;
7. `caaspp-book --help` and every command's `--help` (wall seconds, best of 3);
8. per-LEA PDFs of the 50 LEAs of section 1 (`caaspp-book pdf`), and the statewide site's size on disk.

Peak memory is sampled over each step's process tree two ways: RSS summed, and PSS summed (a page shared by
several processes, such as Chromium's or the kernels', counted once).

    python bench/run.py                               # everything: about an hour on 2 cores
    python bench/run.py --only compare               # sections: compare statewide warm scale years help pdf
    python bench/run.py --work /tmp/b --jobs 2

Results go to stdout and <work>/results.json; docs/benchmarks.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

PY = sys.executable
ENTITIES = ROOT / "data" / "reference" / "sb_ca2023entities_csv.txt.gz"  # every LEA of 2023
RESULTS: dict = {}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1), "cpu": cpu,
            "python": platform.python_version(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


class Step:
    """Run a command; wall time, CPU seconds (its own and its waited-for children's) and the peak of the summed
    RSS and PSS of its process tree (`_sample`)."""

    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict, log: Path) -> None:
        self.name, self.cmd, self.cwd, self.env, self.log = name, cmd, cwd, env, log

    def run(self, check: bool = True) -> dict:
        peak = [0, 0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(self.log, "a") as log:
            log.write(f"\n$ {' '.join(self.cmd)}\n")
            log.flush()
            start = time.perf_counter()
            proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=log)
            done = threading.Event()
            sampler = threading.Thread(target=_sample, args=(proc.pid, peak, done), daemon=True)
            sampler.start()
            code = proc.wait()
            seconds = time.perf_counter() - start
            done.set()
            sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if check and code != 0:
            raise RuntimeError(f"{self.name} failed ({code}); see {self.log}")
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        row = {"step": self.name, "seconds": round(seconds, 1), "cpu_s": round(cpu, 1),
               "peak_rss_gib": round(peak[0] / 2**30, 2), "peak_pss_gib": round(peak[1] / 2**30, 2), "exit": code}
        print(f"  {self.name:<28} {seconds:8.1f} s  cpu {cpu:8.1f} s   peak {peak[0] / 2**30:5.2f} GiB RSS, "
              f"{peak[1] / 2**30:5.2f} GiB PSS" + (f"   FAILED: exit {code}, see {self.log}" if code else ""), flush=True)
        return row


PAGE = os.sysconf("SC_PAGE_SIZE")
PSS_EVERY = 2.0  # seconds between PSS readings, besides each new RSS peak


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", "rb") as f:
        return int(f.read().split()[1]) * PAGE


def _pss(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
        return next((int(line.split()[1]) * 1024 for line in f if line.startswith(b"Pss:")), 0)


def _summed(read, pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += read(pid)
        except (OSError, ValueError):  # the process ended meanwhile
            pass
    return total


def _sample(pid: int, peak: list[int], done: threading.Event) -> None:
    """RSS every 0.2 s (/proc/PID/statm: microseconds); PSS at each new RSS peak and every PSS_EVERY seconds.
    PSS has the kernel walk every page of a process (about 10 ms for a kernel): read every 0.2 s, as until run J,
    the sampler used about a tenth of a core on a run's process tree."""
    last_pss = 0.0
    while not done.is_set():
        try:
            parent = psutil.Process(pid)
            pids = [parent.pid] + [p.pid for p in parent.children(recursive=True)]
        except psutil.Error:
            pids = []
        rss = _summed(_rss, pids)
        if rss > peak[0] or time.monotonic() - last_pss >= PSS_EVERY:
            peak[1] = max(peak[1], _summed(_pss, pids))
            last_pss = time.monotonic()
        peak[0] = max(peak[0], rss)
        done.wait(0.2)


def project(dest: Path) -> Path:
    """A scratch copy of the project (configuration, chapters, notebook, params) to run in."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("book", "notebooks", "params"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("leas", "_generated"))
    return dest


def env_for(root: Path) -> dict:
    """The environment of every measured command. Python may cache bytecode, as on a usual machine: with
    PYTHONDONTWRITEBYTECODE (set in some sandboxes) every process compiles the package's source again,
    which costs the naive loop more than our runner (one import per worker) and `--help` 0.4 s."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "CAASPP_BOOK_ROOT": str(root), "PYTHONPATH": str(ROOT / "src")}


def cli(root: Path, *args: str) -> list[str]:
    return [PY, "-m", "helpers.cli", *args]


def step(name: str, root: Path, cmd: list[str], log: Path, check: bool = True) -> dict:
    return Step(name, cmd, root, env_for(root), log).run(check)


# ---------------------------------------------------------------- 1. naive loop vs caaspp-book


def compare(work: Path, jobs: int, n: int = 50) -> dict:
    from helpers.core import manifest
    from helpers.ingest import store as stores
    from helpers.run import runner

    print(f"\n1. {n} synthetic LEAs: naive papermill CLI loop + build vs caaspp-book run + build", flush=True)
    log = work / "compare.log"
    data = project(work / "compare-data")
    step("synth (first 400 entities)", data, cli(data, "synth", "statewide", str(work / "raw-400"),
                                                 "--entities", str(ENTITIES), "--max-entities", "400"), log)
    step("ingest", data, cli(data, "ingest", str(work / "raw-400")), log)
    step("tables", data, cli(data, "tables"), log)
    processed = data / "data" / "processed"
    table = stores.leas(processed / "tables").head(n)
    codes, year = list(table["cds"]), int(table["year"].iloc[0])

    naive = project(work / "compare-naive")
    shutil.copytree(processed, naive / "data" / "processed")
    leas = naive / "book" / "leas"
    start = time.perf_counter()
    records = []
    for row in table.itertuples():
        out = leas / row.county_code / f"{row.cds}-{runner.slug(row.name)}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        tick = time.perf_counter()
        subprocess.run([PY, "-m", "papermill", "notebooks/lea_report.ipynb", str(out.relative_to(naive)),
                        "-r", "cds", row.cds, "-p", "year", str(year), "-r", "store", "data/processed/store",
                        "-r", "tables", "data/processed/tables", "-r", "data_sha256", "",
                        "-r", "out_dir", str(out.parent.relative_to(naive)), "-r", "stem", out.stem,
                        "--no-progress-bar"], cwd=naive, env=env_for(naive), check=True, capture_output=True)
        records.append(manifest.LeaRecord(row.cds, year, row.name, row.county_code, row.county_name,
                                          int(row.type_id), out.relative_to(naive).as_posix(), "", "ok",
                                          round(time.perf_counter() - tick, 2)))
    manifest.write(records, leas / "manifest.json")
    loop = time.perf_counter() - start
    print(f"  {'papermill CLI loop':<28} {loop:8.1f} s   ({loop / n:.2f} s per LEA)", flush=True)
    naive_build = step("build (naive)", naive, cli(naive, "build", "--jobs", str(jobs)), log, check=False)

    ours = project(work / "compare-ours")
    shutil.copytree(processed, ours / "data" / "processed")
    lea_args = [a for c in codes for a in ("--lea", c)]
    run = step("caaspp-book run", ours, cli(ours, "run", "--jobs", str(jobs), *lea_args), log)
    build = step("caaspp-book build", ours, cli(ours, "build", "--jobs", str(jobs)), log, check=False)
    naive_total, ours_total = loop + naive_build["seconds"], run["seconds"] + build["seconds"]
    result = {"leas": n, "naive_loop_s": round(loop, 1), "naive_build_s": naive_build["seconds"],
              "naive_total_s": round(naive_total, 1), "run_s": run["seconds"], "build_s": build["seconds"],
              "ours_total_s": round(ours_total, 1), "ratio": round(naive_total / ours_total, 2),
              "ratio_notebooks_only": round(loop / run["seconds"], 2)}
    print(f"  → naive {naive_total:.1f} s vs caaspp-book {ours_total:.1f} s: {result['ratio']}× "
          f"(notebooks alone {result['ratio_notebooks_only']}×)", flush=True)
    result["site"] = site_size(ours / "_build" / "html")
    return result


STATEWIDE_LEAS = 2279  # LEAs with results in the 2023 entities file (section 2)


def site_size(html: Path) -> dict:
    """A built site's bytes by kind: per LEA, what each LEA adds (its page, CSV zip, notebook zip and chart PNGs);
    `grows` what grows with the number of LEAs (county pages, release.json's file list, the search index);
    `fixed` the rest (theme, chapters). Projected statewide: (per LEA + grows / LEAs) × STATEWIDE_LEAS + fixed."""
    pages = sorted(html.glob("book/leas/*/[0-9]*.html"))
    charts = {(page.parent / src).resolve() for page in pages
              for src in re.findall(r'<img src="([^"]+\.png)"', page.read_text(encoding="utf-8"))}
    csvs = set(html.glob("book/leas/*/[0-9]*.csv")) | set(html.glob("book/leas/*/[0-9]*.csv.zip"))  # loose before run G
    kinds = {"pages": set(pages), "csvs": csvs,
             "notebooks": set(html.glob("_sources/book/leas/*/*.ipynb.zip")), "charts": charts}
    files = {f.resolve(): f.stat().st_size for f in html.rglob("*") if f.is_file()}
    sizes = {kind: sum(files.get(f.resolve(), 0) for f in found) for kind, found in kinds.items()}
    lea_files = set().union(*kinds.values())
    grows = sum(size for f, size in files.items() if f not in lea_files and (
        f.name in ("release.json", "searchindex.js") or f.is_relative_to((html / "book" / "leas").resolve())
        or f.is_relative_to((html / "_sources" / "book" / "leas").resolve())))
    fixed = sum(files.values()) - sum(sizes.values()) - grows
    n = len(pages)
    per_lea = {kind: round(sizes[kind] / n / 1e3, 1) for kind in kinds} if n else {}
    projected = ((sum(sizes.values()) + grows) / n * STATEWIDE_LEAS + fixed) / 1e6 if n else 0.0
    result = {"leas": n, "mb": round(sum(files.values()) / 1e6, 1), "per_lea_kb": per_lea,
              "grows_per_lea_kb": round(grows / n / 1e3, 1) if n else 0.0, "fixed_mb": round(fixed / 1e6, 1),
              "statewide_projection_mb": round(projected, 1)}
    print(f"  site: {result['mb']} MB for {n} LEAs; per LEA (KB) {json.dumps(per_lea)} and "
          f"{result['grows_per_lea_kb']} KB of county pages, file list and search index; fixed {result['fixed_mb']} "
          f"MB; × {STATEWIDE_LEAS} LEAs ≈ {result['statewide_projection_mb']} MB", flush=True)
    return result


# ---------------------------------------------------------------- 2–4. statewide cold, warm, per LEA


def statewide(work: Path, jobs: int) -> dict:
    print("\n2. Full statewide synthetic set, cold end to end", flush=True)
    log = work / "statewide.log"
    root = project(work / "statewide")
    steps = [step("synth statewide", root, cli(root, "synth", "statewide", str(work / "raw-all"),
                                               "--entities", str(ENTITIES)), log),
             step("ingest", root, cli(root, "ingest", str(work / "raw-all")), log),
             step("tables", root, cli(root, "tables"), log),
             step("run", root, cli(root, "run", "--jobs", str(jobs), "--allow-failures", "1000000",
                                   "--timings", str(work / "timings-cold.json")), log),
             step("build", root, cli(root, "build", "--jobs", str(jobs)), log, check=False)]
    manifest = json.loads((root / "book" / "leas" / "manifest.json").read_text())
    pipeline = [s for s in steps if s["step"] != "synth statewide"]
    html = root / "_build" / "html"
    result = {"steps": steps, "leas": len(manifest), "ok": sum(r["status"] == "ok" for r in manifest),
              "failed": sum(r["status"] == "failed" for r in manifest),
              "cold_total_s": round(sum(s["seconds"] for s in pipeline), 1),
              "peak_rss_gib": max(s["peak_rss_gib"] for s in pipeline),
              "peak_pss_gib": max(s["peak_pss_gib"] for s in pipeline),
              "site_mb": round(sum(f.stat().st_size for f in html.rglob("*") if f.is_file()) / 1e6, 1),
              "site_notebooks": len(list((html / "_sources").rglob("*.ipynb.zip"))), "site": site_size(html)}
    print(f"  → {result['leas']} LEAs ({result['failed']} failed): ingest → build {result['cold_total_s']:.0f} s "
          f"({result['cold_total_s'] / 60:.1f} min), peak {result['peak_rss_gib']} GiB", flush=True)
    return result


def warm(work: Path, jobs: int) -> dict:
    """Change one LEA's own rows in the tables (a correction), then run + build."""
    import duckdb

    print("\n3. Warm rebuild after one LEA's data changed", flush=True)
    root = work / "statewide"
    log = work / "warm.log"
    records = json.loads((root / "book" / "leas" / "manifest.json").read_text())
    target = next(r for r in records if r["status"] in ("ok", "skipped") and r["county_code"] == "19")
    levels = root / "data" / "processed" / "tables" / "levels.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN cds = '{target['cds']}' THEN enrolled + 1 ELSE enrolled END "
                    f"AS enrolled) FROM read_parquet('{levels}')) TO '{levels}.new' (FORMAT parquet)")
    Path(f"{levels}.new").replace(levels)
    run = step("run (one LEA changed)", root, cli(root, "run", "--jobs", str(jobs), "--allow-failures", "1000000",
                                                  "--timings", str(work / "timings-warm.json")), log)
    build = step("build (incremental)", root, cli(root, "build", "--jobs", str(jobs)), log, check=False)
    ran = json.loads((work / "timings-warm.json").read_text())["leas"]
    result = {"changed": target["cds"], "executed": [r["cds"] for r in ran], "run_s": run["seconds"],
              "build_s": build["seconds"], "total_s": round(run["seconds"] + build["seconds"], 1)}
    print(f"  → {len(ran)} LEA(s) executed; run + build {result['total_s']} s", flush=True)
    return result


def per_lea(work: Path, statewide_result: dict | None) -> dict:
    """Where an LEA's time goes, from the cold run's timings; plus a bare kernel start for scale."""
    from helpers.run import kernels

    print("\n4. Time per LEA", flush=True)
    timings = json.loads((work / "timings-cold.json").read_text())
    rows = [r for r in timings["leas"] if r["status"] == "ok"]
    starts = [r["kernel"] for r in rows if r.get("kernel_started")]  # a worker's first LEA starts its kernel
    resets = [r["kernel"] for r in rows if not r.get("kernel_started")]
    cells = list(zip(*[r["cells"] for r in rows if r.get("cells")]))
    labels = _cell_labels(ROOT / "notebooks" / "lea_report.ipynb")
    bare = []
    for _ in range(5):
        tick = time.perf_counter()
        kernel = kernels.Kernel(ROOT).start()
        bare.append(time.perf_counter() - tick)
        kernel.shutdown()
    mean = lambda xs: round(statistics.mean(xs), 3) if xs else None  # noqa: E731
    result = {
        "leas": len(rows), "wall_per_lea_s": round(timings["seconds"] / max(len(rows), 1), 3),
        "duration_mean_s": mean([r["duration"] for r in rows]),
        "kernel_start_mean_s": mean(starts), "kernel_starts": len(starts),
        "kernel_reset_mean_s": mean(resets), "execute_mean_s": mean([r["execute"] for r in rows]),
        "write_mean_s": mean([r["write"] for r in rows]),
        "cells_mean_s": {label: mean(list(c)) for label, c in zip(labels, cells)},
        "bare_kernel_start_s": mean(bare),
    }
    result["overhead_per_lea_s"] = round(result["duration_mean_s"] - sum(v or 0 for v in result["cells_mean_s"].values()), 3)
    if statewide_result:
        build = next(s for s in statewide_result["steps"] if s["step"] == "build")
        result["build_share_per_lea_s"] = round(build["seconds"] / max(statewide_result["leas"], 1), 3)
    print(json.dumps(result, indent=1), flush=True)
    return result


def _cell_labels(notebook: Path) -> list[str]:
    """A short label per code cell of the executed notebook (parameters, injected parameters, then the
    template's code cells by their first line)."""
    nb = json.loads(notebook.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    labels = []
    for i, cell in enumerate(code):
        labels.append("parameters" if "parameters" in cell["metadata"].get("tags", []) else
                      f"[{i + 1}] " + "".join(cell["source"]).strip().splitlines()[-1].strip()[:60])
        if i == 0:
            labels.append("injected parameters")
    return labels


# ---------------------------------------------------------------- 5. book scale


def scale(work: Path, sizes: list[str]) -> list[dict]:
    import book_scale

    print("\n5. Book build vs number of LEA pages (cold build, rebuild with nothing / one page changed)", flush=True)
    rows = []
    for size in sizes:
        for layout in (["full", "shipped"] if size != "all" else ["shipped"]):
            row = book_scale.measure(work / "statewide", work / "scale" / f"{layout}-{size}",
                                     None if size == "all" else int(size), layout)
            print(f"  {json.dumps(row)}", flush=True)
            rows.append(row)
    return rows


# ---------------------------------------------------------------- 6–8. five years, --help, per-LEA PDFs


YEARS = (2019, 2021, 2022, 2023, 2024)


def years(work: Path) -> dict:
    """Five statewide years (every LEA of the 2023 entities file, every student group): ingest + tables."""
    print(f"\n6. Five statewide years {YEARS}: ingest + tables", flush=True)
    log = work / "years.log"
    root = project(work / "years")
    raw = work / "raw-years"
    for year in YEARS:
        if not (raw / str(year)).exists():
            step(f"synth {year} (not counted)", root, cli(root, "synth", "statewide", str(raw / str(year)),
                                                          "--entities", str(ENTITIES), "--year", str(year)), log)
    rows = sum(sum(1 for _ in open(f, "rb")) - 1 for f in raw.rglob("*_all_*"))
    steps = [step("ingest", root, cli(root, "ingest", str(raw)), log), step("tables", root, cli(root, "tables"), log)]
    result = {"years": list(YEARS), "rows": rows, "steps": steps,
              "total_s": round(sum(s["seconds"] for s in steps), 1), "cpu_s": round(sum(s["cpu_s"] for s in steps), 1),
              "peak_rss_gib": max(s["peak_rss_gib"] for s in steps), "peak_pss_gib": max(s["peak_pss_gib"] for s in steps)}
    print(f"  → {rows:,} rows: ingest + tables {result['total_s']} s ({result['cpu_s']} s CPU), peak "
          f"{result['peak_rss_gib']} GiB RSS", flush=True)
    return result


def helps() -> dict:
    """Wall seconds of `caaspp-book --help` and of each command's `--help` (best of 3, a new process each)."""
    from helpers.cli import app

    print("\n7. --help", flush=True)
    commands = [[]] + [[c.name or c.callback.__name__.replace("_", "-")] for c in app.registered_commands]
    commands += [[g.name, c.name or c.callback.__name__.replace("_", "-")] for g in app.registered_groups
                 for c in g.typer_instance.registered_commands]
    commands += [[g.name] for g in app.registered_groups]
    out, cpu = {}, {}
    for args in commands:
        name = " ".join(args) or "(none)"
        out[name], cpu[name] = (round(x, 2) for x in min(_timed([PY, "-m", "helpers.cli", *args, "--help"])
                                                         for _ in range(3)))
    print(f"  → slowest {max(out.values())} s wall, {max(cpu.values())} s CPU: {json.dumps(out)}", flush=True)
    return {"seconds": out, "cpu_s": cpu, "slowest_s": max(out.values()), "slowest_cpu_s": max(cpu.values())}


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd`."""
    before, tick = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env_for(ROOT))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - tick, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def pdfs(work: Path, jobs: int) -> dict:
    """`caaspp-book pdf --force` on section 1's 50-LEA book: seconds per LEA PDF (its own timing) and wall."""
    print("\n8. Per-LEA PDFs of section 1's book", flush=True)
    root = work / "compare-ours"
    printed = step("caaspp-book pdf", root, cli(root, "pdf", "--jobs", str(jobs), "--force"), work / "pdf.log")
    timing = json.loads((root / "_build" / "pdf" / "index.json").read_text())["timing"]
    result = {"step": printed, **timing}
    print(f"  → {timing['lea_pdfs_printed']} LEA PDFs, {timing['seconds_per_lea_pdf']} s each", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="caaspp-book benchmarks (see the module docstring)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/caaspp-bench"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", nargs="+", default=["help", "compare", "pdf", "statewide", "warm", "years",
                                                      "scale"])
    parser.add_argument("--sizes", nargs="+", default=["100", "400", "all"])
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / "results.json"
    RESULTS.update(json.loads(results_path.read_text()) if results_path.exists() else {})
    RESULTS["machine"] = machine()
    print("machine:", json.dumps(RESULTS["machine"]), flush=True)
    sections = {"compare": lambda: compare(args.work, args.jobs),
                "statewide": lambda: statewide(args.work, args.jobs),
                "warm": lambda: warm(args.work, args.jobs),
                "scale": lambda: scale(args.work, args.sizes), "years": lambda: years(args.work),
                "help": helps, "pdf": lambda: pdfs(args.work, args.jobs)}
    for name in args.only:
        RESULTS[name] = sections[name]()
        if name == "statewide":
            RESULTS["per_lea"] = per_lea(args.work, RESULTS[name])
        results_path.write_text(json.dumps(RESULTS, indent=1) + "\n")
    print(f"\nresults: {results_path}")


if __name__ == "__main__":
    main()
