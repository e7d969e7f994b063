"""MyST building blocks for generated chapters: numbered tables and figures, collapsible data tables."""

from __future__ import annotations

import re

import pandas as pd

from .pages import md_table
from .report import md_text


def label(*parts: object) -> str:
    """A cross-reference label from parts: lower-case ASCII words joined by hyphens."""
    text = "-".join(str(p) for p in parts)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def table(frame: pd.DataFrame, caption: str, name: str, index: bool = False, numbers: bool = False) -> str:
    """A numbered table with a caption (`caption` is Markdown: escape entity names with md_text);
    `numbers`: the compact style of the LEA pages' result tables."""
    style = ":class: caaspp-table\n" if numbers else ""
    return f"```{{table}} {_one_line(caption)}\n:name: {name}\n{style}\n{md_table(frame, index=index)}```\n"


def figure(path: str, caption: str, alt: str, name: str) -> str:
    """A numbered figure with a caption and alt text; `path` is relative to the including chapter."""
    return (f"```{{figure}} {path}\n:name: {name}\n:alt: {_one_line(alt)}\n:width: 100%\n\n"
            f"{_one_line(caption)}\n```\n")


def dropdown(title: str, body: str) -> str:
    """A collapsible block (sphinx-design), closed by default: the numbers behind a chart."""
    return f":::{{dropdown}} {_one_line(title)}\n\n{body}\n:::\n"


def chart(path: str, caption: str, alt: str, name: str, data: pd.DataFrame) -> str:
    """A numbered figure followed by the table of its numbers in a dropdown."""
    return figure(path, caption, alt, name) + "\n" + dropdown(
        f"Data for {{numref}}`{name}`", md_table(data)) + "\n"


def heading(level: int, text: str) -> str:
    return f"{'#' * level} {md_text(text)}\n"
