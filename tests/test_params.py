"""params/ files load into pydantic models (strict, unknown keys forbidden); a bad file is an InputError that
names the file, the line of the offending key (of its parent mapping when the key is missing) and the key path.
Every shipped params file loads, through the loader the package uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from pydantic import ValidationError

from helpers.core import cuts, params, yamldoc
from helpers.core.errors import InputError
from helpers.ingest import counting, student_file
from helpers.stats import custom

from .conftest import ROOT

PARAMS = ROOT / "params"

TESTS = """\
tests:
  1:
    label: ELA
    name: Smarter Balanced ELA
    family: smarter_balanced
    levels: [Not Met, Nearly Met, Met, Exceeded]
    met_level: 3
grades:
  13: All Grades
"""

SUPPRESSION = """\
rules:
  - from: 2015
    to: 2019
    min_count: 11
    min_results: 11
    min_area: 11
    min_domain: 11
  - {from: 2021, to: null, min_count: 4, min_results: 11, min_area: 30, min_domain: 11}
"""

STUDENT_GROUPS = """\
groups:
  1: {name: All Students, category: All Students, field: null}
  3: {name: Male, category: Gender, field: sex, values: [M]}
  4: {name: Female, category: Gender, field: sex, values: [F]}
names:
  120: ELs enrolled less than 12 months
partitions:
  - [3, 4]
  - {total: 1, parts: [3, 4]}
"""

COUNTING = """\
include_indicator:
  Y: {tested: true, with_scores: true, meaning: Scored}
  N: {tested: false, with_scores: false, meaning: Not tested}
condition_codes:
  PGE: {include_indicator: N, tests: null, meaning: Parent exemption}
  NEL: {include_indicator: N, tests: [1, 3], meaning: EL exempt from ELA}
sources:
  S6: 2016–17 layout
"""

STUDENT_FILE = """\
record_types: {"01": 1, "02": 2}
race_codes: {100: 75}
sex_values: {M: M, F: F}
yes_no: {"Yes": true, "No": false}
required: [record_type, ssid]
dialects:
  camel:
    label: CamelCase
    source: a sample header
    delimiter: "^"
    signature: [RecordType, SSID]
    writer: {encoding: cp1252, sex: {M: M, F: F}}
    fields:
      record_type: RecordType
      ssid: SSID
    columns: [RecordType, SSID, Blank1]
"""

CUTS = """\
family: fixture
title: Fixture family
score: scale
levels:
  - {code: 1, name: Low}
  - {code: 2, name: Middle}
  - {code: 3, name: High}
met_level: 2
required_grades: [3, 4]
tables:
  - id: fx
    test_id: 3
    subject: ela
    years: {from: 2021, to: null}
    cut_set: official
    status: official
    source: fixture, not data
    grades:
      3: {loss: 300, cuts: [345, 360], hoss: 399}
      4: {loss: 400, cuts: [445, 460], hoss: 499}
"""

CUSTOM = """\
name: Grades 6–8, English learners
year: 2022
schools:
  - "08618206005383"
grades: [6, 7, 8]
filters: {el_status: [EL]}
"""

# kind → (file name, the package's loader given the file's path, a valid file)
KINDS: dict[str, tuple[str, Callable[[Path], Any], str]] = {
    "tests": ("tests.yml", lambda p: params.tests(p.parent), TESTS),
    "suppression": ("suppression.yml", lambda p: params.suppression_rules(p.parent), SUPPRESSION),
    "student_groups": ("student_groups.yml", lambda p: params.group_names(p.parent), STUDENT_GROUPS),
    "counting": ("counting.yml", lambda p: counting.rules(p.parent), COUNTING),
    "student_file": ("student_file.yml", lambda p: student_file.layout(p.parent), STUDENT_FILE),
    "cuts": ("fixture.yml", cuts.load_family, CUTS),
    "custom": ("spec.yml", custom.load, CUSTOM),
}

# (kind, text replaced, replacement, line, key path, reason)
BAD = [
    # tests.yml
    ("tests", "    met_level: 3\n", "    met_level: 3\n    colour: red\n", 8, "tests.1.colour",
     "unknown key 'colour' (allowed: family, label, levels, met_level, name)"),
    ("tests", "met_level: 3", "met_level: three", 7, "tests.1.met_level", "Input should be a valid integer"),
    ("tests", "    family: smarter_balanced\n", "", 2, "tests.1.family", "missing required key 'family'"),
    ("tests", "Met, Exceeded]", "Met, Exceeded", 7, None,
     "YAML syntax error: expected ',' or ']', but got ':'"),
    ("tests", "met_level: 3", "met_level: 5", 7, "tests.1.met_level", "met_level 5 is not a level (1–4)"),
    ("tests", "  13: All", "  x13: All", 9, "grades.x13", "invalid key: Input should be a valid integer"),
    # suppression.yml
    ("suppression", "min_domain: 11}", "min_domain: 11, max_count: 9}", 8, "rules[1].max_count",
     "unknown key 'max_count' (allowed: from, min_area, min_count, min_domain, min_results, to)"),
    ("suppression", "min_results: 11, min_area: 30", "min_results: '11', min_area: 30", 8, "rules[1].min_results",
     "Input should be a valid integer"),
    ("suppression", "    min_area: 11\n", "", 2, "rules[0].min_area", "missing required key 'min_area'"),
    ("suppression", "  - from: 2015\n", "  - from: 2015: 2016\n", 2, None,
     "YAML syntax error: mapping values are not allowed here"),
    ("suppression", "    to: 2019\n", "    to: 2014\n", 3, "rules[0].to", "to 2014 is before from 2015"),
    ("suppression", "    min_count: 11\n", "    min_count: -1\n", 4, "rules[0].min_count",
     "Input should be greater than or equal to 0"),
    ("suppression", "    min_results: 11\n", "    min_results: 11\n    min_count: 5\n", 6, "rules[0].min_count",
     "duplicate key 'min_count'"),
    # student_groups.yml
    ("student_groups", "values: [F]}", "values: [F], colour: red}", 4, "groups.4.colour",
     "unknown key 'colour' (allowed: category, field, name, values)"),
    ("student_groups", "parts: [3, 4]}", "parts: [3, four]}", 9, "partitions[1].parts[1]",
     "Input should be a valid integer"),
    ("student_groups", "  - [3, 4]", "  - [3, x]", 8, "partitions[0][1]", "Input should be a valid integer"),
    ("student_groups", "{total: 1, parts", "{parts", 9, "partitions[1].total", "missing required key 'total'"),
    ("student_groups", "field: sex, values: [M]}", "field: sex}", 3, "groups.3.values",
     "missing required key 'values' (the values of field 'sex')"),
    ("student_groups", "field: null}", "field: null", 3, None,
     "YAML syntax error: expected ',' or '}', but got ':'"),
    # counting.yml
    ("counting", "meaning: Scored}", "meaning: Scored, scored: yes}", 2, "include_indicator.Y.scored",
     "unknown key 'scored' (allowed: meaning, tested, with_scores)"),
    ("counting", "Y: {tested: true", "Y: {tested: 1", 2, "include_indicator.Y.tested",
     "Input should be a valid boolean"),
    ("counting", "tests: [1, 3], meaning: EL exempt from ELA}", "tests: [1, 3]}", 6, "condition_codes.NEL.meaning",
     "missing required key 'meaning'"),
    ("counting", "PGE: {include_indicator: N", "PGE: {include_indicator: X", 5,
     "condition_codes.PGE.include_indicator", "unknown include indicator 'X' (known: Y, N)"),
    ("counting", "N: {tested: false, with_scores: false", "N: {tested: false, with_scores: true", 3,
     "include_indicator.N.with_scores", "a record with scores must count as tested"),
    ("counting", "sources:\n", "sources:\n\t", 8, None,
     "YAML syntax error: found character '\\t' that cannot start any token"),
    # student_file.yml
    ("student_file", '    delimiter: "^"\n', '    delimter: "^"\n', 10, "dialects.camel.delimter",
     "unknown key 'delimter' (allowed: columns, delimiter, fields, label, signature, source, writer)"),
    ("student_file", "{100: 75}", "{100: Asian}", 2, "race_codes.100", "Input should be a valid integer"),
    ("student_file", "    writer: {encoding: cp1252, sex: {M: M, F: F}}\n", "", 7, "dialects.camel.writer",
     "missing required key 'writer'"),
    ("student_file", "      ssid: SSID\n", "      ssid: SSN\n", 15, "dialects.camel.fields.ssid",
     "header name 'SSN' is not one of this dialect's columns"),
    ("student_file", "required: [record_type, ssid]", "required: [record_type, ssid, grade]", 13,
     "dialects.camel.fields", "required field 'grade' has no header name"),
    ("student_file", '"No": false}', '"No": false', 5, None,
     "YAML syntax error: expected ',' or '}', but got ':'"),
    # params/cuts/*.yml (and params/alt_cuts/*.yml)
    ("cuts", "    subject: ela\n", "    subject: ela\n    grade_span: 3-4\n", 14, "tables[fx].grade_span",
     "unknown key 'grade_span' (allowed: cut_set, grades, id, note, required_grades, source, status, subject, "
     "test_id, years)"),
    ("cuts", "hoss: 499", "hoss: high", 20, "tables[fx].grades.4.hoss", "Input should be a valid number"),
    ("cuts", "    cut_set: official\n", "", 11, "tables[fx].cut_set", "missing required key 'cut_set'"),
    ("cuts", "to: null}", "to: 2019}", 14, "tables[fx].years", "years.to 2019 is before years.from 2021"),
    ("cuts", "met_level: 2", "met_level: 4", 8, "met_level", "met_level 4 is not one of the level codes [1, 2, 3]"),
    ("cuts", "    test_id: 3\n", "    test_id: [3]\n", 12, "tables[fx].test_id",
     "test_id must be an integer or a name, got [3]"),
    ("cuts", "{from: 2021, to: null}", "2021", 14, "tables[fx].years", "expected a mapping, got int"),
    ("cuts", "  - id: fx\n", "  - id: fx\n  id: fy\n", 12, None,
     "YAML syntax error: expected <block end>, but found '?'"),
    # params/custom/*.yml
    ("custom", "year: 2022", "yaer: 2022", 2, "yaer",
     "unknown key 'yaer' (allowed: filters, grades, id, name, note, schools, student_groups, tests, year)"),
    ("custom", "year: 2022", "year: '2022'", 2, "year", "Input should be a valid integer"),
    ("custom", "name: Grades 6–8, English learners\n", "", 1, "name", "missing required key 'name'"),
    ("custom", "{el_status: [EL]}", "{el_status: EL}", 6, "filters.el_status", "Input should be a valid list"),
    ("custom", "grades: [6, 7, 8]", "grades: [6, 7, 8", 6, None,
     "YAML syntax error: expected ',' or ']', but got ':'"),
]


def write(tmp_path: Path, kind: str, text: str) -> Path:
    path = tmp_path / KINDS[kind][0]
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_valid_examples_load(tmp_path, kind):
    assert KINDS[kind][1](write(tmp_path, kind, KINDS[kind][2]))


@pytest.mark.parametrize("kind, old, new, line, key, reason", BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_bad_file_names_file_line_and_key(tmp_path, kind, old, new, line, key, reason):
    name, loader, text = KINDS[kind]
    assert old in text
    path = write(tmp_path, kind, text.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        loader(path)
    err = info.value
    assert (err.path, err.line, err.field, err.reason) == (str(path), line, key, reason)
    assert str(err) == f"{name}, line {line}" + (f", field '{key}'" if key else "") + f": {reason}"


def test_an_empty_file(tmp_path):
    with pytest.raises(InputError, match=r"^suppression\.yml: the file is empty$"):
        params.suppression_rules(write(tmp_path, "suppression", "# nothing yet\n").parent)


def test_a_file_that_is_not_a_mapping(tmp_path):
    with pytest.raises(InputError) as info:
        counting.rules(write(tmp_path, "counting", "- Y\n- N\n").parent)
    assert str(info.value) == "counting.yml, line 1: expected a mapping, got list"


# ---------------------------------------------------------------- the shipped files

MODELS = {"tests.yml": params.TestsFile, "suppression.yml": params.SuppressionFile,
          "student_groups.yml": params.StudentGroupsFile, "counting.yml": counting.CountingFile,
          "student_file.yml": student_file.StudentFileLayout, "cuts": cuts.CutFamilyFile,
          "alt_cuts": cuts.CutFamilyFile, "custom": custom.CustomSpecFile}


def model_for(path: Path) -> type[yamldoc.ParamsModel]:
    rel = path.relative_to(PARAMS)
    return MODELS[rel.parts[0]]


def test_every_shipped_params_file_has_a_model_and_loads():
    files = sorted(PARAMS.rglob("*.yml"))
    assert len(files) == 11
    for path in files:
        model = model_for(path)
        assert isinstance(yamldoc.load(path, model), model), path


def test_shipped_values_through_the_loaders():
    assert sorted(params.tests()) == [1, 2, 3, 4, 16, 17, 18] and params.tests()[17].label == "Science (CAST)"
    assert params.grade_labels() == {13: "All Grades", 14: "High school (grades 10–12)"}
    first, now = params.suppression_rules()
    assert (first.year_from, first.year_to, first.min_count) == (2015, 2019, 11)
    assert (now.year_from, now.year_to, now.min_count, now.min_results, now.min_area) == (2021, None, 4, 11, 30)
    groups = params.student_groups()
    assert len(groups.groups) == 30 and groups.groups[170].values == ["EL", "RFEP"]
    assert len(groups.partitions) == 25 and groups.partitions[0] == [3, 4]
    assert (groups.partitions[-1].total, groups.partitions[-1].parts) == (144, [207, 227])
    assert params.group_names()[252] == "Never–EL"
    rules = counting.rules()
    assert rules.tested == {"Y", "T", "R"} and rules.with_scores == {"Y"} and len(rules.conditions) == 9
    assert rules.conditions["NEL"].tests == {1, 3} and rules.conditions["PGE"].tests is None
    layout = student_file.layout()
    assert [(d.name, len(d.columns)) for d in layout.dialects] == [("w401", 401), ("camel", 363), ("spaced", 292)]
    assert layout.record_types["05"] == 18 and layout.race_codes[800] == 144 and layout.yes_no["N"] is False
    assert student_file.dialect("spaced").writer == {"encoding": "utf-8", "sex": {"M": "Male", "F": "Female"}}
    assert len(cuts.load_all(PARAMS)) == 14
    (alt_ela, alt_math) = cuts.load_family(PARAMS / "alt_cuts" / "sb_illustrative_alternative.yml")
    assert alt_ela.cut_set == "alternative" and alt_math.for_grade(3).cuts == (2371, 2421, 2491)
    spec = custom.load(PARAMS / "custom" / "example_grades_6_8_el.yml")
    assert (spec.id, spec.year, spec.grades, spec.tests, spec.groups) == ("grades_6_8_el", 2022, (6, 7, 8), (1, 2),
                                                                          (160,))
    assert spec.schools == ("08618206005383", "08618206005441", "08618206005458")


# ---------------------------------------------------------------- the models forbid extra keys


def all_models() -> list[type[yamldoc.ParamsModel]]:
    found, todo = [], [yamldoc.ParamsModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_every_params_model_forbids_extra_keys():
    models = all_models()
    assert {m.__name__ for m in MODELS.values()} <= {m.__name__ for m in models}
    assert len(models) >= 17
    for model in models:
        assert model.model_config["extra"] == "forbid" and model.model_config["strict"], model
        with pytest.raises(ValidationError) as info:
            model.model_validate({"zz_unknown": 1})
        cause = info.value.errors()[0]["ctx"]["error"]
        assert isinstance(cause, yamldoc.At) and cause.keys == ("zz_unknown",), model
        assert cause.message.startswith("unknown key 'zz_unknown' (allowed: "), model



def test_an_unknown_test_id_is_labelled_not_an_error() -> None:
    """Unknown Test IDs are findings at ingest; a page or CSV names them instead of failing."""
    from helpers.core import params

    assert params.test_label(1) == params.test_info(1).label
    assert params.test_label(99) == "Test ID 99 (unknown test)"
