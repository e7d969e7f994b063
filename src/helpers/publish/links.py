"""Link check of a built site: every internal href/src must resolve to a file of the site, and a link's
#fragment to an element id (or anchor name) of its page."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from helpers.publish import checked


@dataclass(frozen=True)
class BrokenLink:
    page: str
    target: str

    def __str__(self) -> str:
        return f"{self.page}: {self.target}"


class _Refs:
    """An lxml parser target (libxml2's HTML parser, three times faster than `html.parser` on the site's
    pages): every start tag's href and src values, and its ids (and anchor names)."""

    def __init__(self) -> None:
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def start(self, tag: str, attrib) -> None:
        for name, value in attrib.items():
            if name in ("href", "src") and value:
                self.refs.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value or "")

    def close(self) -> _Refs:
        return self


def _parse(html: str) -> _Refs:
    parser = etree.HTMLParser(target=_Refs(), no_network=True, huge_tree=True)
    parser.feed(html)
    return parser.close()


def _internal(refs: list[str]) -> list[tuple[str, str]]:
    """(path, fragment) of the refs that point inside the site (no scheme); a bare fragment has path ''."""
    out = []
    for ref in refs:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc or not (parts.path or parts.fragment):
            continue
        out.append((unquote(parts.path), unquote(parts.fragment)))
    return out


def internal_refs(html: str) -> list[str]:
    """href and src paths that point inside the site (no scheme, not a bare fragment)."""
    return [path for path, _ in _internal(_parse(html).refs) if path]


def check(site: Path, record: Path | None = None, jobs: int = 1,
          shas: Mapping[str, str] | None = None) -> list[BrokenLink]:
    """Broken internal links of every HTML page under `site`: a link must stay inside the site, and its
    fragment, if any, must name an element of the page it points to. Theme assets in `_static/` are not
    pages (some are Jinja template fragments) and are not checked. `record`: where the pages' parse is
    remembered by content (helpers.publish.checked), so that only pages changed since are parsed; `jobs`:
    processes parsing at once; `shas`: see `checked.Record`."""
    site = site.resolve()
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    parsed = _parsed(site, pages, checked.Record(record, checked.source_key(sys.modules[__name__]), shas),
                     jobs)
    ids = {str(page): page_ids for page, (_refs, page_ids) in parsed.items()}
    root, broken = str(site), []
    targets: dict[tuple[str, str], str | None] = {}  # pages of a folder share their navigation's links
    real: dict[str, str] = {}  # folder → its real path
    for page, (refs, _ids) in parsed.items():
        here = str(page)
        for path, fragment in refs:
            base = here if not path else (root if path.startswith("/") else os.path.dirname(here))
            if (base, path) not in targets:
                targets[base, path] = _target(root, base, path, real)
            target = targets[base, path]
            ok = target is not None
            if ok and fragment and target.endswith(".html") and target in ids:
                ok = fragment in ids[target]
            if not ok:
                ref = path + (f"#{fragment}" if fragment else "")
                broken.append(BrokenLink(page.relative_to(site).as_posix(), ref))
    return broken


def _target(site: str, base: str, path: str, real: dict[str, str]) -> str | None:
    """The file of the site a link from `base` (a page, for a bare fragment; else a folder) points to, or None:
    the joined path resolved as `Path.resolve` resolves it, with each folder's real path found once (`real`)
    and the last part resolved only when it is a link."""
    if not path:
        target = base
    else:
        joined = os.path.join(base, path.lstrip("/"))
        head, name = os.path.split(joined)
        if name in ("", ".", ".."):
            target = os.path.realpath(joined)
        else:
            if head not in real:
                real[head] = os.path.realpath(head)
            target = os.path.join(real[head], name)
            if os.path.islink(target):
                target = os.path.realpath(target)
    if os.path.isdir(target):
        target = os.path.join(target, "index.html")
    inside = target == site or target.startswith(site.rstrip(os.sep) + os.sep)
    return target if inside and os.path.isfile(target) else None


def _parsed(site: Path, pages: list[Path], memo: checked.Record,
            jobs: int) -> dict[Path, tuple[list[tuple[str, str]], set[str]]]:
    """Each page's internal (path, fragment) refs and its ids: as remembered, or parsed (and remembered)."""
    kept = memo.check([(page, page.relative_to(site).as_posix()) for page in pages], _read, jobs)
    return {page: ([tuple(ref) for ref in refs], set(ids)) for page, (refs, ids) in zip(pages, kept)}


def _read(item: tuple[Path, str]) -> list[list]:
    found = _parse(item[0].read_text(encoding="utf-8", errors="replace"))
    return [sorted(set(_internal(found.refs))), sorted(found.ids)]
