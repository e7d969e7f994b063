"""Stage 2 (`tables`): levels, % at and above, means, suppression, reconciliation, trends, impact, LEA-mode statistics — one vectorised pass."""
