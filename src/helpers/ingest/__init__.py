"""Stage 1: CDE files of every layout era (research, entities, lookups, the Student Score Data File) → one typed Parquet store, and DuckDB queries of it.

One file, in reading order: `text` (bytes → UTF-8 text, header, rows as text columns) → `fields` (typed,
checked columns) → `research` / `lookups` / `student_file` (one reader per kind; `layouts` names the header
eras) → `detect` (which kind a file is). All files: `entities` (each row's entity) → `results` (every
research row, unique and sorted) → `build` (the store written; `build.ingest(paths, store)`). `schema` holds
the store's key and column types, `counting` the counting rules, `store` the queries of the written store.
"""
