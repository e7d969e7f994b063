"""Print README's package layout table from the tree: each stage's docstring, its modules' first lines.

    python scripts/layout_table.py            # print the table
    python scripts/layout_table.py --write    # replace the table in README.md (between its markers)

tests/test_layers.py checks that README's table is what this prints.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "helpers"
sys.path.insert(0, str(ROOT / "src"))
from helpers import LAYERS  # noqa: E402

STAGES = [stage for stage in LAYERS if stage != "cli"]
BEGIN, END = "<!-- layout:begin (scripts/layout_table.py --write) -->", "<!-- layout:end -->"


def first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return " ".join(doc.split("\n\n")[0].split())


def uses(stage: str) -> str:
    return ", ".join(f"`{s}`" for s in LAYERS[stage]) or "nothing of `helpers`"


def table() -> str:
    rows = ["| folder | what it holds | may import | modules |", "|---|---|---|---|"]
    for stage in STAGES:
        folder = PACKAGE / stage
        modules = sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")
        names = ", ".join(f"`{p.stem}`" for p in modules)
        rows.append(f"| `src/helpers/{stage}/` | {first_line(folder / '__init__.py')} | {uses(stage)} | {names} |")
    rows.append(f"| `src/helpers/cli.py` | {first_line(PACKAGE / 'cli.py')} | {uses('cli')} | |")
    return "\n".join(rows)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def main() -> None:
    if "--write" in sys.argv:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = text.index(BEGIN), text.index(END) + len(END)
        readme.write_text(text[:start] + block() + text[end:], encoding="utf-8")
    else:
        print(block())


if __name__ == "__main__":
    main()
