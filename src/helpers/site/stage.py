"""The site is built in a staging folder (kept between builds, so Sphinx builds incrementally) and replaces
`_build/html` only when it is complete and checked: a failed or interrupted build leaves the previous site
as it was. Before the swap, outputs of documents no longer in the book are removed from the staging copy."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

from helpers.core import atomic
from helpers.core.errors import Refusal
from helpers.core.paths import Paths
from helpers.site import notebooks, release

SPHINX_PAGES = {"genindex", "search", "index"}  # pages Sphinx and Jupyter Book write besides the documents
ASSET = re.compile(rb"(?:_images|_downloads)/[^\"'#?\s)<>]+")


def docnames(toc: dict) -> set[str]:
    """Every document of a Jupyter Book table of contents (root, chapters, sections, at any depth)."""
    found = {toc["root"]} if "root" in toc else set()
    for key in ("parts", "chapters", "sections"):
        for entry in toc.get(key, []):
            found |= ({entry["file"]} if "file" in entry else set()) | docnames(entry)
    return found


def begin(p: Paths) -> bool:
    """Mark the staging folder as being written; True when the previous build was interrupted there (its
    pages may be half-written: this build must write every page)."""
    interrupted = p.staging_flag.exists()
    p.staging_flag.parent.mkdir(parents=True, exist_ok=True)
    p.staging_flag.write_text("a build is writing this folder\n", encoding="utf-8")
    return interrupted


def end(p: Paths) -> None:
    p.staging_flag.unlink(missing_ok=True)


def prune(html: Path, docs: set[str], csvs: set[str]) -> list[str]:
    """Remove what Sphinx left of documents no longer in the book (their pages and source copies), images
    and downloads no page links, LEA CSV zips and chapter CSVs not written this build (`csvs`), and the
    theme's source maps (`drop_source_maps`); returns them."""
    stale = []
    for rel in atomic.entries(html):
        top, path = rel.split("/", 1)[0], Path(rel)
        if top == "_sources":
            source = rel[len("_sources/"):].removesuffix(notebooks.ZIPPED)  # a notebook is offered zipped
            gone = Path(source).with_suffix("").as_posix() not in docs
        elif path.suffix == ".html" and top not in ("_static", "_images", "_downloads"):
            gone = path.with_suffix("").as_posix() not in docs | SPHINX_PAGES
        elif rel.endswith((".csv", notebooks.TABLES)) and rel.startswith(("book/leas/", "book/_data/")):
            gone = rel not in csvs
        else:
            continue
        if gone:
            stale.append(rel)
    for rel in stale:
        (html / rel).unlink()
    stale += _unlinked_assets(html) + drop_source_maps(html)
    _remove_empty_folders(html)
    return stale


REDIRECT = re.compile(r'<meta http-equiv="Refresh" content="0; url=([\w./-]+)" />')
ROOT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={url}">
{icon}<title>CAASPP results report</title>
</head>
<body><p><a href="{url}">Open the report</a></p></body>
</html>
"""


def root_redirect(html: Path) -> None:
    """Jupyter Book's root page is one meta refresh: give it the site's icon (a browser would otherwise ask
    for /favicon.ico, which the site does not have), a title and a link to follow."""
    page = html / "index.html"
    found = REDIRECT.fullmatch(page.read_text(encoding="utf-8").strip()) if page.exists() else None
    if found:
        icon = '<link rel="icon" href="_static/favicon.svg">\n' if (html / "_static" / "favicon.svg").exists() else ""
        page.write_text(ROOT_PAGE.format(url=found.group(1), icon=icon), encoding="utf-8")


def _unlinked_assets(html: Path) -> list[str]:
    """Remove the files in _images/ and _downloads/ that no page refers to; return them."""
    linked = set()
    for page in html.rglob("*.html"):
        linked |= {unquote(m.decode("utf-8", "replace")) for m in ASSET.findall(page.read_bytes())}
    stale = [rel for folder in ("_images", "_downloads") if (html / folder).is_dir()
             for rel in (f"{folder}/{f}" for f in atomic.entries(html / folder)) if rel not in linked]
    for rel in stale:
        (html / rel).unlink()
    return stale


def drop_source_maps(html: Path) -> list[str]:
    """Remove the theme's source maps (`_static/**/*.map`: its minified scripts and styles mapped back to their
    sources, for a developer's debugger; 3.4 MB, the site's largest fixed files); return them."""
    maps = sorted(html.glob("_static/**/*.map"))
    for f in maps:
        f.unlink()
    return [f.relative_to(html).as_posix() for f in maps]


def _remove_empty_folders(folder: Path) -> None:
    for top, _dirs, _files in os.walk(folder, topdown=False):
        if top != str(folder) and not os.listdir(top):
            os.rmdir(top)


def check_site(html: Path) -> None:
    """Refusal unless `html` is absent or a site this tool built holding only the files it recorded."""
    if not html.exists():
        return
    files = set(atomic.entries(html))
    if not files:
        return
    try:
        record = release.read_record(html)
    except (FileNotFoundError, ValueError):
        raise Refusal(f"{html} is not a site caaspp-book built (no {release.RECORD}): not replaced. Move it "
                      "away first.") from None
    known = record.get("files")
    foreign = sorted(files - set(known) - {release.RECORD}) if known is not None else []
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        raise Refusal(f"{html} has files caaspp-book did not write: {', '.join(foreign[:5])}{more}. Not "
                      "replaced: move them away first.")


def replace_site(p: Paths) -> Path | None:
    """Copy the staged site to `html_next` (a file unchanged since the current site's copy is linked, not
    copied) and swap it with `html` in one step; returns where the previous site now is, for the caller to
    remove. Call with interrupts held (atomic.interrupts_held)."""
    check_site(p.html)
    shutil.rmtree(p.html_next, ignore_errors=True)
    for rel in atomic.entries(p.staging_html):
        src, dst, current = p.staging_html / rel, p.html_next / rel, p.html / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if _same_copy(src, current):
            try:
                os.link(current, dst)
                continue
            except OSError:
                pass
        shutil.copy2(src, dst)
    return atomic.swap_in(p.html_next, p.html)


def _same_copy(src: Path, copy: Path) -> bool:
    """`copy` is what copy2 made of `src` (same size and modification time), and a plain file."""
    try:
        a, b = src.stat(), copy.lstat()
    except FileNotFoundError:
        return False
    return copy.is_file() and not copy.is_symlink() and a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
