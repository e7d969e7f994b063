"""The column dictionary of every CSV the project publishes (rendered on the book's methods page)."""

from __future__ import annotations

_LEVELS = {f"count_level_{k}": f"students with scores at level {k} (computed rows; 2024+ files)" for k in range(1, 6)}
_LEVELS |= {f"pct_level_{k}": f"% of students with scores at level {k} (1 = lowest: Standard Not Met for SB/CAST; "
            "blank beyond the test's number of levels)" for k in range(1, 6)}
_LEVELS |= {f"pct_at_or_above_level_{k}": f"% of students with scores at or above level {k}'s cut"
            for k in range(2, 6)}

_DFS = {
    "dfs": "Distance from Standard (SB ELA and math): mean scale score − the grade's Standard Met minimum, in "
           "scale points; All Grades: the grades' values weighted by students with scores, over grades whose "
           "mean is published. From all students with scores in the research files (not the California School "
           "Dashboard's accountability population, so it differs somewhat from the Dashboard)",
    "dfs_students_left_out": "All Grades: students with scores in grades whose mean is hidden, left out of the "
                             "DFS (blank when any of those counts is itself hidden)",
    "dfs_grades_left_out": "All Grades: the grades left out of the DFS (mean hidden), separated by |",
}

KEYS = {
    "year": "test year (spring of the school year: 2022 = 2021–22)",
    "cds": "14-digit County-District-School code of the entity (state 00000000000000)",
    "lea_cds": "CDS code of the LEA the row belongs to (a school's district; a charter LEA itself)",
    "county_code": "2-digit county code",
    "type_id": "CDE entity type: 4 state, 5 county, 6 district, 7 school, 9 direct-funded charter, "
               "10 locally funded charter",
    "entity_name": "state, county, district or school name",
    "test_id": "CAASPP Test ID: 1 SB ELA, 2 SB math, 3 CAA ELA, 4 CAA math, 17 CAST, 18 CAA science",
    "grade": "grade; 13 = all grades, 14 = all high school (CAST)",
    "student_group_id": "CAASPP student group (1 = All Students)",
}

COLUMNS: dict[str, dict[str, str]] = {
    "levels": KEYS | {
        "enrolled": "students enrolled in the tested grade",
        "tested": "students who took the test",
        "with_scores": "tested students with a valid score: the denominator of every percentage",
        "mean_scale_score": "mean scale score (single grades only)",
        "sd_scale_score": "standard deviation of scale scores (computed rows)",
        "sem_mean": "standard error of the mean: SD / √(with scores) (computed rows)",
        **_LEVELS,
        "pct_met_and_above": "% at or above the 'met' level (Standard Met + Exceeded)",
        "suppressed": "true where results are hidden (the research file's *, fewer than the year's minimum "
                      "with scores, or complementary suppression)",
        "counts_hidden": "count columns hidden under the year's rule, separated by |",
        "suppression": "why results are hidden: primary, complementary or file (the research file's *)",
        "suppression_policy": "published (CDE's values as published, its * kept) or complementary (also hidden "
                              "where a value would reveal a hidden one by subtraction; always for computed rows)",
        "source": "published (research file) or computed (student records)",
        **_DFS,
    },
    "reconciliation": KEYS | {
        "with_scores": "published All Grades students with scores",
        **{f"pct_level_{k}": f"published All Grades % at level {k}" for k in range(1, 5)},
        "pct_met_and_above": "published All Grades % met and above",
        "with_scores_grades": "sum of the grade rows' students with scores",
        "n_grades": "grade rows found", "n_hidden": "grade rows whose results are suppressed",
        **{f"pct_level_{k}_recomputed": f"% at level {k} recomputed from grade rows, weighted by with scores"
           for k in range(1, 5)},
        **{f"pct_level_{k}_diff": f"recomputed − published % at level {k}" for k in range(1, 5)},
        "pct_met_and_above_recomputed": "% met and above recomputed from grade rows",
        "pct_met_and_above_diff": "recomputed − published % met and above",
        "max_abs_diff": "largest absolute percentage difference",
        "with_scores_diff": "sum of grades − published with scores",
        "status": "ok; check: exceeds rounding (more than 0.01 points or a count mismatch); incomplete: "
                  "suppressed grade rows; no students with scores",
    },
    "trends": KEYS | {
        "with_scores": "students with scores", "mean_scale_score": "mean scale score",
        "pct_met_and_above": "% met and above", "suppressed": "true where results are hidden",
        "prior_year_pct_met_and_above": "same grade, previous year",
        "prior_grade_prior_year_pct_met_and_above": "grade − 1, previous year (not the same students)",
        "change_from_prior_year": "percentage-point change from the previous year, same grade",
        "matched_grade_change": "change from grade − 1 a year earlier: a cohort view of entities, not "
                                "matched students",
        "note": "2019–20: no testing; 2020–21: low participation, shorter blueprint",
        "dfs": _DFS["dfs"],
        "dfs_change_from_prior_year": "change in Distance from Standard from the previous year, same grade "
                                      "(scale points)",
        "enrolled": "students enrolled", "tested": "students tested",
        "participation": "tested ÷ enrolled × 100 (blank where a count is hidden or nobody is enrolled)",
        "grades_with_scores": "grades with students with scores (or hidden results) behind the row, e.g. "
                              "'3–8, 11'; 'none'; blank on a gap row",
        "change_flag": "why the change from the previous year is not like for like: different grades with scores "
                       "(All Grades rows) and/or participation under 95% in either year; blank when it is",
        "like_for_like_grades": "grades with scores in both years, where the years' grades differ",
        "like_for_like_change": "change on those grades only: each year's % met and above of the grades in "
                                "both years, weighted by students with scores (blank where one is hidden)",
    },
    "impact": {
        "assessment": "assessment family (capa, smarter_balanced)", "subject": "ela, math or science",
        "test_id": "test (CAPA: project name)", "grade": "grade, or CAPA test level I–V",
        "level_code": "performance level code", "level_name": "performance level",
        "n_students": "students whose scores the table uses",
        "cut_set_a": "first cut set (CAPA: the standard-setting panel's; SB: official)",
        "cut_a": "minimum score of the level under cut set A (blank for the lowest level)",
        "pct_students_a": "% of students at the level under A", "pct_at_and_above_a": "% at or above the level under A",
        "cut_set_b": "second cut set (CAPA: the SSPI's; SB: the alternative file)",
        "cut_b": "minimum score of the level under B", "pct_students_b": "% at the level under B",
        "pct_at_and_above_b": "% at or above the level under B",
        "diff_pct_at_and_above": "B − A, percentage points", "status": "official or illustrative cut values",
        "cds": "the LEA whose (synthetic) students the SB example uses; blank for CAPA",
        "year": "administration year the cut sets apply to",
    },
    "lea_page": {
        "test": "test label", "entity": "the LEA, its county and the state", "grade": "grade label",
        "school": "school name", "cds": "14-digit CDS code of the row's entity (the page's LEA unless the "
        "table has an entity or school column)", "entity_name": "the page's LEA (a join key)", "type": "entity type",
        "enrolled": "students enrolled", "tested": "students tested", "with_scores": "students with scores",
        "mean_scale_score": "mean scale score", "pct_level_4": "% Standard Exceeded", "pct_level_3": "% Standard Met",
        "pct_met_and_above": "% Met and Above", "pct_level_2": "% Standard Nearly Met",
        "pct_level_1": "% Standard Not Met",
        "county_pct_met_and_above": "the county's % Met and Above, same test, grade and group",
        "state_pct_met_and_above": "the state's % Met and Above, same test, grade and group",
        "lea": "the LEA's All Grades % Met and Above", "county": "the county's", "state": "the state's",
        "year": "test year (spring)", "change_from_prior_year": "the LEA's change from the year before (points)",
        "note": "gap or caveat for the year", "level_name": "performance level",
        "cut_a": "official cut (level minimum)", "pct_at_and_above_a": "% at and above, official cuts",
        "cut_b": "alternative cut", "pct_at_and_above_b": "% at and above, alternative cuts",
        "diff_pct_at_and_above": "alternative − official (points)", "status": "official or illustrative cut values",
        "student_group": "student group (CAASPP Student Group ID's name)",
        "prior_grade_prior_year_pct_met_and_above": "the LEA's % Met and Above in the grade below, the year before",
        "matched_grade_change": "% Met and Above minus the grade below a year earlier (points; not the same "
                                "students)",
        "dfs": "the LEA's Distance from Standard (scale points; see the levels table's dfs)",
        "county_dfs": "the county's DFS, same test, grade (or group) and year",
        "state_dfs": "the state's DFS, same test, grade (or group) and year",
        "dfs_left_out": "All Grades: grades whose mean is suppressed, left out of the DFS, and their students",
        "dfs_change_from_prior_year": "the LEA's change in All Grades DFS from the year before (scale points)",
        "participation": "the LEA's students tested ÷ enrolled, all tested grades (%)",
        "grades_with_scores": "the LEA's grades with students with scores that year",
        "change_flag": "why the change is not like for like (other grades, participation under 95%)",
        "like_for_like_change": "the LEA's change on the grades tested in both years (points)",
    },
}


def undocumented(table: str, columns) -> list[str]:
    """Columns of a published table missing from the dictionary."""
    return [c for c in columns if c not in COLUMNS[table]]
