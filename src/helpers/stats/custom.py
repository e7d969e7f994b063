"""Custom aggregates of student records from a small YAML spec (an LEA's own groupings of schools, grades,
tests and students), in the levels table shape with the same suppression as every other table.

A spec (see params/custom/example_grades_6_8_el.yml)::

    name: "Grades 6–8 at three schools, English learners"   # required
    id: grades_6_8_el          # optional (default: the file name); rows get cds "custom:<id>"
    year: 2022                 # optional: one test year
    schools: ["08618206005383", ...]   # optional: 14-digit CDS codes (quote them: leading zeros)
    grades: [6, 7, 8]          # optional
    tests: [1, 2]              # optional: test ids of params/tests.yml
    student_groups: [1, 160]   # optional, default [1]: one row set per group (params/student_groups.yml)
    filters: {el_status: [EL]} # optional: keep only records whose field has one of the values

Every selected record counts once per row, aggregated as one entity (type_id 0, cds "custom:<id>"): a row
per test × grade and, as in the research files, grade 13 (all selected grades) and 14 (grades 10–12).
Counting and statistics are ``tables.computed_levels``'s; suppression is ``suppress.suppress`` (primary
and complementary).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import Field, field_validator

from helpers.core import params, yamldoc
from helpers.core.yamldoc import At, ParamsModel, Text
from helpers.stats import suppress, tables

PSEUDO_CDS = "99999990000000"  # the one entity while aggregating (no county 99 exists)
CUSTOM_TYPE = 0  # type_id of custom rows: not a CDE Type ID (4–10); suppression needs a value (NA drops keys)

Values = Annotated[list[Any], Field(min_length=1)] | None
IntList = Annotated[list[int], Field(min_length=1)] | None


class FiltersModel(ParamsModel):
    """Student fields a spec may filter on, each → the values to keep."""

    sex: Values = None
    el_status: Values = None
    sed: Values = None
    disability: Values = None
    race: Values = None
    migrant: Values = None
    homeless: Values = None
    foster: Values = None
    military: Values = None


FILTER_FIELDS = tuple(FiltersModel.model_fields)


class CustomSpecFile(ParamsModel):
    """A custom aggregate spec (``params/custom/*.yml`` or any ``--custom`` file)."""

    name: Text
    id: Text | int | None = None
    year: int | None = None
    schools: Annotated[list[int | str], Field(min_length=1)] | None = None
    grades: IntList = None
    tests: IntList = None
    student_groups: IntList = None
    filters: FiltersModel | None = None
    note: str | None = None

    @field_validator("schools")
    @classmethod
    def _cds_codes(cls, raw: list[int | str] | None) -> list[str] | None:
        codes = None if raw is None else [str(v).zfill(14) if isinstance(v, int) else v.strip() for v in raw]
        for i, code in enumerate(codes or ()):
            if not code.isdigit() or len(code) != 14:
                raise At((i,), f"not a 14-digit CDS code: {raw[i]!r}")
        return codes

    @field_validator("grades")
    @classmethod
    def _tested_grades(cls, grades: list[int] | None) -> list[int] | None:
        for i, g in enumerate(grades or ()):
            if not 3 <= g <= 12:
                raise At((i,), f"grade {g} is not a tested grade (3–12)")
        return grades

    @field_validator("tests")
    @classmethod
    def _known_tests(cls, tests: list[int] | None) -> list[int] | None:
        known = params.tests()
        for i, t in enumerate(tests or ()):
            if t not in known:
                raise At((i,), f"unknown test {t} (params/tests.yml has {sorted(known)})")
        return tests

    @field_validator("student_groups")
    @classmethod
    def _known_groups(cls, groups: list[int] | None) -> list[int] | None:
        known = params.student_groups().groups
        for i, g in enumerate(groups or ()):
            if g not in known:
                raise At((i,), f"unknown student group {g} (params/student_groups.yml)")
        return groups


@dataclass(frozen=True)
class Spec:
    name: str
    id: str
    path: Path
    year: int | None
    schools: tuple[str, ...] | None
    grades: tuple[int, ...] | None
    tests: tuple[int, ...] | None
    groups: tuple[int, ...]
    filters: dict[str, tuple[Any, ...]]


def _tuple(values: list | None) -> tuple | None:
    return None if values is None else tuple(values)


def load(spec_path: str | Path) -> Spec:
    """Parse and check a spec on its own (school codes against records: see `select`)."""
    path = Path(spec_path)
    doc = yamldoc.read(path)
    m = yamldoc.validate(doc, CustomSpecFile)
    chosen = {} if m.filters is None else {k: getattr(m.filters, k) for k in doc.data["filters"]}
    filters = {k: tuple(v) for k, v in chosen.items() if v is not None}  # in the file's order
    return Spec(m.name, str(m.id or path.stem), path, m.year, _tuple(m.schools), _tuple(m.grades), _tuple(m.tests),
                _tuple(m.student_groups) or (1,), filters)


def select(students: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The records the spec selects; InputError (file and key) for a school with no records or for a
    selection that becomes empty (naming the key that emptied it)."""
    doc = yamldoc.read(spec.path)
    keep = pd.Series(True, index=students.index)
    steps: list[tuple[str, pd.Series]] = []
    if spec.year is not None:
        steps.append(("year", students["year"].eq(spec.year)))
    if spec.schools is not None:
        have = set(students["cds"])
        for i, code in enumerate(spec.schools):
            if code not in have:
                doc.fail(("schools", i), f"unknown school {code}: no student record has this CDS code")
        steps.append(("schools", students["cds"].isin(spec.schools)))
    if spec.grades is not None:
        steps.append(("grades", students["grade"].isin(spec.grades)))
    if spec.tests is not None:
        steps.append(("tests", students["test_id"].isin(spec.tests)))
    for fld, values in spec.filters.items():
        if fld not in students:
            doc.fail(("filters", fld), f"the student records have no field '{fld}'")
        steps.append((f"filters.{fld}", students[fld].isin(values)))
    if students.empty:
        doc.fail(("name",), "the selection is empty: there are no student records")
    for key, mask in steps:
        keep &= mask.fillna(False).astype(bool)
        if not keep.any():
            doc.fail(tuple(key.split(".")), f"the selection is empty after '{key}': no record matches")
    return students[keep]


def compute(students: pd.DataFrame, spec_path: str | Path) -> pd.DataFrame:
    """The custom aggregate in ``tables.LEVELS_COLUMNS`` with suppression applied and source "custom"."""
    spec = load(spec_path)
    chosen = select(students, spec)
    masks = tables.group_masks(chosen)
    if not any(masks.get(g, pd.Series(False)).any() for g in spec.groups):
        doc = yamldoc.read(spec.path)
        doc.fail(("student_groups",), "the selection is empty: no selected record is in these student groups")
    pseudo = chosen.assign(cds=PSEUDO_CDS, lea_cds=PSEUDO_CDS, county_code=PSEUDO_CDS[:2])
    levels = tables.computed_levels(pseudo, groups=list(spec.groups))
    out = levels[levels["cds"] == PSEUDO_CDS].copy()
    leas = chosen["lea_cds"].dropna().unique()
    counties = chosen["county_code"].dropna().unique()
    out["cds"] = f"custom:{spec.id}"
    out["lea_cds"] = leas[0] if len(leas) == 1 else pd.NA
    out["county_code"] = counties[0] if len(counties) == 1 else pd.NA
    out["type_id"] = CUSTOM_TYPE
    out["entity_name"] = spec.name
    out = suppress.suppress(out.reset_index(drop=True))
    out["source"] = "custom"
    return out[tables.LEVELS_COLUMNS].sort_values(["year", "test_id", "student_group_id", "grade"]).reset_index(
        drop=True)
