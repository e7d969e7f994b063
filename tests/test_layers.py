"""The package's layers point down only: a stage imports the stages below it, never one above.

core → ingest → stats → report → run (papermill) → site (Jupyter Book) → publish; synth sits beside
report (it draws students from the store's rows and the cut tables); lea_mode and the CLI may use any
stage. The site never imports the runner (nor papermill), so building and printing need no kernel.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import LAYERS

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "helpers"
BELOW = {stage: set(below) for stage, below in LAYERS.items()}
THIRD_PARTY_ABOVE = {"papermill": "run", "nbclient": "run", "jupyter_book": "site", "sphinx": "site",
                     "playwright": "publish", "typer": "cli", "dask": "run", "distributed": "run"}


def layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the source, at any depth (function-level imports count too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            if node.module == "helpers":
                found += [(node.lineno, f"helpers.{a.name}") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def violations(path: Path, source: str | None = None) -> list[str]:
    own = layer(path)
    allowed = BELOW[own] | {own}
    order = list(BELOW)
    out = []
    for line, module in imports(path.read_text(encoding="utf-8") if source is None else source):
        where = f"{path.relative_to(PACKAGE.parent)}:{line}"
        if module.startswith("."):
            out.append(f"{where}: relative import {module} (use helpers.<stage>.<module>)")
        elif module.startswith("helpers."):
            target = module.split(".")[1]
            if target in BELOW and target not in allowed:
                out.append(f"{where}: {own} imports {module}, a layer it may not use")
        else:
            top = module.split(".")[0]
            home = THIRD_PARTY_ABOVE.get(top)
            if home and order.index(own) < order.index(home) and own != "synth":
                out.append(f"{where}: {own} imports {module}, which belongs to {home} and above")
    return out


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_belongs_to_a_layer() -> None:
    assert {layer(p) for p in SOURCES} <= set(BELOW)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_point_down(path: Path) -> None:
    assert violations(path) == []


def test_the_check_sees_upward_and_relative_imports() -> None:
    probe = PACKAGE / "stats" / "probe.py"
    source = "from . import x\ndef f():\n    from helpers.run import runner\n    import papermill\n"
    assert violations(probe, source) == [
        "helpers/stats/probe.py:1: relative import . (use helpers.<stage>.<module>)",
        "helpers/stats/probe.py:3: stats imports helpers.run, a layer it may not use",
        "helpers/stats/probe.py:4: stats imports papermill, which belongs to run and above"]


def test_readme_layout_table_is_the_trees() -> None:
    import runpy

    script = runpy.run_path(str(PACKAGE.parents[1] / "scripts" / "layout_table.py"))
    readme = (PACKAGE.parents[1] / "README.md").read_text(encoding="utf-8")
    assert script["block"]() in readme, "README's layout table is stale: python scripts/layout_table.py --write"
