"""Who counts as enrolled, tested and with scores: the rules of params/counting.yml, applied to student records.

Enrolled = every record; with scores = include indicator Y with a scale score (S6, verified); tested =
Y, T or R (derived, not verified: see params/counting.yml and docs/caaspp-facts.md §4f).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from pydantic import Field, model_validator

from helpers.core import yamldoc
from helpers.core.paths import default_paths
from helpers.core.yamldoc import At, ParamsModel, Text


class IndicatorModel(ParamsModel):
    tested: bool
    with_scores: bool
    meaning: Text


class ConditionModel(ParamsModel):
    include_indicator: Text
    tests: list[int] | None = None  # None: every test
    meaning: Text


class CountingFile(ParamsModel):
    """``params/counting.yml``: include indicators, condition codes and the documents they cite."""

    include_indicator: dict[str, IndicatorModel] = Field(min_length=1)
    condition_codes: dict[str, ConditionModel] = Field(default_factory=dict)
    sources: dict[str, Text] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> CountingFile:
        for code, v in self.include_indicator.items():
            if v.with_scores and not v.tested:
                raise At(("include_indicator", code, "with_scores"), "a record with scores must count as tested")
        known = ", ".join(self.include_indicator)
        for code, c in self.condition_codes.items():
            if c.include_indicator not in self.include_indicator:
                raise At(("condition_codes", code, "include_indicator"),
                         f"unknown include indicator {c.include_indicator!r} (known: {known})")
        return self


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
def load(params_dir: Path | None = None) -> CountingFile:
    """``<params>/counting.yml``, validated."""
    return yamldoc.load((params_dir or default_paths().params) / "counting.yml", CountingFile)


@lru_cache(maxsize=None)
def rules(params_dir: Path | None = None) -> Rules:
    """The counting rules from ``<params>/counting.yml``."""
    doc = load(params_dir)
    codes = doc.include_indicator
    conditions = {k: ConditionRule(k, v.include_indicator, None if v.tests is None else frozenset(v.tests), v.meaning)
                  for k, v in doc.condition_codes.items()}
    return Rules(frozenset(codes), frozenset(k for k, v in codes.items() if v.tested),
                 frozenset(k for k, v in codes.items() if v.with_scores), conditions)


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
