"""Synthetic CAPA raw scores: maxima from the cut tables, every level present, seeded."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from helpers.core.cuts import GradeCuts, find, load_all
from helpers.core.levels import classify_frame
from helpers.synth.capa import capa_students, raw_max

from .conftest import ROOT

TABLES = load_all(ROOT / "params")
LEVELS = {"ela": {"I", "II", "III", "IV", "V"}, "math": {"I", "II", "III", "IV", "V"},
          "science": {"I", "III", "IV", "V"}}
GRADES = {"I": set(range(2, 12)), "II": {2, 3}, "III": {4, 5}, "IV": {6, 7, 8}, "V": {9, 10, 11}}


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    return capa_students(seed=0, n_per_level=500, tables=TABLES)


def test_levels_grades_and_columns(scores):
    assert list(scores.columns) == ["year", "subject", "test_id", "capa_level", "grade", "raw_score"]
    assert (scores["year"] == 2008).all()
    assert {s: set(g["capa_level"]) for s, g in scores.groupby("subject")} == LEVELS
    assert scores.groupby(["subject", "capa_level"]).size().eq(500).all()
    other = scores[scores["subject"] != "science"]
    for level, g in other.groupby("capa_level"):
        assert set(g["grade"]) <= GRADES[level], level
    assert set(scores.loc[scores["subject"] == "science", "grade"]) == {5, 8, 10}


def test_raw_scores_within_table_maxima(scores):
    assert (scores["raw_score"] >= 0).all()
    for (subject, level), g in scores.groupby(["subject", "capa_level"]):
        for cut_set in ("panel", "sspi"):
            table = find(TABLES, f"capa_{subject}", 2008, cut_set)
            assert g["raw_score"].max() <= table.for_grade(level).hoss
    level1 = scores[scores["capa_level"] == "I"]["raw_score"]
    assert level1.max() > 32  # Level I's maximum (40) is used, not the 32 of Levels II–V


def test_both_cut_sets_classify_every_score(scores):
    for cut_set in ("panel", "sspi"):
        codes = classify_frame(scores, TABLES, score_col="raw_score", grade_col="capa_level", cut_set=cut_set)
        assert codes.between(1, 5).all()
        assert set(codes) == {1, 2, 3, 4, 5}


def test_determinism(scores):
    pd.testing.assert_frame_equal(scores, capa_students(seed=0, n_per_level=500, tables=TABLES))
    other = capa_students(seed=1, n_per_level=500, tables=TABLES)
    assert not other["raw_score"].equals(scores["raw_score"])


def test_maxima_come_from_the_tables():
    panel = find(TABLES, "capa_math", 2008, "panel")
    sspi = find(TABLES, "capa_math", 2008, "sspi")
    grades = dict(panel.grades, II=GradeCuts(0, (6, 12, 19, 25), 30))
    smaller = dataclasses.replace(panel, grades=grades)
    assert raw_max(TABLES, "math", "II", 2008) == 32
    with pytest.raises(ValueError, match="panel and SSPI maxima differ"):
        raw_max([smaller, sspi], "math", "II", 2008)
    sspi_grades = dict(sspi.grades, II=GradeCuts(0, (6, 12, 19, 25), 30))
    both = [smaller, dataclasses.replace(sspi, grades=sspi_grades)]
    tables = [t for t in TABLES if t.test_id != "capa_math"] + both
    assert capa_students(seed=0, n_per_level=300, tables=tables).query(
        "subject == 'math' and capa_level == 'II'")["raw_score"].max() <= 30
