"""Seeded synthetic CAPA raw scores for the cut-score impact example (illustrative).

CAPA (STAR era) was given at five test levels: I (grades 2–11, the most severe disabilities),
II (2–3), III (4–5), IV (6–8) and V (9–11); science only at I, III, IV and V, in grades 5, 8 and 10.
Raw scores run from 0 to the level's maximum, read from the CAPA cut tables
(``params/cuts/capa.yml``, ``GradeCuts.hoss``), never hard-coded. Scores are beta-binomial:
``p ~ Beta(a, b)``, ``raw ~ Binomial(max, p)``, with the shapes in ``SHAPES`` (made up to be
plausible, like the tables' cuts): Level I is U-shaped (many students at the bottom and a larger
group near the top), Levels II–V are unimodal and skewed towards high scores.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.core import cuts as cutting
from helpers.core.cuts import CutTable

SUBJECT_LEVELS = {"ela": ("I", "II", "III", "IV", "V"), "math": ("I", "II", "III", "IV", "V"),
                  "science": ("I", "III", "IV", "V")}
GRADES = {"I": tuple(range(2, 12)), "II": (2, 3), "III": (4, 5), "IV": (6, 7, 8), "V": (9, 10, 11)}
SCIENCE_GRADES = {"I": (5, 8, 10), "III": (5,), "IV": (8,), "V": (10,)}
# Beta(a, b) of the share of raw points earned, per CAPA level (illustrative).
SHAPES = {"I": (0.9, 0.6), "II": (4.0, 2.0), "III": (3.6, 2.0), "IV": (3.4, 2.1), "V": (3.2, 2.2)}
SUBJECT_SHIFT = {"ela": 0.0, "math": -0.3, "science": -0.5}  # added to a: math and science a bit harder
CUT_SETS = ("panel", "sspi")
COLUMNS = ["year", "subject", "test_id", "capa_level", "grade", "raw_score"]


def raw_max(tables: Sequence[CutTable], subject: str, level: str, year: int) -> int:
    """The level's raw maximum (HOSS); ValueError if the panel and SSPI tables disagree."""
    hoss = {cutting.find(tables, f"capa_{subject}", year, cs).for_grade(level).hoss for cs in CUT_SETS}
    if len(hoss) != 1:
        raise ValueError(f"CAPA {subject} level {level} {year}: panel and SSPI maxima differ: {sorted(hoss)}")
    return int(hoss.pop())


def _block(rng: np.random.Generator, subject: str, level: str, n: int, top: int) -> pd.DataFrame:
    a, b = SHAPES[level]
    p = rng.beta(max(a + SUBJECT_SHIFT[subject], 0.2), b, n)
    grades = (SCIENCE_GRADES if subject == "science" else GRADES)[level]
    return pd.DataFrame({"subject": subject, "test_id": f"capa_{subject}", "capa_level": level,
                         "grade": rng.choice(np.asarray(grades, dtype=np.int64), n),
                         "raw_score": rng.binomial(top, p)})


def capa_students(seed: int = 0, n_per_level: int = 2000, year: int = 2008,
                  tables: Sequence[CutTable] | None = None) -> pd.DataFrame:
    """``n_per_level`` synthetic CAPA raw scores per subject × level (columns: year, subject,
    test_id, capa_level, grade, raw_score); the same seed gives the same frame."""
    tables = list(tables) if tables is not None else cutting.load_all()
    rng = np.random.default_rng(seed)
    parts = [_block(rng, subject, level, n_per_level, raw_max(tables, subject, level, year))
             for subject, levels in SUBJECT_LEVELS.items() for level in levels]
    out = pd.concat(parts, ignore_index=True).assign(year=int(year))
    return out[COLUMNS].astype({"year": "int64", "grade": "int64", "raw_score": "int64"})
