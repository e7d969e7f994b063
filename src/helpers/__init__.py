"""caaspp-book: a reproducible report book for California CAASPP assessment results."""

__version__ = "0.1.0"
