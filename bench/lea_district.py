"""LEA mode at district scale: a synthetic district of 60 schools and 40,000 students (80,000 student ×
test records, helpers.synth.students.district) through `caaspp-book lea` in a scratch project: the cold
build, a rerun with the same inputs, a rerun with a changed custom spec, and the PDF. Prints each phase's
wall time and the peak resident memory of this process and of its children (kernel, Jupyter Book,
Chromium):

    python bench/lea_district.py --work /tmp/lea-bench [--schools 60 --students 40000] [--no-pdf]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.core.paths import Paths  # noqa: E402
from helpers.lea_mode import book as lea_mode  # noqa: E402
from helpers.publish import pdf  # noqa: E402
from helpers.synth import students  # noqa: E402

CDS = "01999990000000"
SPEC = """name: "Grades 6–8, English learners{suffix}"
id: grades_6_8_el
year: 2022
grades: [6, 7, 8]
tests: [1, 2]
student_groups: [160]
"""


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def project(work: Path) -> Paths:
    root = work / "project"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for name in ("_config.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "book" / "_static", root / "book" / "_static")
    return Paths(root)


def phase(label: str, start: float, detail: str = "") -> None:
    own, child = peak_mb()
    print(f"{label:<28} {time.perf_counter() - start:8.1f} s   peak RSS {own:6.0f} MB (children {child:6.0f} MB)"
          f"   {detail}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/lea-bench"))
    ap.add_argument("--schools", type=int, default=60)
    ap.add_argument("--students", type=int, default=40_000)
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    frame = students.add_score_details(students.district(CDS, args.schools, args.students), seed=0)
    path = students.write_student_file(frame, args.work / "district.txt")
    phase("synthetic student file", start, f"{len(frame):,} records, {path.stat().st_size / 1e6:.1f} MB")
    p = project(args.work)
    spec = args.work / "spec.yml"
    spec.write_text(SPEC.format(suffix=""), encoding="utf-8")
    for label, suffix in (("cold build", ""), ("rerun, same inputs", ""), ("rerun, changed spec", " (edited)")):
        spec.write_text(SPEC.format(suffix=suffix), encoding="utf-8")
        start = time.perf_counter()
        result = lea_mode.run(p, path, CDS, (), [spec])
        if not result.ok:
            raise SystemExit(result.build.stderr[-3000:] + "\n".join(map(str, result.findings[:10])))
        ran = [s for s, d in result.steps.items() if d == "ran"]
        phase(label, start, f"ran: {', '.join(ran) or 'nothing'}")
    pages = sorted(result.paths.html.rglob("*.html"))
    biggest = max(pages, key=lambda f: f.stat().st_size)
    print(f"site: {len(pages)} HTML files, largest {biggest.name} {biggest.stat().st_size / 1e3:.0f} KB; "
          f"school pages: {len(list((result.paths.html / 'schools').glob('*.html')))}")
    if not args.no_pdf:
        start = time.perf_counter()
        done = pdf.make_lea(p, result.paths)
        phase("PDF", start, f"{done.status}, {done.pages} pages, {result.paths.pdf_file.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
