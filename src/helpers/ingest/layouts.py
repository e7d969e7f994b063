"""CAASPP file layouts: header names of every era mapped to one canonical schema.

Sources (see docs/caaspp-facts.md §4): CDE research-file layout pages (S18), the 2015–2019
union schema (S15, S17), the 2021–2023 renames (S12, S14) and the 2024+ 69-column layout (S17).
Detection is by header names only, never by position or file name.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_COLUMNS = ("county_code", "district_code", "school_code")

# Canonical result columns by type. Level 4 = Standard Exceeded … level 1 = Standard Not Met; for the
# CAAs (three levels / preliminary indicator categories) level k is "Level k" / "Category k".
COUNT_COLUMNS = (
    "total_enrollment_entity", "total_tested_entity", "total_with_scores_entity",
    "enrolled", "tested", "with_scores", "overall_total",
    "count_level_1", "count_level_2", "count_level_3", "count_level_4", "count_met_and_above",
)
AREA_COLUMNS = tuple(
    f"{area}_{stat}_{band}"
    for area in ("area1", "area2", "area3", "area4", "composite1", "composite2",
                 "domain_life", "domain_physical", "domain_earth_space")
    for stat in ("pct", "count")
    for band in ("above", "near", "below")
) + tuple(f"{a}_total" for a in ("area1", "area2", "area3", "area4", "composite1", "composite2",
                                 "domain_life", "domain_physical", "domain_earth_space"))
PCT_COLUMNS = (
    "pct_level_1", "pct_level_2", "pct_level_3", "pct_level_4", "pct_met_and_above",
)
FLOAT_COLUMNS = ("mean_scale_score", "mean_percent_correct") + PCT_COLUMNS
INT_COLUMNS = ("year", "student_group_id", "grade", "test_id", "type_id")
TEXT_COLUMNS = KEY_COLUMNS + ("test_type", "filler", "district_name", "school_name")

RESULT_NUMERIC = COUNT_COLUMNS + FLOAT_COLUMNS + tuple(c for c in AREA_COLUMNS)
RESULT_FIELDS = ("mean_scale_score", "mean_percent_correct") + PCT_COLUMNS + COUNT_COLUMNS[7:]
COUNT_FIELDS = ("enrolled", "tested", "with_scores")


def _results_aliases() -> dict[str, str]:
    a = {
        "County Code": "county_code", "District Code": "district_code", "School Code": "school_code",
        "District Name": "district_name", "School Name": "school_name",
        "Filler": "filler", "Test Year": "year", "Test Type": "test_type", "Type ID": "type_id",
        "Subgroup ID": "student_group_id", "Student Group ID": "student_group_id",
        "Demographic ID": "student_group_id",
        "Test Id": "test_id", "Test ID": "test_id", "Grade": "grade",
        # entity-level totals (all grades)
        "Total CAASPP Enrollment": "total_enrollment_entity",
        "Total Tested At Entity Level": "total_tested_entity",
        "Total Tested at Reporting Level": "total_tested_entity",
        "Total Number Tested at Entity Level and Demographic": "total_tested_entity",
        "Total Number Tested At Entity Level and Demographic": "total_tested_entity",
        "Total Tested at Subgroup Level": "total_with_scores_entity",
        "Total Tested with Scores": "total_with_scores_entity",
        "Total Tested with Scores at Reporting Level": "total_with_scores_entity",
        "Total Number Tested with Valid Scores at this Demographic": "total_with_scores_entity",
        # per row
        "CAASPP Reported Enrollment": "enrolled", "Students Enrolled": "enrolled",
        "Total Students Enrolled": "enrolled", "CAST Reported Enrollment": "enrolled",
        "CAA Science Reported Enrollment": "enrolled",
        "Students Tested": "tested", "Total Students Tested": "tested",
        "Total Number of Students Tested": "tested",
        "Students with Scores": "with_scores", "Total Students Tested with Scores": "with_scores",
        "Total Number of Students with Valid Scores": "with_scores",
        "Mean Scale Score": "mean_scale_score", "Mean Percent Correct": "mean_percent_correct",
        "Overall Total": "overall_total",
    }
    for level, name in ((4, "Exceeded"), (3, "Met"), (2, "Nearly Met"), (1, "Not Met")):
        a[f"Percentage Standard {name}"] = f"pct_level_{level}"
        a[f"Count Standard {name}"] = f"count_level_{level}"
    a["Percentage Standard Met and Above"] = "pct_met_and_above"
    a["Count Standard Met and Above"] = "count_met_and_above"
    for k in (1, 2, 3):
        a[f"Percentage in Preliminary Indicator Category {k}"] = f"pct_level_{k}"
        a[f"Percentage Level {k}"] = f"pct_level_{k}"
        a[f"Count Level {k}"] = f"count_level_{k}"
    for k in (1, 2, 3, 4):
        _band_aliases(a, f"Area {k}", f"area{k}")
    for k in (1, 2):
        _band_aliases(a, f"Composite Area {k}", f"composite{k}")
    for name, key in (("Life Sciences Domain", "domain_life"),
                      ("Physical Sciences Domain", "domain_physical"),
                      ("Earth and Space Sciences Domain", "domain_earth_space")):
        _band_aliases(a, name, key)
    return a


def _band_aliases(a: dict[str, str], prefix: str, key: str) -> None:
    for band, words in (("above", ("Above",)), ("near", ("Near", "At or Near")), ("below", ("Below",))):
        for word in words:
            for stat, stat_words in (("pct", ("Percentage", "Percent")), ("count", ("Count",))):
                for sw in stat_words:
                    a[f"{prefix} {sw} {word} Standard"] = f"{key}_{stat}_{band}"
    a[f"{prefix} Total"] = f"{key}_total"


RESULTS_ALIASES = _results_aliases()

ENTITY_ALIASES = {
    "County Code": "county_code", "District Code": "district_code", "School Code": "school_code",
    "Filler": "filler", "Test Year": "year", "Type Id": "type_id", "Type ID": "type_id",
    "County Name": "county_name", "District Name": "district_name", "School Name": "school_name",
    "Zip Code": "zip_code",
}

STUDENT_GROUP_ALIASES = {
    "Demographic ID": "demographic_id", "Demographic ID Num": "student_group_id",
    "Demographic Name": "name", "Student Group": "category",
}
TEST_ALIASES = {"Test ID": "test_id_text", "Test ID Num": "test_id", "Test Name": "name"}


@dataclass(frozen=True)
class Era:
    id: str
    label: str
    requires: tuple[str, ...]


# First match wins; each era is recognised by header names it alone has.
RESULT_ERAS = (
    Era("D", "2024+ caret, 69 columns with counts", ("Count Standard Exceeded",)),
    Era("D-CAA", "2024+ caret, CAA levels with counts", ("Count Level 1",)),
    Era("C", "2021–2023 caret, Student Group ID + Type ID", ("Student Group ID", "Total Tested at Reporting Level")),
    Era("A", "2015–2016 comma, quoted, Total CAASPP Enrollment", ("Subgroup ID", "Total CAASPP Enrollment")),
    Era("B-CAAS", "2017–2019 comma, CAA Science preliminary indicators", ("Subgroup ID", "Percentage in Preliminary Indicator Category 1")),
    Era("B-CAST", "2019 comma, CAST (Demographic ID)", ("Demographic ID", "Test Id")),
    Era("B", "2017–2019 comma, quoted, Subgroup ID, no Type ID", ("Subgroup ID", "Test Id")),
)

ENTITY_ERAS = (
    Era("E-2024", "2024+ caret, Type ID 4th", ("Type ID",)),
    Era("E-2021", "2021–2023 caret, Type ID", ("Type ID",)),
    Era("E-2015", "2015–2019 comma, quoted, Type Id (CAST 2019: Type ID)", ("Type Id",)),
)


def detect_result_era(header: list[str]) -> Era | None:
    names = set(header)
    return next((e for e in RESULT_ERAS if set(e.requires) <= names), None)


def detect_entity_era(header: list[str], delimiter: str = "^") -> Era:
    if delimiter == ",":  # 2015–2019 comma files; CAST 2019 already spells it "Type ID" (5th, like 2021)
        return ENTITY_ERAS[2]
    if "Type ID" in header:
        return ENTITY_ERAS[0] if header.index("Type ID") == 3 else ENTITY_ERAS[1]
    return ENTITY_ERAS[2]
