"""Load the data files in params/ (test labels, suppression rules)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from helpers.core.errors import InputError
from helpers.core.paths import default_paths


def load_yaml(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise InputError(path, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                         None if line is None else line + 1) from None


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


@lru_cache(maxsize=None)
def tests(params_dir: Path | None = None) -> dict[int, TestInfo]:
    doc = load_yaml((params_dir or default_paths().params) / "tests.yml")
    return {int(k): TestInfo(int(k), v["label"], v["name"], v["family"], tuple(v["levels"]), int(v["met_level"]))
            for k, v in doc["tests"].items()}


@lru_cache(maxsize=None)
def grade_labels(params_dir: Path | None = None) -> dict[int, str]:
    doc = load_yaml((params_dir or default_paths().params) / "tests.yml")
    return {int(k): str(v) for k, v in doc.get("grades", {}).items()}


def grade_label(grade: int) -> str:
    return grade_labels().get(int(grade), f"Grade {int(grade)}")


def test_info(test_id: int) -> TestInfo:
    known = tests()
    if int(test_id) not in known:
        raise KeyError(f"test {test_id} is not in params/tests.yml")
    return known[int(test_id)]


@lru_cache(maxsize=None)
def suppression_rules(params_dir: Path | None = None) -> tuple[SuppressionRule, ...]:
    path = (params_dir or default_paths().params) / "suppression.yml"
    return tuple(SuppressionRule(r["from"], r["to"], r["min_count"], r["min_results"], r["min_area"],
                                 r["min_domain"])
                 for r in load_yaml(path)["rules"])


@lru_cache(maxsize=None)
def group_names(params_dir: Path | None = None) -> dict[int, str]:
    """Student group ID → name: the groups computed from student records and the other groups research files
    report (params/student_groups.yml)."""
    doc = load_yaml((params_dir or default_paths().params) / "student_groups.yml")
    names = {int(k): str(v["name"]) for k, v in doc["groups"].items()}
    return names | {int(k): str(v) for k, v in (doc.get("names") or {}).items()}


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
