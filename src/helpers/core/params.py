"""Load the data files in params/ (test labels, suppression rules, student groups) into validated models."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, model_validator

from helpers.core import yamldoc
from helpers.core.paths import default_paths
from helpers.core.yamldoc import At, ParamsModel, Text

Count = Annotated[int, Field(ge=0)]


# ---------------------------------------------------------------- the files' models


class TestModel(ParamsModel):
    label: Text
    name: Text
    family: Text
    levels: list[Text] = Field(min_length=2)
    met_level: int

    @model_validator(mode="after")
    def _met_is_a_level(self) -> TestModel:
        if not 1 <= self.met_level <= len(self.levels):
            raise At(("met_level",), f"met_level {self.met_level} is not a level (1–{len(self.levels)})")
        return self


class TestsFile(ParamsModel):
    """``params/tests.yml``: test id → labels and level names; grade → label (13, 14) and a chart's short
    label where the label is too long to sit under a bar (14)."""

    tests: dict[int, TestModel] = Field(min_length=1)
    grades: dict[int, Text] = Field(default_factory=dict)
    grade_ticks: dict[int, Text] = Field(default_factory=dict)


class RuleModel(ParamsModel):
    from_: int = Field(alias="from")
    to: int | None
    min_count: Count
    min_results: Count
    min_area: Count
    min_domain: Count

    @model_validator(mode="after")
    def _ordered(self) -> RuleModel:
        if self.to is not None and self.to < self.from_:
            raise At(("to",), f"to {self.to} is before from {self.from_}")
        return self


class SuppressionFile(ParamsModel):
    """``params/suppression.yml``: the suppression thresholds by test years."""

    rules: list[RuleModel] = Field(min_length=1)


class GroupModel(ParamsModel):
    name: Text
    category: Text
    field: Text | None = None  # None: every student
    values: list[Any] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _values_with_field(self) -> GroupModel:
        if self.field is None and self.values is not None:
            raise At(("values",), "a group without a field (every student) takes no values")
        if self.field is not None and self.values is None:
            raise At(("values",), f"missing required key 'values' (the values of field '{self.field}')")
        return self


class RelationModel(ParamsModel):
    total: int
    parts: list[int] = Field(min_length=1)


def _partition_kind(value: Any) -> str:
    return "relation" if isinstance(value, dict) else "list"


Partition = Annotated[Annotated[list[int], Tag("list")] | Annotated[RelationModel, Tag("relation")],
                      Discriminator(_partition_kind)]


class StudentGroupsFile(ParamsModel):
    """``params/student_groups.yml``: computed groups, other groups' names, additive relations."""

    groups: dict[int, GroupModel] = Field(min_length=1)
    names: dict[int, Text] = Field(default_factory=dict)
    partitions: list[Partition] = Field(default_factory=list)


# ---------------------------------------------------------------- loaders


@dataclass(frozen=True)
class TestInfo:
    test_id: int
    label: str
    name: str
    family: str
    levels: tuple[str, ...]
    met_level: int


@dataclass(frozen=True)
class SuppressionRule:
    year_from: int
    year_to: int | None
    min_count: int
    min_results: int
    min_area: int  # Smarter Balanced claims/areas
    min_domain: int  # CAST and CAA domains


def _params(params_dir: Path | None) -> Path:
    return params_dir or default_paths().params


@lru_cache(maxsize=None)
def tests_file(params_dir: Path | None = None) -> TestsFile:
    return yamldoc.load(_params(params_dir) / "tests.yml", TestsFile)


@lru_cache(maxsize=None)
def tests(params_dir: Path | None = None) -> dict[int, TestInfo]:
    return {k: TestInfo(k, v.label, v.name, v.family, tuple(v.levels), v.met_level)
            for k, v in tests_file(params_dir).tests.items()}


@lru_cache(maxsize=None)
def grade_labels(params_dir: Path | None = None) -> dict[int, str]:
    return dict(tests_file(params_dir).grades)


def grade_label(grade: int) -> str:
    return grade_labels().get(int(grade), f"Grade {int(grade)}")


def grade_tick(grade: int) -> str:
    """A grade under a chart's bar: its number, or its short label (params/tests.yml `grade_ticks`)."""
    return tests_file().grade_ticks.get(int(grade)) or grade_label(grade).replace("Grade ", "")


def test_label(test_id: int) -> str:
    """A test's name for pages and CSVs; an ID params/tests.yml does not know (a finding at ingest) is shown
    as such rather than failing the page."""
    known = tests()
    return known[int(test_id)].label if int(test_id) in known else f"Test ID {int(test_id)} (unknown test)"


def test_info(test_id: int) -> TestInfo:
    known = tests()
    if int(test_id) not in known:
        raise KeyError(f"test {test_id} is not in params/tests.yml")
    return known[int(test_id)]


@lru_cache(maxsize=None)
def suppression_rules(params_dir: Path | None = None) -> tuple[SuppressionRule, ...]:
    doc = yamldoc.load(_params(params_dir) / "suppression.yml", SuppressionFile)
    return tuple(SuppressionRule(r.from_, r.to, r.min_count, r.min_results, r.min_area, r.min_domain)
                 for r in doc.rules)


@lru_cache(maxsize=None)
def student_groups(params_dir: Path | None = None) -> StudentGroupsFile:
    """``<params>/student_groups.yml``, validated."""
    return yamldoc.load(_params(params_dir) / "student_groups.yml", StudentGroupsFile)


@lru_cache(maxsize=None)
def group_names(params_dir: Path | None = None) -> dict[int, str]:
    """Student group ID → name: the groups computed from student records and the other groups research files
    report (params/student_groups.yml)."""
    doc = student_groups(params_dir)
    return {k: v.name for k, v in doc.groups.items()} | doc.names


def group_name(group_id: int) -> str:
    return group_names().get(int(group_id), f"Student group {int(group_id)}")


def pct_decimals(year: int) -> int:
    """Decimals of published level percentages: whole numbers before 2016–17 (facts §4a, S20)."""
    return 0 if int(year) <= 2016 else 2


def suppression_rule(year: int) -> SuppressionRule:
    for rule in suppression_rules():
        if rule.year_from <= year and (rule.year_to is None or year <= rule.year_to):
            return rule
    raise KeyError(f"no suppression rule for test year {year} in params/suppression.yml")
