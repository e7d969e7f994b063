"""Link check of a built site: every internal href/src must resolve to a file of the site, and a link's
#fragment to an element id (or anchor name) of its page."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class BrokenLink:
    page: str
    target: str

    def __str__(self) -> str:
        return f"{self.page}: {self.target}"


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)
            elif name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value or "")


def _parse(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


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


def check(site: Path) -> list[BrokenLink]:
    """Broken internal links of every HTML page under `site`: a link must stay inside the site, and its
    fragment, if any, must name an element of the page it points to. Theme assets in `_static/` are not
    pages (some are Jinja template fragments) and are not checked."""
    site = site.resolve()
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)
    parsed = {p: _parse(p.read_text(encoding="utf-8", errors="replace")) for p in pages}
    broken = []
    for page, found in parsed.items():
        for path, fragment in _internal(found.refs):
            target = page if not path else ((site / path.lstrip("/")) if path.startswith("/") else page.parent / path)
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            ok = target.is_relative_to(site) and target.is_file()
            if ok and fragment and target.suffix == ".html" and target in parsed:
                ok = fragment in parsed[target].ids
            if not ok:
                ref = path + (f"#{fragment}" if fragment else "")
                broken.append(BrokenLink(page.relative_to(site).as_posix(), ref))
    return broken
