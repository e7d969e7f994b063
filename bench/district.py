"""The analyst's path (`caaspp-book district`) on the synthetic statewide set: cold (ingest → tables → run →
build), cold with the PDF, and a rerun after a notebook edit; wall seconds and peak memory of the command's
process tree, sampled: RSS summed (a page shared by Chromium's processes counted in each) and PSS summed
(each shared page split among its sharers, so counted once). Not a test. Figures go to docs/benchmarks.md.

    python bench/district.py --work /tmp/district-bench                       # the full 2023 set
    python bench/district.py --work /tmp/district-bench --max-entities 3000   # a smaller one
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil
import run  # bench/run.py, beside this file

ROOT = Path(__file__).resolve().parents[1]


def cli(project: Path, *args: str) -> tuple[float, float, float, float]:
    """Run `caaspp-book ARGS` in `project`: (seconds, peak RSS and peak PSS in GiB summed over its process
    tree, CPU seconds of the tree: what the wall time would be on an idle core)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "CAASPP_BOOK_ROOT": str(project), "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "helpers.cli", *args], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, watched = [0, 0], psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [p.memory_full_info() for p in [watched] + watched.children(recursive=True) if p.is_running()]
            peak = [max(peak[0], sum(m.rss for m in tree)), max(peak[1], sum(m.pss for m in tree))]
        except psutil.Error:
            pass
        time.sleep(0.1)
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"caaspp-book {' '.join(args)} failed:\n{out[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return (round(time.perf_counter() - start, 1), round(peak[0] / 2**30, 2), round(peak[1] / 2**30, 2),
            round(cpu, 1))


def project(work: Path) -> Path:
    """A scratch copy of the project's inputs (bench/run.py's)."""
    return run.project(work / "project")


def edit_notebook(root: Path) -> None:
    path = root / "notebooks" / "lea_report.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and "## " in "".join(c["source"]))
    cell["source"] = "".join(cell["source"]) + "\n\nEdited by bench/district.py."
    path.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/district-bench"))
    parser.add_argument("--cds", default="08618200000000")
    parser.add_argument("--max-entities", type=int)
    args = parser.parse_args()
    files = args.work / ("files" if args.max_entities is None else f"files-{args.max_entities}")
    print(json.dumps({"load_at_start": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}), flush=True)
    if not files.exists():
        extra = ["--max-entities", str(args.max_entities)] if args.max_entities else []
        seconds, *_ = cli(ROOT, "synth", "statewide", str(files), "--year", "2023", *extra)
        print(json.dumps({"synth_s": seconds}), flush=True)
    rows = sum(sum(1 for _ in open(f, "rb")) - 1 for f in files.glob("*_all_*"))
    root = project(args.work)
    cold = cli(root, "district", args.cds, str(files))
    edit_notebook(root)
    rerun = cli(root, "district", args.cds, str(files))
    root = project(args.work)
    with_pdf = cli(root, "district", args.cds, str(files), "--pdf")
    figures = {"cold": cold, "rerun_after_notebook_edit": rerun, "cold_with_pdf": with_pdf}
    print(json.dumps({"rows": rows, "cds": args.cds, "load_at_end": [round(x, 2) for x in os.getloadavg()]}
                     | {f"{k}_{m}": v[i] for k, v in figures.items() for i, m in enumerate(("s", "peak_rss_gib", "peak_pss_gib", "cpu_s"))}),
          flush=True)


if __name__ == "__main__":
    main()
