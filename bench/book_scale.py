"""Jupyter Book build time and size against the number of LEA pages, per navigation layout.

Builds a minimal book (intro, the LEA index, county pages, LEA notebooks taken from an executed run's
manifest) with `caaspp-book`'s own toc and county pages, in a scratch folder, so the figures isolate
how navigation scales. Used by bench/run.py; standalone:

    python bench/book_scale.py --from /tmp/sw/proj --sizes 100 400 --layouts full shipped
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers import manifest  # noqa: E402
from helpers.site import book

# sphinx-book-theme options per layout (html_theme_options, merged into Jupyter Book's)
LAYOUTS = {
    "full": {},  # theme defaults: every LEA in every page's sidebar (max_navbar_depth 4)
    "collapsed": {"collapse_navbar": True},  # only the current county's LEAs
    "chapters": {"max_navbar_depth": 1},  # counties only; LEAs reached from county tables
    "lea-static": {"max_navbar_depth": 1},  # and LEA pages get a fixed sidebar (no toctree resolution)
    "shipped": {"max_navbar_depth": 1},  # lea-static + one doctree in memory (helpers.site.sphinx_memory): _config.yml
}
LEA_SIDEBAR = {"book/leas/*/[0-9]*": ["navbar-logo.html", "search-button-field.html", "caaspp-lea-nav.html"]}
SIDEBARS = {"lea-static": LEA_SIDEBAR, "shipped": LEA_SIDEBAR}


def make_book(source: Path, dest: Path, n: int | None, layout: str) -> list[manifest.LeaRecord]:
    """A scratch book in `dest` with the first `n` built LEAs of `source`'s manifest."""
    records = [r for r in manifest.read(source / "book" / "leas" / "manifest.json") if r.built][:n]
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "book" / "leas").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["sphinx"]["recursive_update"] = True
    config["sphinx"]["config"]["html_theme_options"] = LAYOUTS[layout]
    config["sphinx"]["config"].pop("html_sidebars", None)
    config["sphinx"]["config"].pop("templates_path", None)
    if layout in SIDEBARS:
        config["sphinx"]["config"]["html_sidebars"] = SIDEBARS[layout]
        config["sphinx"]["config"]["templates_path"] = ["book/_templates"]
        shutil.copytree(ROOT / "book" / "_templates", dest / "book" / "_templates")
    config["sphinx"]["config"].pop("html_static_path", None)
    config["sphinx"]["config"].pop("html_css_files", None)
    config["sphinx"]["config"].pop("html_js_files", None)
    config.get("html", {}).pop("favicon", None)
    extensions = [e for e in config["sphinx"]["config"]["extensions"] if e != "helpers.site.sphinx_memory"]
    config["sphinx"]["config"]["extensions"] = extensions + (["helpers.site.sphinx_memory"] if layout == "shipped" else [])
    (dest / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (dest / "book" / "intro.md").write_text("# Scale test\n\nLEA pages only.\n")
    for name in book.CHAPTERS:
        (dest / "book" / f"{name}.md").write_text(f"# {name}\n")
    for r in records:
        target = dest / r.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / r.notebook, target)
    book.write_county_pages(records, dest, dest / "book" / "leas")
    book.write_toc(records, dest, dest / "book" / "leas", dest / "_toc.yml")
    return records


def html_size(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "_build" / "html").rglob("*.html"))


def build(root: Path) -> tuple[float, bool, float]:
    """Jupyter Book as `caaspp-book build` runs it: seconds, success, peak RSS (GiB, sampled)."""
    import psutil

    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(root), "--builder", "html", "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    log = open(root / "build.log", "w")
    proc = subprocess.Popen(cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True)
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    log.close()
    out = (root / "build.log").read_text()
    ok = proc.returncode == 0 and (root / "_build" / "html" / "index.html").exists()
    if not ok:
        print(out[-3000:], file=sys.stderr)
    return time.perf_counter() - start, ok, peak / 2**30


def touch_one(root: Path, record: manifest.LeaRecord) -> None:
    """Change one LEA page's text (as a data change would) without touching the others."""
    path = root / record.notebook
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "".join(nb["cells"][0]["source"]) + " "
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def measure(source: Path, work: Path, n: int | None, layout: str) -> dict:
    records = make_book(source, work, n, layout)
    cold, ok, peak = build(work)
    size = html_size(work)
    noop, _, _ = build(work)
    touch_one(work, records[len(records) // 2])
    one, _, _ = build(work)
    return {"leas": len(records), "layout": layout, "cold_s": round(cold, 1), "ok": ok, "peak_rss_gib": round(peak, 2),
            "html_mb": round(size / 1e6, 1), "per_page_kb": round(size / 1e3 / max(len(records), 1), 1),
            "rebuild_nothing_changed_s": round(noop, 1), "rebuild_one_changed_s": round(one, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", type=Path, required=True, help="project root of an executed run")
    parser.add_argument("--work", type=Path, default=Path("/tmp/caaspp-book-scale"))
    parser.add_argument("--sizes", nargs="+", default=["100", "400", "all"])
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS))
    args = parser.parse_args()
    for size in args.sizes:
        for layout in args.layouts:
            row = measure(args.source, args.work / f"{layout}-{size}", None if size == "all" else int(size), layout)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
