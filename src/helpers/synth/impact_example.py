"""The scores behind the illustrative cut-score impact tables: seeded synthetic CAPA raw scores, and
synthetic students reproducing the example LEA's published level percentages."""

from __future__ import annotations

from functools import partial

from helpers.stats.contract import ImpactInputs
from helpers.synth.capa import capa_students
from helpers.synth.students import students_for_lea


def inputs(seed: int = 0) -> ImpactInputs:
    """What `tables` classifies for the impact tables (the same seed gives the same tables)."""
    return ImpactInputs(capa=capa_students(seed=seed), students_for=partial(students_for_lea, seed=seed))
