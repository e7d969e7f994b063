"""Who counts as enrolled, tested and with scores: the rules of params/counting.yml, applied to student records.

Enrolled = every record; with scores = include indicator Y with a scale score (S6, verified); tested =
Y, T or R (derived, not verified: see params/counting.yml and docs/caaspp-facts.md §4f).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers.core.params import load_yaml
from helpers.core.paths import default_paths


@dataclass(frozen=True)
class ConditionRule:
    code: str
    include_indicator: str
    tests: frozenset[int] | None  # None: every test
    meaning: str


@dataclass(frozen=True)
class Rules:
    indicators: frozenset[str]
    tested: frozenset[str]
    with_scores: frozenset[str]
    conditions: dict[str, ConditionRule]


@lru_cache(maxsize=None)
def rules(params_dir: Path | None = None) -> Rules:
    """The counting rules from ``<params>/counting.yml``."""
    doc = load_yaml((params_dir or default_paths().params) / "counting.yml")
    codes = doc["include_indicator"]
    conditions = {str(k): ConditionRule(str(k), v["include_indicator"],
                                        None if v["tests"] is None else frozenset(int(t) for t in v["tests"]),
                                        v["meaning"])
                  for k, v in doc["condition_codes"].items()}
    return Rules(frozenset(codes), frozenset(k for k, v in codes.items() if v["tested"]),
                 frozenset(k for k, v in codes.items() if v["with_scores"]), conditions)


def flags(students: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(is_tested, is_scored) per record: the include indicator's rule; scored also needs a scale score."""
    r = rules()
    indicator = students["include_indicator"]
    tested = indicator.isin(r.tested).astype(bool)
    scored = (indicator.isin(r.with_scores) & students["scale_score"].notna()).astype(bool)
    return tested.rename("is_tested"), scored.rename("is_scored")


def condition_issues(frame: pd.DataFrame) -> list[tuple[pd.Series, str]]:
    """Records whose condition code disagrees with the rules: (mask, reason) pairs. Needs the columns
    condition_code, include_indicator and test_id."""
    r = rules()
    code = frame["condition_code"].fillna("").astype(str).str.strip()
    out: list[tuple[pd.Series, str]] = []
    for rule in r.conditions.values():
        has = code.eq(rule.code)
        if not has.any():
            continue
        out.append((has & frame["include_indicator"].ne(rule.include_indicator),
                    f"condition code {rule.code} implies include indicator {rule.include_indicator}"))
        if rule.tests is not None:
            out.append((has & ~frame["test_id"].isin(rule.tests),
                        f"condition code {rule.code} does not apply to this test"))
    unknown = code.ne("") & ~code.isin(list(r.conditions))
    out.append((unknown, "unknown condition code"))
    return [(mask, why) for mask, why in out if mask.any()]
