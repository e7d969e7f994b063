"""Link check of a built site: every internal href/src must resolve to a file of the site."""

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

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append(value)


def internal_refs(html: str) -> list[str]:
    """href and src values that point inside the site (no scheme, not a bare fragment)."""
    parser = _Refs()
    parser.feed(html)
    out = []
    for ref in parser.refs:
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc or ref.startswith("#") or not parts.path:
            continue
        out.append(unquote(parts.path))
    return out


def check(site: Path) -> list[BrokenLink]:
    """Broken internal links of every HTML page under `site` (a link must stay inside the site). Theme
    assets in `_static/` are not pages (some are Jinja template fragments) and are not checked."""
    site = site.resolve()
    broken = []
    for page in sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts):
        for ref in internal_refs(page.read_text(encoding="utf-8", errors="replace")):
            target = (site / ref.lstrip("/")) if ref.startswith("/") else (page.parent / ref)
            target = target.resolve()
            ok = target.is_relative_to(site) and (target.is_file() or (target / "index.html").is_file())
            if not ok:
                broken.append(BrokenLink(page.relative_to(site).as_posix(), ref))
    return broken
