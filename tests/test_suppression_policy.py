"""Suppression policies on the real sample: by default the published rows are CDE's values as CDE published
them (its `*` kept, nothing more hidden); `--suppression complementary` hides every value that would give a
hidden one back by subtraction along any relation, the county and state totals included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from helpers.cli import app
from helpers.ingest import store as stores
from helpers.report import page_tables as report
from helpers.site import pages
from helpers.stats import contract, suppress

KEYS = ["year", "cds", "test_id", "grade", "student_group_id"]
VALUES = ["enrolled", "tested", "with_scores", "mean_scale_score", "pct_level_1", "pct_level_2", "pct_level_3",
          "pct_level_4", "pct_met_and_above"]
COUNTY, COE, DNCUSD, CASTLE_ROCK = "08000000000000", "08100820000000", "08618200000000", "08100820830059"
# ELA and math grades 4 and 5 of the COE in 2022 (13 and 14 students): public in CDE's file, hidden by the
# complementary policy (its locally funded charter Castle Rock has the same students in those grades)
COE_MEANS = {(1, 4): 2377.8, (1, 5): 2385.7, (2, 4): 2369.2, (2, 5): 2379.9}


@pytest.fixture(scope="module")
def results(sample_store):
    return pd.read_parquet(sample_store / "results.parquet")


@pytest.fixture(scope="module")
def levels(sample_tables):
    return pd.read_parquet(sample_tables / "levels.parquet")


@pytest.fixture(scope="module")
def complementary(sample_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("complementary") / "tables"
    result = CliRunner().invoke(app, ["tables", "--store", str(sample_store), "--out", str(out),
                                      "--suppression", "complementary"])
    assert result.exit_code == 0, result.output
    return out


def test_the_default_shows_every_value_exactly_as_cde_published_it(results, levels):
    both = levels.merge(results, on=KEYS, suffixes=("", "_file"), validate="one_to_one")
    assert len(both) == len(levels) == len(results) == 906
    for col in VALUES:
        shown = both[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        published = both[f"{col}_file"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(shown, published, err_msg=col)  # same numbers, same NaNs: no re-rounding
    assert (both["suppressed"] == both["results_suppressed"]).all()  # hidden exactly where the file had `*`
    assert set(both["suppression"]) == {"", "file"} and set(both["suppression_policy"]) == {"published"}


def test_values_complementary_suppression_hid_are_now_shown(sample_tables, tmp_path):
    piece = stores.lea_slice(sample_tables, COE, 2022)
    assert piece.suppression_policy == "published"
    table = report.by_grade(piece)
    for (test, grade), mean in COE_MEANS.items():
        row = table[(table["test"] == ("ELA" if test == 1 else "Mathematics")) & (table["grade"] == f"Grade {grade}")].iloc[0]
        assert row["mean_scale_score"] == f"{mean:.1f}"
    ela4 = table[(table["test"] == "ELA") & (table["grade"] == "Grade 4")].iloc[0]
    assert (ela4["with_scores"], ela4["pct_met_and_above"], ela4["pct_level_1"]) == ("13", "0.00", "69.23")
    [csv] = [p for p in report.write_csvs({"by_grade": table}, tmp_path, "coe") if p.name == "coe.by_grade.csv"]
    assert "2377.8" in csv.read_text() and "2385.7" in csv.read_text()
    # Castle Rock, grade 8 ELA: 2521.5 and 39.29 % met and above, as in CDE's 2022 file
    castle = report.by_grade(stores.lea_slice(sample_tables, CASTLE_ROCK, 2022))
    row = castle[(castle["test"] == "ELA") & (castle["grade"] == "Grade 8")].iloc[0]
    assert (row["mean_scale_score"], row["pct_met_and_above"]) == ("2521.5", "39.29")
    note = report.footnote(2022, piece.suppression_policy)
    assert "exactly as CDE published it" in note and "subtraction" not in note


def test_the_file_stars_stay_hidden_by_default(sample_tables):
    piece = stores.lea_slice(sample_tables, COE, 2021)
    ela = report.by_grade(piece)
    row = ela[(ela["test"] == "ELA") & (ela["grade"] == "Grade 11")].iloc[0]  # 9 with scores: `*` in CDE's 2021 file
    assert (row["with_scores"], row["pct_met_and_above"], row["mean_scale_score"]) == ("9", "*", "*")


def test_the_complementary_policy_is_recorded_and_hides_the_coe_grades(complementary):
    assert stores.suppression_policy(complementary) == "complementary"
    piece = stores.lea_slice(complementary, COE, 2022)
    assert piece.suppression_policy == "complementary"
    table = report.by_grade(piece)
    shown = set(table["mean_scale_score"])
    assert not shown & {f"{m:.1f}" for m in COE_MEANS.values()}
    ela4 = table[(table["test"] == "ELA") & (table["grade"] == "Grade 4")].iloc[0]
    assert (ela4["with_scores"], ela4["mean_scale_score"], ela4["pct_met_and_above"]) == ("*", "*", "*")
    assert "subtraction" in report.footnote(2022, piece.suppression_policy)


def relations(frame: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """Written here, not imported: a district = its schools and locally funded charters (its 7-digit code);
    a county = its districts (the county office among them) and direct-funded charters; the state = the
    counties; All Grades = the single grades; per year, test and group."""
    key = list(zip(frame["year"], frame["test_id"], frame["grade"], frame["student_group_id"]))
    cds, typ = frame["cds"].tolist(), frame["type_id"].tolist()
    by_key: dict[tuple, list[int]] = {}
    for i, k in enumerate(key):
        by_key.setdefault(k, []).append(i)
    out = []
    for i, (y, t, g, s) in enumerate(key):
        same = by_key[(y, t, g, s)]
        if typ[i] == 6:
            out.append((i, [j for j in same if j != i and cds[j][:7] == cds[i][:7] and typ[j] in (7, 10)]))
        if typ[i] == 5:
            out.append((i, [j for j in same if cds[j][:2] == cds[i][:2] and typ[j] in (6, 9)]))
        if typ[i] == 4:
            out.append((i, [j for j in same if typ[j] == 5]))
        if g == 13:
            out.append((i, [j for (y2, t2, g2, s2) in [(y, t, gg, s) for gg in range(3, 13)]
                            for j in by_key.get((y2, t2, g2, s2), []) if cds[j] == cds[i]]))
    return [(t, kids) for t, kids in out if kids]


def test_no_hidden_value_of_the_sample_comes_back_by_subtraction(complementary, results):
    lv = pd.read_parquet(complementary / "levels.parquet").merge(results[KEYS + VALUES], on=KEYS,
                                                                  suffixes=("", "_file"))
    rels = relations(lv)
    assert any(lv.loc[t, "cds"] == COUNTY and COE in set(lv.loc[kids, "cds"]) for t, kids in rels)
    leaks = []
    met = (lv["pct_met_and_above"].astype(float) * lv["with_scores"].astype(float) / 100).round()
    met_file = (lv["pct_met_and_above_file"].astype(float) * lv["with_scores_file"].astype(float) / 100).round()
    columns = {c: (lv[c], lv[f"{c}_file"]) for c in ("enrolled", "tested", "with_scores")}
    columns["students met and above"] = (met, met_file)
    for name, (shown, truth) in columns.items():
        shown = shown.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        truth = truth.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        for total, kids in rels:
            missing = [c for c in (total, *kids) if np.isnan(shown[c])]
            if len(missing) == 1 and not np.isnan(truth[missing[0]]):
                (cell,) = missing
                guess = sum(shown[k] for k in kids) if cell == total else \
                    shown[total] - sum(shown[k] for k in kids if k != cell)
                if guess == truth[cell]:
                    leaks.append((name, *lv.loc[cell, KEYS].tolist(), guess))
    assert not leaks


def test_the_coe_is_not_its_county_minus_the_other_leas(complementary):
    lv = pd.read_parquet(complementary / "levels.parquet")
    coe = lv[(lv["cds"] == COE) & lv["with_scores"].isna()]
    assert len(coe) >= 8  # the COE's small grades, e.g. 2022 ELA grade 4 (13 students)
    leas = lv[lv["type_id"].isin([6, 9]) & (lv["cds"].str[:2] == "08")]
    for row in coe.itertuples():
        same = leas[(leas["year"] == row.year) & (leas["test_id"] == row.test_id) & (leas["grade"] == row.grade)
                    & (leas["student_group_id"] == row.student_group_id)]
        county = lv[(lv["cds"] == COUNTY) & (lv["year"] == row.year) & (lv["test_id"] == row.test_id)
                    & (lv["grade"] == row.grade) & (lv["student_group_id"] == row.student_group_id)]
        # another LEA of the county, or the county itself, is hidden too
        assert same["with_scores"].isna().sum() >= 2 or county["with_scores"].isna().all(), row


def test_computed_rows_keep_complementary_suppression(results, sample_store):
    from helpers.synth.students import students_for_lea

    students = students_for_lea(sample_store, DNCUSD, 2022)
    lv = contract.levels(results, students)
    policy = lv.groupby("source")["suppression_policy"].unique().map(list).to_dict()
    assert policy == {"computed": ["complementary"], "published": ["published"]}
    assert (lv.loc[lv["source"] == "computed", "suppression"] == "complementary").any()
    with pytest.raises(ValueError, match="computed numbers need complementary"):
        suppress.suppress(lv, policy=suppress.PUBLISHED)


def test_the_methods_page_names_the_policy_applied():
    published, complementary = pages.suppression_page("published"), pages.suppression_page("complementary")
    assert "Policy of this book: values as published" in published
    assert "exactly as CDE published it" in published and "--suppression complementary" in published
    assert "Policy of this book: complementary suppression" in complementary
    assert "counties in the state" in complementary
    for text in (published, complementary):
        assert "a county (type 5) is the sum of its LEAs" in text  # the algorithm, for computed numbers


def test_an_unknown_policy_is_refused(sample_store, tmp_path):
    result = CliRunner().invoke(app, ["tables", "--store", str(sample_store), "--out", str(tmp_path / "t"),
                                      "--suppression", "none"])
    assert result.exit_code != 0 and "--suppression must be published or complementary" in result.output
