"""Distance from Standard (helpers.stats.dfs): recomputed here, independently, from the vendored 2022 research
file's grade rows (read with csv) and the Standard Met minimums typed from docs/caaspp-facts.md §1a."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.ingest import build as ingest
from helpers.ingest import store as stores
from helpers.report import page_tables as report
from helpers.site import chapters, pages
from helpers.stats import dfs, lea_tables
from helpers.synth.students import (
    add_score_details,
    students_for_lea,
    write_student_file,
)

from .conftest import DNCUSD, SAMPLE

FILE_2022 = SAMPLE / "research" / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
MET = {1: {3: 2432, 4: 2473, 5: 2502, 6: 2531, 7: 2552, 8: 2567, 11: 2583},  # §1a, L3 min, ELA
       2: {3: 2436, 4: 2485, 5: 2528, 6: 2552, 7: 2567, 8: 2586, 11: 2628}}  # math


def raw_rows() -> list[dict[str, str]]:
    with FILE_2022.open(encoding="cp1252", newline="") as f:
        return list(csv.DictReader(f, delimiter="^"))


def expected(rows: list[dict[str, str]], cds: str, test: int, hidden: frozenset = frozenset()) -> dict:
    """The entity's grade DFS and the All Grades DFS (grades whose mean is '*' or blank, or `hidden` by this
    book's suppression, left out)."""
    mine = [r for r in rows if r["County Code"] + r["District Code"] + r["School Code"] == cds
            and r["Test ID"] == str(test) and r["Student Group ID"] == "1" and int(r["Grade"]) in MET[test]]
    grade = {int(r["Grade"]): float(r["Mean Scale Score"]) - MET[test][int(r["Grade"])]
             for r in mine if r["Mean Scale Score"] not in ("", "*") and int(r["Grade"]) not in hidden}
    n = {int(r["Grade"]): int(r["Students with Scores"]) for r in mine if int(r["Grade"]) in grade}
    total = sum(n[g] * grade[g] for g in grade) / sum(n.values()) if n else None
    left = sorted(int(r["Grade"]) for r in mine if int(r["Grade"]) not in grade and r["Students with Scores"] != "0")
    assert hidden <= set(MET[test]) | {13}
    return {"grades": grade, "all": total, "left": left}


def leas_2022() -> list[str]:
    return sorted({r["County Code"] + r["District Code"] + r["School Code"] for r in raw_rows()
                   if r["Type ID"] == "6"})


@pytest.fixture(scope="module")
def levels(sample_tables: Path) -> pd.DataFrame:
    lv = pd.read_parquet(sample_tables / "levels.parquet")
    return lv[(lv["year"] == 2022) & (lv["student_group_id"] == 1) & (lv["source"] == "published")]


def value(levels: pd.DataFrame, cds: str, test: int, grade: int) -> pd.Series:
    return levels[(levels["cds"] == cds) & (levels["test_id"] == test) & (levels["grade"] == grade)].iloc[0]


def test_the_vendored_districts_dfs_matches_the_recomputation_in_levels_and_on_their_pages(levels, sample_tables,
                                                                                            tmp_path):
    rows = raw_rows()
    assert len(leas_2022()) == 2
    for cds in leas_2022():
        piece = stores.lea_slice(sample_tables, cds, 2022)
        report.write_csvs(report.dfs_tables(piece), tmp_path, cds)
        page = pd.read_csv(tmp_path / f"{cds}.dfs_by_grade.csv", dtype=str)
        for test, label in ((1, "ELA"), (2, "Mathematics")):
            mine = levels[(levels["cds"] == cds) & (levels["test_id"] == test)]
            hidden = frozenset(mine.loc[mine["suppressed"].astype(bool), "grade"])  # the book's suppression
            want = expected(rows, cds, test, hidden)
            for grade, d in want["grades"].items():
                assert value(levels, cds, test, grade)["dfs"] == pytest.approx(d, abs=1e-9)
                shown = page[(page["test"] == label) & (page["grade"] == f"Grade {grade}")]["dfs"].iloc[0]
                assert shown == f"{d:+.1f}"
            row = value(levels, cds, test, 13)
            assert row["dfs"] == pytest.approx(round(want["all"], 1), abs=1e-9)
            assert row["dfs_grades_left_out"] == "|".join(str(g) for g in sorted(set(want["left"]) | hidden - {13}))
            assert page[(page["test"] == label) & (page["grade"] == "All Grades")]["dfs"].iloc[0] == \
                f"{want['all']:+.1f}"
    # Del Norte County Unified, 2022: all seven grades published, none left out
    dn = {t: expected(rows, DNCUSD, t) for t in (1, 2)}
    assert (round(dn[1]["all"], 1), round(dn[2]["all"], 1)) == (-59.2, -96.0)
    assert dn[1]["left"] == dn[2]["left"] == []


def test_levels_csv_carries_the_dfs(sample_tables):
    lv = pd.read_csv(sample_tables / "levels.csv", dtype={"cds": str})
    row = lv[(lv["cds"] == DNCUSD) & (lv["year"] == 2022) & (lv["test_id"] == 1) & (lv["grade"] == 3)
             & (lv["student_group_id"] == 1) & (lv["source"] == "published")].iloc[0]
    assert row["dfs"] == pytest.approx(2348.6 - 2432)  # the file's grade 3 ELA mean − the §1a minimum


def test_a_grade_whose_mean_is_star_is_left_out_and_its_unpublished_count_is_not_worked_out(levels):
    school = "08100820830042"  # 2022: grade 8 is all '*' in the file; grade 11 (13 students) is published
    want = expected(raw_rows(), school, 1)
    assert want["left"] == [8] and list(want["grades"]) == [11]
    mine = levels[(levels["cds"] == school) & (levels["test_id"] == 1)].set_index("grade")
    assert not bool(mine.loc[11, "suppressed"]) and not bool(mine.loc[13, "suppressed"])  # shown as CDE did
    row = value(levels, school, 1, 13)
    assert row["dfs"] == pytest.approx(round(want["all"], 1), abs=1e-9)  # grade 11's alone
    assert row["dfs_grades_left_out"] == "8"
    assert pd.isna(row["dfs_students_left_out"])  # grade 8's count is '*': never worked out as 15 − 13
    assert report.left_out_text(row) == "Grade 8 (number of students not published)"


def test_left_out_students_are_counted_where_their_count_is_published():
    frame = pd.DataFrame({"year": 2022, "cds": "x", "test_id": 2, "student_group_id": 1, "source": "published",
                          "grade": [3, 4, 5, 13], "with_scores": [40, 30, 12, 82],
                          "mean_scale_score": [2400.0, np.nan, 2550.0, np.nan],
                          "suppressed": [False, True, False, False]})
    out = dfs.add(frame).set_index("grade")
    # math minimums 2436 and 2528 (§1a): (40 × −36 + 12 × 22) / 52
    assert out.loc[13, "dfs"] == round((40 * (2400 - 2436) + 12 * (2550 - 2528)) / 52, 1)
    assert (out.loc[13, "dfs_students_left_out"], out.loc[13, "dfs_grades_left_out"]) == (30, "4")
    assert np.isnan(out.loc[4, "dfs"])


def test_suppressed_rows_have_no_dfs(sample_tables):
    lv = pd.read_parquet(sample_tables / "levels.parquet")
    hidden = lv["suppressed"].astype(bool)
    assert hidden.any() and lv.loc[hidden, "dfs"].isna().all()
    assert lv.loc[hidden, "dfs_students_left_out"].isna().all()
    assert lv.loc[~lv["test_id"].isin([1, 2]), "dfs"].isna().all()


def test_the_trend_carries_dfs_and_its_change(sample_tables, levels):
    tr = pd.read_parquet(sample_tables / "trends.parquet")
    mine = tr[(tr["cds"] == DNCUSD) & (tr["test_id"] == 1) & (tr["grade"] == 13)
              & (tr["student_group_id"] == 1)].set_index("year")
    assert mine.loc[2022, "dfs"] == value(levels, DNCUSD, 1, 13)["dfs"]
    assert mine.loc[2022, "dfs_change_from_prior_year"] == pytest.approx(
        mine.loc[2022, "dfs"] - mine.loc[2021, "dfs"], abs=0.051)
    assert np.isnan(mine.loc[2020, "dfs"]) and np.isnan(mine.loc[2021, "dfs_change_from_prior_year"])
    assert "no testing" in mine.loc[2020, "note"]


def test_the_statewide_chapter_shows_the_state_dfs(sample_tables, tmp_path):
    lv = pd.read_parquet(sample_tables / "levels.parquet")
    tr = pd.read_parquet(sample_tables / "trends.parquet")
    text = chapters.summary_page(lv, tr, tmp_path)
    state = expected(raw_rows(), "0" * 14, 1)
    assert f"| ELA | All Grades | 2,965,421 | {state['all']:+.1f} | none |" in text
    assert "not the California School Dashboard's accountability population" in text


def test_methods_gives_the_formula_and_a_worked_example():
    text = pages.dfs_page()
    total = (120 * (2420.5 - 2432) + 100 * (2486.0 - 2473)) / 220  # grade 5's mean is '*': left out
    assert f"**{total:+.1f}**" in text and "grade 5 (12 students) is left out" in text
    assert "Σ n_g · DFS_g / Σ n_g" in text


def test_lea_mode_sets_the_students_dfs_beside_the_research_file_way(sample_store, tmp_path):
    students = add_score_details(students_for_lea(sample_store, DNCUSD, 2022, seed=0), seed=0)
    path = write_student_file(students, tmp_path / "dncusd_2022.txt", "camel")
    ingest.ingest([path, SAMPLE], tmp_path / "store", require_results=False)
    got = lea_tables.compute(tmp_path / "store", DNCUSD)["dfs"]
    scored = students[(students["include_indicator"] == "Y") & students["scale_score"].notna()
                      & students["test_id"].isin([1, 2])]
    distance = scored["scale_score"] - [MET[t][g] for t, g in zip(scored["test_id"], scored["grade"])]
    lea = got[(got["cds"] == DNCUSD)].set_index(["test_id", "grade"])
    for test in (1, 2):
        assert lea.loc[(test, 13), "dfs_students"] == round(distance[scored["test_id"] == test].mean(), 1)
        three = scored["test_id"].eq(test) & scored["grade"].eq(3)
        assert lea.loc[(test, 3), "dfs_students"] == round(distance[three].mean(), 1)
    want = expected(raw_rows(), DNCUSD, 1)
    assert lea.loc[(1, 13), "dfs_research_file"] == round(want["all"], 1)
    assert lea.loc[(1, 13), "dfs_diff"] == round(lea.loc[(1, 13), "dfs_students"] - round(want["all"], 1), 1)
    assert got.loc[got["suppressed"].astype(bool), "dfs_students"].isna().all()
