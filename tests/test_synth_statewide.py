"""The statewide synthetic research-file set (helpers.synth.statewide), on the real 2023 entities rows of
counties 08 (Del Norte) and 12 (Humboldt) with a few student groups.

Each file set is written twice from the same seed: as published (suppressed) and as the ground truth
(``suppress=False``: every count and result shown, same draws). Additivity is checked on the ground truth
read back from an ingested store; suppression is checked cell by cell against it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.ingest import build as ingest
from helpers.ingest import layouts
from helpers.synth import statewide as synth

from .conftest import ROOT, SAMPLE

ENTITIES = ROOT / "tests" / "fixtures" / "real" / "sb_ca2023entities_csv__counties_08_12.txt"
GROUPS = [1, 3, 4, 31, 111, 76, 160]
SEED = 7
SB = "sb_ca2023_all_synthetic_v1.txt"
CAST = "cast_ca2023_all_synthetic_v1.txt"
ERA_C = next(e.label for e in layouts.RESULT_ERAS if e.id == "C")
COUNTS = ["enrolled", "tested", "with_scores"]
LEVELS = ["pct_level_1", "pct_level_2", "pct_level_3", "pct_level_4"]
RESULTS = ["mean_scale_score", *LEVELS, "pct_met_and_above"]
GRADE_KEY = ["test_id", "student_group_id", "grade"]
# LOSS/HOSS from 2020–21 on (docs/caaspp-facts.md §1b) and CAST level ranges (§2a); grade 14 = high school.
SCORE_RANGE = {
    1: {3: (2115, 2650), 4: (2140, 2690), 5: (2200, 2730), 6: (2230, 2770), 7: (2260, 2810), 8: (2290, 2850),
        11: (2300, 2900)},
    2: {3: (2190, 2660), 4: (2205, 2700), 5: (2220, 2740), 6: (2235, 2780), 7: (2250, 2820), 8: (2265, 2860),
        11: (2280, 2900)},
    17: {5: (150, 250), 8: (350, 450), 10: (550, 650), 11: (550, 650), 12: (550, 650), 14: (550, 650)},
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, tuple[Path, dict, pd.DataFrame, pd.DataFrame]]:
    base = tmp_path_factory.mktemp("synth_statewide")
    out = {}
    for label, suppress in (("shown", True), ("truth", False)):
        folder, store = base / label, base / f"{label}_store"
        report = synth.generate(ENTITIES, folder, year=2023, seed=SEED, groups=GROUPS, suppress=suppress)
        ingest.ingest([folder], store)
        out[label] = (folder, report, pd.read_parquet(store / "results.parquet"),
                      pd.read_parquet(store / "sources.parquet"))
    return out


@pytest.fixture(scope="module")
def truth(made) -> pd.DataFrame:
    return made["truth"][2]


@pytest.fixture(scope="module")
def shown(made) -> pd.DataFrame:
    return made["shown"][2]


def _by(frame: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    return frame.groupby(keys)[cols].sum().astype("int64").sort_index()


def _assert_sums(children: pd.DataFrame, parents: pd.DataFrame, keys: list[str], cols=COUNTS) -> None:
    """Parent rows exist exactly where children do and carry their sums."""
    want, got = _by(children, keys, cols), _by(parents, keys, cols)
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


# ---------------------------------------------------------------- files and ingest


def test_files_ingest_as_era_c_with_the_reported_row_counts(made):
    for label in ("shown", "truth"):
        folder, report, results, sources = made[label]
        assert set(report["files"]) == {SB, CAST}
        research = sources[sources["kind"] == "results"].set_index("file")
        assert set(research.index) == {SB, CAST}
        assert (research["era"] == ERA_C).all()
        for name, rows in report["files"].items():
            assert research.loc[name, "rows_read"] == rows
            assert (results["source_file"] == name).sum() == rows
        assert len(results) == report["rows"] == sum(report["files"].values())
        assert sources.set_index("file").loc["sb_ca2023entities_csv.txt", "kind"] == "entities"
        assert (folder / "sb_ca2023entities_csv.txt").read_bytes() == ENTITIES.read_bytes()


def test_layout_is_the_real_2021_2023_caret_layout(made):
    folder = made["shown"][0]
    real_sb = (SAMPLE / "research" / "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt").read_bytes()
    real_cast = (SAMPLE / "research" / "cast_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt").read_bytes()
    for name, real, test_type, tests in ((SB, real_sb, "B", {"1", "2"}), (CAST, real_cast, "X", {"17"})):
        data = (folder / name).read_bytes()
        assert b"\r" not in data and data.endswith(b"\n")
        header, *lines = data.decode("cp1252").split("\n")[:-1]
        assert header == real.split(b"\n", 1)[0].decode("cp1252")
        assert header.split("^")[-1] == "Type ID"
        width = len(header.split("^"))
        fields = [ln.split("^") for ln in lines]
        assert {len(f) for f in fields} == {width}
        assert {f[6] for f in fields} == {test_type} and {f[10] for f in fields} == tests
        assert {f[4] for f in fields} == {"2023"} and {f[3] for f in fields} == {""}


def test_every_entity_with_schools_has_rows(made, truth):
    ent = pd.read_csv(ENTITIES, sep="^", dtype=str, keep_default_na=False)
    cds = set(ent["County Code"] + ent["District Code"] + ent["School Code"])
    have = set(truth["cds"])
    assert have <= cds
    assert {"00000000000000", "08000000000000", "12000000000000"} <= have
    districts = ent[ent["Type ID"] == "6"]
    schools = ent[ent["Type ID"].isin(["7", "10"])]
    with_schools = set(schools["County Code"] + schools["District Code"])
    for c, d in zip(districts["County Code"], districts["District Code"]):
        if c + d in with_schools:
            assert c + d + "0000000" in have
    assert made["truth"][1]["entities"] == len(ent)


# ---------------------------------------------------------------- additivity (ground truth)


def test_districts_are_sums_of_their_schools(truth):
    grades = truth[~truth["grade"].isin([13, 14])]
    schools = grades[grades["type_id"].isin([7, 10])]
    districts = grades[grades["type_id"] == 6]
    _assert_sums(schools, districts, ["county_code", "district_code", *GRADE_KEY])


def test_counties_are_sums_of_districts_and_direct_funded_charters(truth):
    grades = truth[~truth["grade"].isin([13, 14])]
    leas = grades[grades["type_id"].isin([6, 9])]
    assert (leas["type_id"] == 9).any()
    _assert_sums(leas, grades[grades["type_id"] == 5], ["county_code", *GRADE_KEY])


def test_state_is_the_sum_of_counties(truth):
    grades = truth[~truth["grade"].isin([13, 14])]
    _assert_sums(grades[grades["type_id"] == 5], grades[grades["type_id"] == 4], GRADE_KEY)


def test_grade_13_is_the_sum_of_grades_and_14_of_high_school(truth):
    key = ["cds", "test_id", "student_group_id"]
    _assert_sums(truth[~truth["grade"].isin([13, 14])], truth[truth["grade"] == 13], key)
    hs = truth[(truth["test_id"] == 17)]
    _assert_sums(hs[hs["grade"].isin([10, 11, 12])], hs[hs["grade"] == 14], key)


def test_reporting_level_totals_are_the_all_grades_counts(truth):
    key = ["cds", "test_id", "student_group_id"]
    g13 = truth.loc[truth["grade"] == 13, key + ["tested", "with_scores"]]
    rows = truth.merge(g13, on=key, suffixes=("", "_13"), validate="many_to_one")
    assert len(rows) == len(truth)
    assert (rows["total_tested_entity"] == rows["tested_13"]).all()
    assert (rows["total_with_scores_entity"] == rows["with_scores_13"]).all()


def test_rows_exist_only_with_enrolled_students_and_counts_nest(truth):
    assert (truth["enrolled"] >= 1).all()
    assert (truth["tested"] <= truth["enrolled"]).all() and (truth["with_scores"] <= truth["tested"]).all()


def test_complementary_groups_add_up_to_all_students(truth):
    key = ["cds", "test_id", "grade"]
    every = truth[truth["student_group_id"] == 1].set_index(key)[COUNTS]
    for pair in ((3, 4), (31, 111)):
        parts = truth[truth["student_group_id"].isin(pair)].groupby(key)[COUNTS].sum()
        pd.testing.assert_frame_equal(parts.astype("int64"), every.loc[parts.index].astype("int64"))
    el = truth[truth["student_group_id"] == 160].set_index(key)[COUNTS]
    assert (el.to_numpy() <= every.loc[el.index].to_numpy()).all()


def test_aggregate_percentages_are_recomputed_from_summed_level_counts(truth):
    """School level counts (exact from 2-decimal percentages at school size) sum to the district's."""
    rows = truth[~truth["grade"].isin([13, 14]) & truth["type_id"].isin([6, 7, 10])].copy()
    n = rows["with_scores"].astype(float)
    for k in (1, 2, 3, 4):
        rows[f"n{k}"] = np.rint(rows[f"pct_level_{k}"].astype(float).fillna(0) * n / 100).astype("int64")
    schools = rows[rows["type_id"] != 6]
    assert (schools[["n1", "n2", "n3", "n4"]].sum(axis=1) == schools["with_scores"]).all()
    cols = ["n1", "n2", "n3", "n4", "with_scores"]
    summed = schools.groupby(["county_code", "district_code", *GRADE_KEY])[cols].sum()
    district = rows[rows["type_id"] == 6].set_index(["county_code", "district_code", *GRADE_KEY])
    summed = summed[summed["with_scores"] > 0]
    for k in (1, 2, 3, 4):
        expect = np.floor(10000 * summed[f"n{k}"] / summed["with_scores"] + 0.5) / 100
        got = district.loc[summed.index, f"pct_level_{k}"].astype(float)
        assert np.allclose(got, expect, atol=1e-9)
    met = np.floor(10000 * (summed["n3"] + summed["n4"]) / summed["with_scores"] + 0.5) / 100
    assert np.allclose(district.loc[summed.index, "pct_met_and_above"].astype(float), met, atol=1e-9)


# ---------------------------------------------------------------- percentages and suppression (as published)


def test_percentages_add_up(shown):
    res = shown[shown["pct_level_1"].notna()]
    assert len(res) > 1000
    total = res[LEVELS].astype(float).sum(axis=1)
    assert ((total - 100).abs() <= 0.05).all()
    met = res["pct_level_3"].astype(float) + res["pct_level_4"].astype(float)
    assert ((res["pct_met_and_above"].astype(float) - met).abs() <= 0.01 + 1e-9).all()
    for area in ("area1", "area2", "area3", "domain_life", "domain_physical", "domain_earth_space"):
        cols = [f"{area}_pct_{b}" for b in ("above", "near", "below")]
        a = res[res[cols[0]].notna()]
        if len(a):
            assert ((a[cols].astype(float).sum(axis=1) - 100).abs() <= 0.05).all()


def test_no_small_count_and_no_result_under_11_is_shown(shown):
    for col in COUNTS + ["total_tested_entity", "total_with_scores_entity"]:
        v = shown[col].dropna()
        assert not v.between(1, 3).any(), col
    small = shown["with_scores"].isna() | shown["with_scores"].between(1, 10)
    assert small.any()
    assert shown.loc[small, RESULTS].isna().all().all()


def test_suppression_follows_the_2021_rule_cell_by_cell(shown, truth):
    key = ["cds", "test_id", "student_group_id", "grade"]
    both = shown.merge(truth, on=key, suffixes=("", "_true"), validate="one_to_one")
    assert len(both) == len(shown) == len(truth)
    flagged = both["suppressed_fields"].str.split("|")

    def starred(col):
        return flagged.apply(lambda fields: col in fields)

    for col in COUNTS + ["total_tested_entity", "total_with_scores_entity"]:
        true = both[f"{col}_true"]
        assert (starred(col) == true.between(1, 3)).all(), col
        shown_ok = ~true.between(1, 3)
        assert (both.loc[shown_ok, col] == true[shown_ok]).all(), col
    n = both["with_scores_true"]
    for col in ("pct_level_1", "pct_met_and_above"):
        assert (starred(col) == n.between(1, 10)).all()
        assert both.loc[n == 0, col].isna().all()
        ok = n >= 11
        assert np.allclose(both.loc[ok, col].astype(float), both.loc[ok, f"{col}_true"].astype(float))
    for col, below in (("area1_pct_above", 29), ("domain_life_pct_below", 10)):  # SB areas 30, CAST domains 11
        rows = both[both[f"{col}_true"].notna()]
        assert (rows["suppressed_fields"].str.contains(col) == rows["with_scores_true"].between(1, below)).all()
    means = both[(n >= 11) & (both["grade"] != 13)]
    assert means["mean_scale_score"].notna().all()


def test_mean_scale_scores_lie_within_loss_and_hoss(truth, shown):
    for frame in (truth, shown):
        assert frame.loc[frame["grade"] == 13, "mean_scale_score"].isna().all()
        means = frame[frame["mean_scale_score"].notna()]
        assert len(means) > 500
        for (test, grade), rows in means.groupby(["test_id", "grade"]):
            lo, hi = SCORE_RANGE[int(test)][int(grade)]
            assert rows["mean_scale_score"].between(lo, hi).all(), (test, grade)


def test_statewide_figures_are_near_the_published_2023_ones(made):
    state = made["truth"][1]["state_met_and_above"]
    assert abs(state[1] - 46.7) < 1.5 and abs(state[2] - 34.6) < 1.5 and abs(state[17] - 30.2) < 2.5


# ---------------------------------------------------------------- determinism and options


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    names = (SB, CAST, "sb_ca2023entities_csv.txt")
    runs = {}
    for label, seed in (("a", 3), ("b", 3), ("c", 4)):
        synth.generate(ENTITIES, tmp_path / label, seed=seed, groups=[1, 4, 31])
        runs[label] = {n: _sha(tmp_path / label / n) for n in names}
    assert runs["a"] == runs["b"]
    assert runs["a"][SB] != runs["c"][SB] and runs["a"][CAST] != runs["c"][CAST]
    assert runs["a"]["sb_ca2023entities_csv.txt"] == runs["c"]["sb_ca2023entities_csv.txt"]


def test_tests_and_max_entities_options(tmp_path):
    report = synth.generate(ENTITIES, tmp_path / "out", tests=(2,), groups=[1], max_entities=30)
    assert set(report["files"]) == {SB} and not (tmp_path / "out" / CAST).exists()
    store = ingest.ingest([tmp_path / "out"], tmp_path / "store")
    res = store["results"]
    assert set(res["test_id"]) == {2} and len(res) == report["rows"]
    assert report["entities"] == 30 and res["cds"].nunique() == report["entities_with_rows"] <= 30


def test_unknown_group_or_test_is_refused(tmp_path):
    with pytest.raises(ValueError, match="student group 999"):
        synth.generate(ENTITIES, tmp_path, groups=[1, 999])
    with pytest.raises(ValueError, match="tests must be"):
        synth.generate(ENTITIES, tmp_path, tests=(3,))


# ---------------------------------------------------------------- 2017–2019: the era-B layouts


def test_2019_is_written_in_the_era_b_layouts_and_reads_back_the_same_numbers(tmp_path):
    """2019 files carry the real 2017–2018 SB header (and CAST 2019's, facts §4b), comma-delimited and
    quoted, with a 2015–2019 entities file; read back, they hold the same rows as the caret files the same
    draws make for a 2021+ year, under 2019's suppression rule (every count and result of 1–10 hidden)."""
    b = synth.generate(ENTITIES, tmp_path / "b", year=2019, seed=SEED, groups=[1, 4], suppress=False)
    real = (SAMPLE / "research" / "sb_ca2018_1_csv_v3__county08_DelNorte_plus_state.txt").read_bytes()
    sb, cast = "sb_ca2019_all_synthetic_v1.txt", "cast_ca2019_all_synthetic_v1.txt"
    assert (tmp_path / "b" / sb).read_bytes().split(b"\n", 1)[0] == real.split(b"\n", 1)[0].rstrip(b"\r")
    assert (tmp_path / "b" / cast).read_text(encoding="cp1252").startswith('"County Code","District Code",')
    store = ingest.ingest([tmp_path / "b"], tmp_path / "store")
    eras = store["sources"].set_index("file")["era"]
    assert eras[sb].startswith("2017–2019 comma") and eras[cast].startswith("2019 comma, CAST")
    assert eras["sb_ca2019entities_csv.txt"].startswith("2015–2019 comma")
    res = store["results"]
    assert len(res) == b["rows"] and set(res["year"]) == {2019} and res["type_id"].notna().all()
    c = synth.generate(ENTITIES, tmp_path / "c", year=2021, seed=SEED, groups=[1, 4], suppress=False)
    other = ingest.ingest([tmp_path / "c"], tmp_path / "store_c")["results"]
    key = ["cds", "test_id", "student_group_id", "grade"]
    counts = ["enrolled", "tested", "with_scores", "total_tested_entity", "total_with_scores_entity"]
    assert c["rows"] == b["rows"]
    pd.testing.assert_frame_equal(res.sort_values(key)[key + counts].reset_index(drop=True),
                                  other.sort_values(key)[key + counts].reset_index(drop=True))
    shown = synth.generate(ENTITIES, tmp_path / "s", year=2019, seed=SEED, groups=[1, 4])
    rows = ingest.ingest([tmp_path / "s"], tmp_path / "store_s")["results"]
    assert len(rows) == shown["rows"]
    for col in ("enrolled", "tested", "with_scores"):
        assert not rows[col].between(1, 10).any()
    assert rows.loc[rows["with_scores"].isna(), "pct_met_and_above"].isna().all()


def test_years_without_a_layout_are_refused(tmp_path):
    for year in (2016, 2020):
        with pytest.raises(ValueError, match="2017–2019 \\(era B\\) and 2021 on"):
            synth.generate(ENTITIES, tmp_path, year=year)
