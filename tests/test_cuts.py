"""Cut tables: the shipped values (docs/caaspp-facts.md §1–§3), lookups and schema errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers.core.cuts import (
    CutTable,
    GradeCuts,
    find,
    load_all,
    load_family,
    norm_grade,
)
from helpers.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cuts"

SB_GRADES = ["3", "4", "5", "6", "7", "8", "11"]
# §1a: minimum scale score of levels 2, 3, 4 (same in both LOSS/HOSS eras).
SB_CUTS = {
    "ela": [(2367, 2432, 2490), (2416, 2473, 2533), (2442, 2502, 2582), (2457, 2531, 2618),
            (2479, 2552, 2649), (2487, 2567, 2668), (2493, 2583, 2682)],
    "math": [(2381, 2436, 2501), (2411, 2485, 2549), (2455, 2528, 2579), (2473, 2552, 2610),
             (2484, 2567, 2635), (2504, 2586, 2653), (2543, 2628, 2718)],
}
# §1b: (LOSS, HOSS) for 2014-15..2019-20 and for 2020-21 onwards.
SB_RANGE_OLD = {
    "ela": [(2114, 2623), (2131, 2663), (2201, 2701), (2210, 2724), (2258, 2745), (2288, 2769), (2299, 2795)],
    "math": [(2189, 2621), (2204, 2659), (2219, 2700), (2235, 2748), (2250, 2778), (2265, 2802), (2280, 2862)],
}
SB_RANGE_NEW = {
    "ela": [(2115, 2650), (2140, 2690), (2200, 2730), (2230, 2770), (2260, 2810), (2290, 2850), (2300, 2900)],
    "math": [(2190, 2660), (2205, 2700), (2220, 2740), (2235, 2780), (2250, 2820), (2265, 2860), (2280, 2900)],
}
SB_TEST = {"ela": 1, "math": 2}


@pytest.fixture(scope="module")
def tables() -> list[CutTable]:
    return load_all(PARAMS)


def by_id(tables: list[CutTable], table_id: str) -> CutTable:
    (hit,) = [t for t in tables if t.id == table_id]
    return hit


# ---------------------------------------------------------------- shipped values


def test_table_ids_and_statuses(tables):
    status = {t.id: t.status for t in tables}
    assert status == {
        "sb_ela_pre2021": "official", "sb_ela_2021plus": "official",
        "sb_math_pre2021": "official", "sb_math_2021plus": "official",
        "cast_2019plus": "official",
        "caa_ela_2016plus": "official", "caa_math_2016plus": "official",
        "caa_science_2022plus_illustrative": "illustrative",
        "capa_ela_panel": "illustrative", "capa_ela_sspi": "illustrative",
        "capa_math_panel": "illustrative", "capa_math_sspi": "illustrative",
        "capa_science_panel": "illustrative", "capa_science_sspi": "illustrative",
    }


@pytest.mark.parametrize("subject", ["ela", "math"])
@pytest.mark.parametrize("year, ranges", [(2018, SB_RANGE_OLD), (2022, SB_RANGE_NEW)])
def test_every_sb_cut_loss_and_hoss(tables, subject, year, ranges):
    table = find(tables, SB_TEST[subject], year)
    assert table.score_kind == "scale" and table.level_names[2] == "Standard Met" and table.met_level == 3
    for grade, cuts, (loss, hoss) in zip(SB_GRADES, SB_CUTS[subject], ranges[subject]):
        assert table.for_grade(grade) == GradeCuts(loss, cuts, hoss), (table.id, grade)


def test_sb_spot_values(tables):
    assert find(tables, 1, 2022).for_grade(5).cuts == (2442, 2502, 2582)
    assert find(tables, 2, 2016).for_grade(11).cuts == (2543, 2628, 2718)
    old, new = find(tables, 1, 2018).for_grade(6), find(tables, 1, 2022).for_grade(6)
    assert (old.loss, old.hoss) == (2210, 2724)
    assert (new.loss, new.hoss) == (2230, 2770)


def test_find_picks_the_era(tables):
    assert find(tables, 1, 2018).id == "sb_ela_pre2021"
    assert find(tables, 1, 2022).id == "sb_ela_2021plus"
    assert find(tables, 1, 2015).id == "sb_ela_pre2021"
    assert find(tables, 2, 2021).id == "sb_math_2021plus"
    assert find(tables, np.int64(2), "2019").id == "sb_math_pre2021"
    assert find(tables, "01", 2025).id == "sb_ela_2021plus"
    assert find(tables, 17, 2024).id == "cast_2019plus"
    assert find(tables, 18, 2023).id == "caa_science_2022plus_illustrative"
    assert find(tables, "capa_math", 2010, cut_set="sspi").id == "capa_math_sspi"


def test_find_errors(tables):
    with pytest.raises(LookupError, match=r"no cut table for test 1, year 2014, cut set 'official'.*sb_ela_pre2021"):
        find(tables, 1, 2014)
    with pytest.raises(LookupError, match=r"test 1, year 2022, cut set 'panel'"):
        find(tables, 1, 2022, cut_set="panel")
    with pytest.raises(LookupError, match=r"test 17, year 2018"):
        find(tables, 17, 2018)
    twice = [by_id(tables, "sb_ela_2021plus")] * 2
    with pytest.raises(LookupError, match="ambiguous.*sb_ela_2021plus, sb_ela_2021plus"):
        find(twice, 1, 2022)


def test_cast_values(tables):
    cast = find(tables, 17, 2019)
    assert cast.for_grade(5) == GradeCuts(150, (179, 214, 231), 250)
    assert cast.for_grade(8) == GradeCuts(350, (378, 415, 433), 450)
    for hs in (10, 11, 12):
        assert cast.for_grade(hs) == GradeCuts(550, (576, 615, 636), 650)
    assert list(cast.grades) == ["5", "8", "10", "11", "12"]


@pytest.mark.parametrize("test_id", [3, 4])
def test_caa_ela_math_values(tables, test_id):
    caa = find(tables, test_id, 2019)
    assert caa.level_names == ("Limited Understanding", "Foundational Understanding", "Understanding")
    assert caa.status == "official" and caa.n_levels == 3
    for grade, base in [(3, 300), (4, 400), (5, 500), (6, 600), (7, 700), (8, 800), (11, 900)]:
        assert caa.for_grade(grade) == GradeCuts(base, (base + 45, base + 60), base + 99)


def test_caa_science_is_labelled_illustrative(tables):
    caas = find(tables, 18, 2022)
    assert caas.is_illustrative and caas.n_levels == 3
    assert "ILLUSTRATIVE" in caas.note and "not found" in caas.note
    assert list(caas.grades) == ["5", "8", "10", "11", "12"]
    assert caas.for_grade(12) == GradeCuts(900, (945, 960), 999)


CAPA_LEVELS = {"ela": ["I", "II", "III", "IV", "V"], "math": ["I", "II", "III", "IV", "V"],
               "science": ["I", "III", "IV", "V"]}


@pytest.mark.parametrize("subject", ["ela", "math", "science"])
def test_capa_two_illustrative_cut_sets(tables, subject):
    panel = find(tables, f"capa_{subject}", 2009, cut_set="panel")
    sspi = find(tables, f"capa_{subject}", 2009, cut_set="sspi")
    for t in (panel, sspi):
        assert t.is_illustrative and t.score_kind == "raw" and t.n_levels == 5 and t.met_level == 4
        assert t.level_names == ("Far Below Basic", "Below Basic", "Basic", "Proficient", "Advanced")
        assert list(t.grades) == CAPA_LEVELS[subject]
        assert "CAPA Proposed Performance Levels" in t.source and "October 2008" in t.source
        assert "https://info.5y1.org/department-of-state-language-levels_1_b46285.html" in t.source
        assert "illustrative" in t.source and "not retrievable" in t.note
        for level, g in t.grades.items():
            assert (g.loss, g.hoss) == ((0, 40) if level == "I" else (0, 32))
    for level in CAPA_LEVELS[subject]:
        diff = np.abs(np.subtract(sspi.for_grade(level).cuts, panel.for_grade(level).cuts))
        assert diff.max() in (1, 2), (subject, level)  # SSPI differs by 1-2 raw points


@pytest.mark.parametrize("subject", ["ela", "math", "science"])
def test_capa_sspi_narrows_proficient_spread_across_levels(tables, subject):
    def spread(cut_set: str) -> float:
        t = find(tables, f"capa_{subject}", 2010, cut_set=cut_set)
        proficient = [g.cuts[2] / g.hoss for level, g in t.grades.items() if level != "I"]
        return max(proficient) - min(proficient)

    assert spread("sspi") < spread("panel")


def test_every_table_has_source_and_required_shape(tables):
    for t in tables:
        assert t.source.strip() and t.path.parent == PARAMS / "cuts"
        assert t.is_illustrative == (t.status == "illustrative")
        assert t.met_level in t.level_codes
        for g in t.grades.values():
            assert len(g.cuts) == t.n_levels - 1
            assert g.loss < g.cuts[0] and g.cuts[-1] <= g.hoss
            assert all(a < b for a, b in zip(g.cuts, g.cuts[1:]))


def test_for_grade_keys_and_error(tables):
    sb = find(tables, 1, 2022)
    assert sb.for_grade(5) is sb.for_grade("05") is sb.for_grade(np.int64(5)) is sb.for_grade(5.0)
    assert norm_grade("iii") == "III"
    with pytest.raises(KeyError, match=r"cut table 'sb_ela_2021plus' has no grade '10' \(grades: 3, 4, 5, 6, 7, 8, 11\)"):
        sb.for_grade(10)


# ---------------------------------------------------------------- schema errors

BAD = [
    ("cuts_not_increasing.yml", 21, "tables[fx_decreasing].grades.4.cuts",
     "cuts must be strictly increasing, got [460, 445]"),
    ("cut_not_above_loss.yml", 20, "tables[fx_low_cut].grades.3.cuts", "first cut 300 must be above LOSS 300"),
    ("cut_above_hoss.yml", 21, "tables[fx_high_cut].grades.4.cuts", "last cut 500 must not exceed HOSS 499"),
    ("loss_not_below_hoss.yml", 20, "tables[fx_swapped].grades.3.loss", "LOSS 399 must be below HOSS 300"),
    ("missing_grade.yml", 19, "tables[fx_missing_grade].grades", "grade 4 missing (required grades: 3, 4)"),
    ("wrong_cut_count.yml", 20, "tables[fx_three_cuts].grades.3.cuts",
     "expected 2 cuts for 3 levels, got 3: [345, 360, 380]"),
    ("unknown_status.yml", 17, "tables[fx_draft].status",
     "unknown status 'draft' (expected one of: illustrative, official)"),
    ("missing_source.yml", 12, "tables[fx_no_source].source", "missing required key 'source'"),
    ("illustrative_without_note.yml", 12, "tables[fx_no_note].note",
     "an illustrative table needs a note saying why it is not official"),
    ("unknown_key.yml", 21, "tables[fx_typo].grades.4.cut", "unknown key 'cut' (allowed: cuts, hoss, loss)"),
    ("duplicate_key.yml", 21, "tables[fx_dup_grade].grades.3", "duplicate key '3'"),
    ("overlapping_years.yml", 22, "tables[fx_second].years",
     "years 2019–2022 overlap table 'fx_first' (overlapping_years.yml, years 2021–present) "
     "for test 3, cut set 'official'"),
    ("syntax_error.yml", 7, None, "YAML syntax error: expected ',' or '}', but got '{'"),
]


@pytest.mark.parametrize("name, line, field, reason", BAD, ids=[b[0] for b in BAD])
def test_bad_fixture_names_file_key_and_reason(name, line, field, reason):
    with pytest.raises(InputError) as info:
        load_family(FIXTURES / name)
    err = info.value
    assert (Path(err.path).name, err.line, err.field, err.reason) == (name, line, field, reason)
    text = str(err)
    assert name in text and reason in text and f"line {line}" in text
    if field:
        assert f"field '{field}'" in text


def test_duplicate_table_id_across_files():
    with pytest.raises(InputError) as info:
        load_all(FIXTURES / "duplicate_id")
    assert str(info.value) == ("b_second.yml, line 12, field 'tables[fx_shared].id': "
                               "duplicate table id 'fx_shared' (first defined in a_first.yml)")


def test_each_file_alone_is_valid():
    for name in ("a_first.yml", "b_second.yml"):
        (table,) = load_family(FIXTURES / "duplicate_id" / "cuts" / name)
        assert table.id == "fx_shared" and table.for_grade(4) == GradeCuts(400, (445, 460), 499)


def test_shipped_file_copied_twice_clashes(tmp_path):
    (tmp_path / "cuts").mkdir()
    shutil.copy(PARAMS / "cuts" / "cast.yml", tmp_path / "cuts" / "cast.yml")
    shutil.copy(PARAMS / "cuts" / "cast.yml", tmp_path / "cuts" / "cast_copy.yml")
    with pytest.raises(InputError, match=r"cast_copy\.yml.*duplicate table id 'cast_2019plus' \(first defined in cast\.yml\)"):
        load_all(tmp_path)


def test_no_files_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no cut-table files"):
        load_all(tmp_path)
