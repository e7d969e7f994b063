"""Stage 4: the Jupyter Book — generated chapters and pages, MyST blocks, release status, Sphinx extensions."""
