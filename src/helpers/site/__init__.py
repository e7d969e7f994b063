"""Stage 4: the Jupyter Book — generated chapters and pages, MyST blocks, release status, Sphinx extensions. Imports core, ingest, stats, report (never run)."""
