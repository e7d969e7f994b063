"""caaspp-book: a reproducible report book for California CAASPP assessment results."""

import sys

__version__ = "0.1.0"

# The stages and what each may import (layers point down: tests/test_layers.py, README's layout table).
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (),
    "ingest": ("core",),
    "stats": ("core", "ingest"),
    "report": ("core", "ingest", "stats"),
    "synth": ("core", "ingest", "stats"),
    "run": ("core", "ingest", "stats", "report"),
    "site": ("core", "ingest", "stats", "report"),
    "publish": ("core", "ingest", "stats", "report", "site"),
    "lea_mode": ("core", "ingest", "stats", "report", "synth", "run", "site", "publish"),
    "cli": ("core", "ingest", "stats", "report", "synth", "run", "site", "publish", "lea_mode"),
}

# nbformat, papermill and Jupyter Book validate with jsonschema, whose optional IRI format checker
# (rfc3987_syntax, installed through jupyter-events) compiles ~40 grammars when imported: ~2.5 s in every
# process that runs or builds notebooks, for a format none of them uses. It is not loaded in processes that
# import this package (jsonschema skips a checker it cannot import); one imported already is left alone.
sys.modules.setdefault("rfc3987_syntax", None)
