"""Stage 1: CDE files of every layout era (research, entities, lookups, the Student Score Data File) → one typed Parquet store, and DuckDB queries of it."""
