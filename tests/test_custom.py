"""Custom aggregates from a YAML spec: exact counts on synthetic Del Norte students, the same suppression
as every levels table, and errors that name the spec file, line and key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core.cuts import load_all
from helpers.core.errors import InputError
from helpers.stats import custom, tables
from helpers.synth.students import students_for_lea

from .conftest import DNCUSD, ROOT

EXAMPLE = ROOT / "params" / "custom" / "example_grades_6_8_el.yml"
SCHOOLS = ["08618206005383", "08618206005441", "08618206005458"]  # Crescent Elk Middle, Redwood, Smith River
CRESCENT = SCHOOLS[0]
COUNTS = ["enrolled", "tested", "with_scores", *[f"count_level_{k}" for k in range(1, 5)]]


@pytest.fixture(scope="module")
def students(sample_store: Path) -> pd.DataFrame:
    return students_for_lea(sample_store, DNCUSD, 2022, seed=0, tables=load_all(ROOT / "params"))


def spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yml"
    path.write_text(text, encoding="utf-8")
    return path


def recount(s: pd.DataFrame) -> pd.DataFrame:
    """Enrolled, tested (Y/T/R), with scores (Y) and level counts per test × grade, straight from records."""
    s = s.assign(tested=s["include_indicator"].isin(["Y", "T", "R"]), with_scores=s["include_indicator"].eq("Y"),
                 **{f"count_level_{k}": s["include_indicator"].eq("Y") & s["achievement_level"].eq(k)
                    for k in range(1, 5)})
    by = s.groupby(["test_id", "grade"]).agg(enrolled=("year", "size"), **{c: (c, "sum") for c in COUNTS[1:]})
    total = by.groupby(level="test_id").sum().assign(grade=13).set_index("grade", append=True)
    return pd.concat([by, total]).sort_index()


def test_example_spec_counts_exactly(students):
    out = custom.compute(students, EXAMPLE)
    assert list(out.columns) == tables.LEVELS_COLUMNS and len(out) == 8
    assert set(out["cds"]) == {"custom:grades_6_8_el"} and set(out["source"]) == {"custom"}
    assert set(out["entity_name"]) == {"Grades 6–8 at three schools, English learners"}
    assert set(out["lea_cds"]) == {DNCUSD} and set(out["county_code"]) == {"08"} and set(out["type_id"]) == {0}
    assert set(out["student_group_id"]) == {160} and not out["suppressed"].any()
    chosen = students[students["cds"].isin(SCHOOLS) & students["grade"].between(6, 8)
                      & students["el_status"].eq("EL")]
    got = out.set_index(["test_id", "grade"])[COUNTS].astype(int)
    pd.testing.assert_frame_equal(got, recount(chosen)[COUNTS].astype(int), check_names=False)
    ela6, math13 = got.loc[(1, 6)], got.loc[(2, 13)]
    assert ela6.tolist() == [51, 50, 50, 24, 14, 10, 2]  # seed 0
    assert math13.tolist() == [144, 141, 141, 97, 30, 11, 3]
    row = out.set_index(["test_id", "grade"]).loc[(1, 6)]
    assert (row["pct_level_1"], row["pct_met_and_above"]) == (48.0, 24.0)
    assert row["mean_scale_score"] == round(chosen.query("test_id == 1 and grade == 6")["scale_score"].mean(), 1)
    assert np.isnan(out.set_index(["test_id", "grade"]).loc[(1, 13), "mean_scale_score"])


def test_a_field_filter_equals_the_student_group(students, tmp_path):
    by_filter = custom.compute(students, spec(tmp_path, f"""
name: EL by filter
schools: {SCHOOLS}
grades: [6, 7, 8]
filters: {{el_status: [EL]}}
"""))
    by_group = custom.compute(students, EXAMPLE)
    cols = ["test_id", "grade", *COUNTS, "pct_met_and_above", "mean_scale_score"]
    pd.testing.assert_frame_equal(by_filter[cols], by_group[cols])
    assert set(by_filter["student_group_id"]) == {1} and set(by_filter["cds"]) == {"custom:spec"}


def test_small_cells_get_primary_and_complementary_suppression(students, tmp_path):
    out = custom.compute(students, spec(tmp_path, f"""
name: Crescent Elk migrant students
schools: ["{CRESCENT}"]
tests: [1]
student_groups: [1, 28, 29]
"""))
    flags = out.set_index(["student_group_id", "grade"])["suppression"].to_dict()
    assert flags == {(1, 6): "", (1, 7): "", (1, 8): "", (1, 13): "",
                     (28, 6): "primary", (28, 7): "primary", (28, 8): "primary", (28, 13): "",
                     (29, 6): "complementary", (29, 7): "complementary", (29, 8): "complementary", (29, 13): ""}
    shown = out[~out["suppressed"]]
    assert (shown["with_scores"] >= 11).all() and out.loc[out["suppressed"], "pct_level_1"].isna().all()
    assert out.set_index(["student_group_id", "grade"]).loc[(28, 13), "with_scores"] == 12
    for grade, part in out.groupby("grade"):  # 1 = 28 + 29: never exactly one hidden cell
        assert part["suppressed"].sum() != 1, grade


@pytest.mark.parametrize("text,message", [
    ('name: x\nschools:\n  - "08618206005383"\n  - "08618209999999"\n',
     "spec.yml, line 4, field 'schools[1]': unknown school 08618209999999: no student record has this CDS code"),
    ("name: x\nstudent_groups: [160, 999]\n",
     "spec.yml, line 2, field 'student_groups[1]': unknown student group 999 (params/student_groups.yml)"),
    (f'name: x\nschools: ["{CRESCENT}"]\ngrades: [3]\n',
     "spec.yml, line 3, field 'grades': the selection is empty after 'grades': no record matches"),
    (f'name: x\nschools: ["{CRESCENT}"]\nstudent_groups: [79]\nfilters: {{race: [74]}}\n',
     "spec.yml, line 3, field 'student_groups': the selection is empty: no selected record is in these student "
     "groups"),
    ("name: x\nschool: [1]\n", "spec.yml, line 2, field 'school': unknown key 'school' (allowed: filters, grades, "
                               "id, name, note, schools, student_groups, tests, year)"),
    ("name: x\nfilters: {ssid: ['1']}\n",
     "spec.yml, line 2, field 'filters.ssid': unknown key 'ssid' (allowed: disability, el_status, foster, homeless, "
     "migrant, military, race, sed, sex)"),
    ('name: x\nschools: ["0861"]\n', "spec.yml, line 2, field 'schools[0]': not a 14-digit CDS code: '0861'"),
    ("grades: [6]\n", "spec.yml, line 1, field 'name': missing required key 'name'"),
    ("name: x\ngrades: [2, 6]\n", "spec.yml, line 2, field 'grades[0]': grade 2 is not a tested grade (3–12)"),
    ("name: x\ntests: [5]\n", "spec.yml, line 2, field 'tests[0]': unknown test 5 (params/tests.yml has "
                              "[1, 2, 3, 4, 16, 17, 18])"),
])
def test_bad_specs_name_the_file_line_and_key(students, tmp_path, text, message):
    with pytest.raises(InputError) as err:
        custom.compute(students, spec(tmp_path, text))
    assert str(err.value) == message
