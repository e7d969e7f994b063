"""Seeded synthetic data: students reproducing an LEA's published rows, CAPA raw scores, a statewide set for benchmarks."""
