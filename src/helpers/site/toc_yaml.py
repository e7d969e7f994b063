"""The table of contents read with libyaml's parser (PyYAML's `CSafeLoader`) where PyYAML has it.

sphinx-external-toc reads `_toc.yml` with `yaml.safe_load`, PyYAML's pure-Python parser, and a build reads it
twice (Jupyter Book's command, then Sphinx): 1.8 s each time for the statewide book's 2,345 entries (profiled,
docs/benchmarks.md run J). The C parser gives the same data (tests/test_toc_yaml.py) in a tenth of the time.
`book.jupyter_book` installs it in the Jupyter Book process, and `book.build` reads the written contents back
with it (a third read); nothing else reads YAML through it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import IO, Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(stream: str | IO) -> Any:
    return yaml.load(stream, Loader=LOADER)


def install() -> None:
    """sphinx-external-toc's parser module reads YAML with `safe_load` (its only use of its `yaml` name)."""
    from sphinx_external_toc import parsing

    parsing.yaml = SimpleNamespace(safe_load=safe_load)
