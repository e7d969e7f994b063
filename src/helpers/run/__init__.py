"""Stage 3 driver: executes the notebooks with papermill, incremental by input hash, on pluggable backends."""
