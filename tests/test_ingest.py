"""Ingest of real CAASPP files of every layout era.

Every expected number below was read by hand from the vendored files (data/sample, tests/fixtures/real);
the comment beside it names the file line. Only era D (2024+) uses a synthetic fixture: no real 2024
file is vendored (tests/fixtures/synthetic/README.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.ingest import build as ingest
from helpers.ingest import detect, layouts, schema

from .conftest import DNCUSD, ROOT, SAMPLE

REAL = ROOT / "tests" / "fixtures" / "real"
SYNTHETIC = ROOT / "tests" / "fixtures" / "synthetic"
STATE = "00000000000000"
ERA = {e.id: e.label for e in layouts.RESULT_ERAS + layouts.ENTITY_ERAS}
SB2017 = "sb_ca2017_1_csv_v2__county08_DelNorte_plus_state.txt"
SB2018 = "sb_ca2018_1_csv_v3__county08_DelNorte_plus_state.txt"
SB2021 = "sb_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt"
SB2022 = "sb_ca2022_studentgroup1__county08_DelNorte_plus_state.txt"
CAST2021 = "cast_ca2021_1_csv_v2__county08_DelNorte_plus_state.txt"
AREA_PCT = [f"area{k}_pct_{b}" for k in (1, 2, 3, 4) for b in ("above", "near", "below")]
RESULTS = ["mean_scale_score", "pct_level_4", "pct_level_3", "pct_met_and_above", "pct_level_2", "pct_level_1"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    store = tmp_path_factory.mktemp("ingest") / "store"
    return store, ingest.ingest([SAMPLE], store)


@pytest.fixture(scope="module")
def tables(ingested) -> dict[str, pd.DataFrame]:
    return ingested[1]


@pytest.fixture(scope="module")
def results(tables) -> pd.DataFrame:
    return tables["results"]


def line(results: pd.DataFrame, file: str, number: int) -> pd.Series:
    """The result row read from line `number` (1-based, header = 1) of `file`."""
    rows = results[(results["source_file"] == file) & (results["source_line"] == number)]
    assert len(rows) == 1, f"{file}:{number} gives {len(rows)} rows"
    return rows.iloc[0]


def all_grades(results: pd.DataFrame, cds: str, year: int, test_id: int) -> pd.Series:
    rows = results[(results["cds"] == cds) & (results["year"] == year) & (results["test_id"] == test_id)
                   & (results["grade"] == 13) & (results["student_group_id"] == 1)]
    assert len(rows) == 1
    return rows.iloc[0]


# ---------------------------------------------------------------- sources: rows, hash, era


@pytest.mark.parametrize("folder, name, kind, rows, era", [
    ("research", SB2017, "results", 216, "B"),
    ("research", SB2018, "results", 206, "B"),
    ("research", SB2021, "results", 208, "C"),
    ("research", SB2022, "results", 204, "C"),
    ("research", CAST2021, "results", 72, "C"),
    ("entities", "sb_ca2017entities_csv__county08_DelNorte_plus_state.txt", "entities", 20, "E-2015"),
    ("entities", "sb_ca2018entities_csv__county08_DelNorte_plus_state.txt", "entities", 19, "E-2015"),
    ("entities", "sb_ca2021entities_csv__county08_DelNorte_plus_state.txt", "entities", 19, "E-2021"),
    ("entities", "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt", "entities", 19, "E-2021"),
    ("entities", "cast_ca2021entities_csv__county08_DelNorte_plus_state.txt", "entities", 19, "E-2021"),
])
def test_sources_record_rows_hash_and_era(tables, folder, name, kind, rows, era):
    path = SAMPLE / folder / name
    src = tables["sources"].set_index("file").loc[name]
    assert (src["kind"], src["rows_read"], src["era"]) == (kind, rows, ERA[era])
    assert src["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert src["bytes"] == path.stat().st_size
    if kind == "results":
        assert (tables["results"]["source_file"] == name).sum() == rows


def test_every_sample_file_is_a_source(tables):
    vendored = sorted(p.name for p in SAMPLE.rglob("*.txt"))
    assert sorted(tables["sources"]["file"]) == vendored and len(vendored) == 16


# ---------------------------------------------------------------- exact values


def test_del_norte_unified_2022_all_grades(results):
    ela = all_grades(results, DNCUSD, 2022, 1)  # sb 2022 line 83
    assert (ela["pct_met_and_above"], ela["with_scores"], ela["enrolled"], ela["tested"]) == (27.86, 1748, 1829, 1750)
    assert [ela[f"pct_level_{k}"] for k in (4, 3, 2, 1)] == [8.70, 19.16, 25.40, 46.74]
    assert pd.isna(ela["mean_scale_score"])  # All Grades rows carry no mean scale score
    assert all_grades(results, DNCUSD, 2022, 2)["pct_met_and_above"] == 16.57  # line 91


@pytest.mark.parametrize("year, ela, math", [(2017, 48.56, 37.56), (2018, 49.88, 38.65), (2022, 47.06, 33.38)])
def test_state_all_grades_match_published_statewide_figures(results, year, ela, math):
    # docs/caaspp-facts.md §6a: CDE's published statewide % Standard Met and Above, all tested grades
    assert all_grades(results, STATE, year, 1)["pct_met_and_above"] == ela
    assert all_grades(results, STATE, year, 2)["pct_met_and_above"] == math


def test_del_norte_unified_2017_ela_all_grades(results):
    r = line(results, SB2017, 117)
    assert (r["cds"], r["year"], r["grade"], r["test_id"]) == (DNCUSD, 2017, 13, 1)
    assert (r["total_tested_entity"], r["total_with_scores_entity"]) == (1866, 1865)
    assert (r["enrolled"], r["tested"], r["with_scores"]) == (1957, 1866, 1865)
    assert [r[c] for c in RESULTS[1:]] == [9.76, 23.70, 33.46, 26.11, 40.43]
    assert (r["area1_pct_above"], r["area1_pct_near"], r["area1_pct_below"]) == (14.81, 43.03, 42.17)
    assert (r["area4_pct_above"], r["area4_pct_near"], r["area4_pct_below"]) == (13.73, 47.64, 38.63)


def test_cast_2021_domain_percentages(results):
    r = line(results, CAST2021, 38)  # Del Norte County Unified, grade 11, CAST (test 17, type X)
    assert (r["cds"], r["grade"], r["test_id"], r["test_type"]) == (DNCUSD, 11, 17, "X")
    assert (r["enrolled"], r["with_scores"], r["mean_scale_score"], r["pct_met_and_above"]) == (242, 177, 595.5, 23.16)
    assert [r[f"domain_life_pct_{b}"] for b in ("below", "near", "above")] == [37.35, 56.02, 6.63]
    assert [r[f"domain_physical_pct_{b}"] for b in ("below", "near", "above")] == [52.41, 43.37, 4.22]
    assert [r[f"domain_earth_space_pct_{b}"] for b in ("below", "near", "above")] == [46.71, 43.11, 10.18]
    assert r[AREA_PCT].isna().all()


# ---------------------------------------------------------------- suppression


@pytest.mark.parametrize("file, number, cds, total_tested", [
    (SB2022, 54, "08100820830042", 15),  # 08^10082^0830042 grade 8 ELA: counts and results all *
    (SB2018, 35, "08100820000000", 151),  # Del Norte COE grade 3 ELA: quoted "*"
])
def test_star_rows_are_missing_and_flagged(results, file, number, cds, total_tested):
    r = line(results, file, number)
    assert r["cds"] == cds and r["total_tested_entity"] == total_tested  # the entity total is not starred
    assert r[["enrolled", "tested", "with_scores"] + RESULTS + AREA_PCT].isna().all()
    assert r["suppressed"] and r["counts_suppressed"] and r["results_suppressed"]
    assert r["suppressed_fields"].split("|") == ["enrolled", "tested", "with_scores"] + [
        "mean_scale_score", "pct_level_1", "pct_level_2", "pct_level_3", "pct_level_4", "pct_met_and_above"] + AREA_PCT


def test_zero_tested_with_blank_results_is_missing_not_suppressed(results):
    r = line(results, SB2021, 34)  # 08^10082^0000000 grade 3 ELA: enrolled 10, tested 0, results blank
    assert (r["enrolled"], r["tested"], r["with_scores"]) == (10, 0, 0)
    assert r[RESULTS + AREA_PCT].isna().all()
    assert not (r["suppressed"] or r["counts_suppressed"] or r["results_suppressed"])
    assert r["suppressed_fields"] == ""


def test_starred_areas_alone_leave_results_unsuppressed(results):
    r = line(results, SB2022, 92)  # Uncharted Shores grade 3 ELA, n = 29, only the Area fields are *
    assert (r["cds"], r["grade"], r["with_scores"], r["pct_met_and_above"]) == ("08618200137729", 3, 29, 44.83)
    assert not (r["results_suppressed"] or r["counts_suppressed"] or r["suppressed"])
    assert r["suppressed_fields"].split("|") == AREA_PCT and r[AREA_PCT].isna().all()


def test_caa_science_stars_suppress_results_but_not_counts():
    _, frame, _ = detect.read_file(REAL / "caas_ca2019_all_27_csv_v1__first60.txt")
    r = frame[frame["source_line"] == 4].iloc[0]  # grade 10: enrolled 7, tested 6, results *, 6 with scores
    assert (r["enrolled"], r["tested"], r["with_scores"]) == (7, 6, 6)
    assert r["results_suppressed"] and not r["counts_suppressed"]
    assert r["suppressed_fields"] == "mean_percent_correct|pct_level_1|pct_level_2|pct_level_3"


# ---------------------------------------------------------------- entity join


def test_every_result_row_has_its_entity(results):
    assert results["cds"].str.fullmatch(r"\d{14}").all()
    assert results["type_id"].notna().all() and set(results["type_id"]) == {4, 5, 6, 7, 9, 10}
    assert (results["entity_name"].str.len() > 0).all() and (results["county_name"].str.len() > 0).all()


def test_district_rows_and_school_rows_are_distinct(tables, results):
    ela13 = results[(results["year"] == 2022) & (results["test_id"] == 1) & (results["grade"] == 13)
                    & (results["district_code"] == "61820")]
    ent = tables["entities"]
    ent = ent[(ent["year"] == 2022) & (ent["district_code"] == "61820")]
    assert len(ela13) == ela13["cds"].nunique() == len(ent) == 13  # the district, 11 schools, 1 charter
    assert set(ela13["cds"]) == set(ent["cds"])
    district = ela13[ela13["school_code"] == "0000000"]
    assert district["cds"].tolist() == [DNCUSD] and district["type_id"].tolist() == [6]
    assert district["entity_name"].tolist() == ["Del Norte County Unified"]


def test_lea_of_schools_charters_and_above(results):
    lea = results.drop_duplicates(["year", "cds"]).set_index(["year", "cds"])
    assert lea.loc[(2022, "08618200833004"), ["type_id", "lea_cds", "entity_name"]].tolist() == [
        7, DNCUSD, "Del Norte High"]
    assert lea.loc[(2022, "08100820830059"), ["type_id", "lea_cds"]].tolist() == [10, "08100820830059"]  # Castle Rock
    assert lea.loc[(2022, "08618200137729"), ["type_id", "lea_cds", "entity_name"]].tolist() == [
        9, "08618200137729", "Uncharted Shores Academy"]
    # Uncharted Shores before its 2021 move to district 61820
    assert lea.loc[(2018, "08100820114116"), ["type_id", "lea_cds"]].tolist() == [9, "08100820114116"]
    assert lea.loc[(2022, DNCUSD), "lea_cds"] == DNCUSD
    assert pd.isna(lea.loc[(2022, STATE), "lea_cds"]) and pd.isna(lea.loc[(2022, "08000000000000"), "lea_cds"])
    assert lea.loc[(2022, STATE), "entity_name"] == "State of California"
    assert lea.loc[(2022, "08000000000000"), "entity_name"] == "Del Norte County"


def test_2018_interleaved_rows_load(results):
    math, ela = line(results, SB2018, 34), line(results, SB2018, 35)  # grade 3 math comes before grade 3 ELA
    assert (math["grade"], math["test_id"], ela["grade"], ela["test_id"]) == (3, 2, 3, 1)
    y2018 = results[results["year"] == 2018]
    assert len(y2018) == 206 and not y2018.duplicated(schema.KEY).any()
    assert results[schema.KEY].equals(results[schema.KEY].sort_values(schema.KEY).reset_index(drop=True))


# ---------------------------------------------------------------- entities, lookups of other eras


@pytest.mark.parametrize("name, rows, era, state_name", [
    ("sb_ca2015entities_csv__county08_DelNorte_plus_state.txt", 20, "E-2015", "State of California"),  # Type Id
    ("sb_ca2025entities_csv__county08_DelNorte_plus_state.txt", 18, "E-2024", "State Of California"),  # Type ID 4th
    # comma and quoted like 2015–2018, but spelled "Type ID" in 5th place like 2021–2023
    ("cast_ca2019entities_csv__county08_DelNorte_plus_state.txt", 19, "E-2015", "State of California"),
])
def test_entities_of_other_eras(name, rows, era, state_name):
    kind, frame, src = detect.read_file(REAL / name)
    assert (kind, len(frame), src.rows_read, src.era) == ("entities", rows, rows, ERA[era])
    ent = frame.set_index("cds")
    assert ent.loc[STATE, ["type_id", "county_name"]].tolist() == [4, state_name]
    assert ent.loc[DNCUSD, ["type_id", "district_name"]].tolist() == [6, "Del Norte County Unified"]
    assert ent.loc["08100820830059", ["type_id", "school_name"]].tolist() == [10, "Castle Rock"]
    assert frame["year"].nunique() == 1


def test_cp1252_names_decode():
    kind, frame, src = detect.read_file(REAL / "sb_ca2022entities_csv__nino_rows.txt")
    r = frame.set_index("cds").loc["19647330117846"]
    assert (kind, src.era, r["type_id"]) == ("entities", ERA["E-2021"], 9)
    assert r["school_name"] == r["district_name"] == "Para Los Niños Middle"


def test_caa_science_2019_head_reads_as_results():
    kind, frame, src = detect.read_file(REAL / "caas_ca2019_all_27_csv_v1__first60.txt")
    assert (kind, len(frame), src.era, src.delimiter) == ("results", 60, ERA["B-CAAS"], ",")
    r = frame[frame["source_line"] == 2].iloc[0]  # Monterey County, grade 5, CAA Science (test 18, type Y)
    assert (r["cds"], r["year"], r["grade"], r["test_id"], r["test_type"]) == ("27000000000000", 2019, 5, 18, "Y")
    assert (r["total_tested_entity"], r["enrolled"], r["tested"], r["with_scores"]) == (137, 64, 60, 60)
    assert [r["pct_level_1"], r["pct_level_2"], r["pct_level_3"]] == [10.00, 81.67, 8.33]
    assert r["mean_percent_correct"] == 60.0
    assert frame["pct_level_4"].isna().all()


@pytest.mark.parametrize("name, kind, rows, first, last", [
    ("StudentGroups_2022.txt", "student_groups", 55, (1, "All Students"), (241, "Not foster youth")),
    ("Subgroups_2015-2019.txt", "student_groups", 47, (1, "All Students"), (227, "Two or more races")),
    ("Tests_2022.txt", "tests", 7,
     (1, "SB - English Language Arts/Literacy"), (39, "CSA - California Spanish Assessment")),
])
def test_lookups(name, kind, rows, first, last):
    got, frame, src = detect.read_file(SAMPLE / "lookups" / name)
    assert (got, len(frame), src.rows_read) == (kind, rows, rows)
    key = "test_id" if kind == "tests" else "student_group_id"
    assert tuple(frame.iloc[0][[key, "name"]]) == first and tuple(frame.iloc[-1][[key, "name"]]) == last


def test_student_group_names_keep_cp1252_dashes():
    _, frame, _ = detect.read_file(SAMPLE / "lookups" / "StudentGroups_2022.txt")
    assert frame.set_index("student_group_id").loc[170, "name"] == "Ever\u2013EL"


# ---------------------------------------------------------------- types


def test_dtypes(tables, results):
    for col in ("enrolled", "tested", "with_scores", "total_tested_entity", "count_level_4", "area1_count_above"):
        assert results[col].dtype == "Int64", col
    for col in ("pct_met_and_above", "pct_level_1", "mean_scale_score", "area1_pct_above", "domain_life_pct_near"):
        assert results[col].dtype == "Float64", col
    for col in ("year", "grade", "test_id", "student_group_id", "type_id"):
        assert pd.api.types.is_integer_dtype(results[col]), col
    for frame in (results, tables["entities"]):
        for col, width in (("county_code", 2), ("district_code", 5), ("school_code", 7), ("cds", 14)):
            assert pd.api.types.is_string_dtype(frame[col]), col
            assert frame[col].str.len().eq(width).all(), col
    assert {"00", "08"} == set(results["county_code"]) and "0000000" in set(results["school_code"])


# ---------------------------------------------------------------- era D (synthetic) and the store


def test_era_d_counts_are_read():
    kind, frame, src = detect.read_file(SYNTHETIC / "sb_2024_eraD_sample.txt")
    assert (kind, src.era, src.rows_read) == ("results", ERA["D"], 5)
    _, ent, ent_src = detect.read_file(SYNTHETIC / "sb_2024entities_eraD_sample.txt")
    assert ent_src.era == ERA["E-2024"] and len(ent) == 5
    res = ingest.build([SYNTHETIC])["results"]
    ela, math = all_grades(res, DNCUSD, 2024, 1), all_grades(res, DNCUSD, 2024, 2)
    assert (ela["enrolled"], ela["tested"], ela["with_scores"], ela["overall_total"]) == (1900, 1850, 1800, 1800)
    assert [ela[f"count_level_{k}"] for k in (4, 3, 2, 1)] == [162, 378, 450, 810]
    assert (ela["count_met_and_above"], ela["pct_met_and_above"]) == (540, 30.0)
    assert (ela["area1_count_above"], ela["area1_count_near"], ela["area1_count_below"], ela["area1_total"]) == (
        360, 900, 540, 1800)
    assert (ela["composite2_pct_near"], ela["composite2_count_near"], ela["composite2_total"]) == (60.0, 1080, 1800)
    assert (math["area4_pct_above"], math["area4_count_above"]) == (0.0, 0)
    school = res[res["cds"] == "08618200833004"].iloc[0]
    assert (school["lea_cds"], school["mean_scale_score"], school["count_level_4"]) == (DNCUSD, 2530.5, 20)
    charter = res[res["cds"] == "08618200137729"].iloc[0]
    assert charter["results_suppressed"] and not charter["counts_suppressed"] and pd.isna(charter["count_level_4"])


def test_store_is_parquet_readable_by_duckdb(ingested):
    store, tables = ingested
    assert sorted(p.name for p in store.iterdir()) == sorted([".caaspp-book"] + [f"{t}.parquet" for t in schema.STORE_TABLES])
    for name in schema.STORE_TABLES:
        path = store / f"{name}.parquet"
        assert path.read_bytes()[:4] == b"PAR1"
        [(n,)] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()
        assert n == len(tables[name]), name
    assert len(tables["results"]) == 216 + 206 + 208 + 204 + 72
    [(pct,)] = duckdb.sql(f"SELECT pct_met_and_above FROM read_parquet('{store / 'results.parquet'}') "
                          f"WHERE cds = '{DNCUSD}' AND year = 2022 AND test_id = 1 AND grade = 13").fetchall()
    assert pct == 27.86


# ---------------------------------------------------------------- result eras without a real sample here

def _quoted(fields: list[str]) -> str:
    return ",".join(f'"{f}"' for f in fields) + "\n"


AREAS_2015 = [f"Area {k} Percentage {b} Standard" for k in (1, 2, 3, 4) for b in ("Above", "At or Near", "Below")]
ERA_A_HEADER = ["County Code", "District Code", "School Code", "Filler", "Test Year", "Subgroup ID", "Test Type",
                "Total CAASPP Enrollment", "Total Tested At Entity Level", "Total Tested at Subgroup Level", "Grade",
                "Test Id", "CAASPP Reported Enrollment", "Students Tested", "Mean Scale Score",
                "Percentage Standard Exceeded", "Percentage Standard Met", "Percentage Standard Met and Above",
                "Percentage Standard Nearly Met", "Percentage Standard Not Met", "Students with Scores", *AREAS_2015]
DOMAINS = [f"{d} Domain Percent {b} Standard" for d in ("Life Sciences", "Physical Sciences", "Earth and Space Sciences")
           for b in ("Below", "Near", "Above")]
B_CAST_HEADER = ["County Code", "District Code", "School Code", "Filler", "Test Year", "Demographic ID", "Test Type",
                 "Total Number Tested at Entity Level and Demographic",
                 "Total Number Tested with Valid Scores at this Demographic", "Grade", "Test Id",
                 "CAST Reported Enrollment", "Total Number of Students Tested",
                 "Total Number of Students with Valid Scores", "Mean Scale Score", "Percentage Standard Exceeded",
                 "Percentage Standard Met", "Percentage Standard Met and Above", "Percentage Standard Nearly Met",
                 "Percentage Standard Not Met", *DOMAINS]


@pytest.mark.parametrize("year, header, values, entities, era", [
    (2015, ERA_A_HEADER, ["08", "61820", "0000000", "", "2015", "1", "B", "1900", "1700", "1690", "13", "1", "1800",
                          "1700", "", "9", "20", "29", "26", "45", "1690", *["33"] * 12],
     "sb_ca2015entities_csv__county08_DelNorte_plus_state.txt", "A"),
    (2019, B_CAST_HEADER, ["08", "61820", "0000000", "", "2019", "1", "B", "1700", "1690", "13", "17", "1800",
                           "1700", "1690", "", "9", "20", "29", "26", "45", *["33"] * 9],
     "cast_ca2019entities_csv__county08_DelNorte_plus_state.txt", "B-CAST"),
])
def test_eras_a_and_b_cast_are_told_by_their_header(tmp_path, year, header, values, entities, era):
    """No real 2015–16 or CAST 2019 research file is vendored: a one-row file with the era's header names
    (docs/caaspp-facts.md §4b) must be recognised and read like the real ones."""
    path = tmp_path / "results_without_a_telling_name.txt"  # the name says nothing: the header decides
    path.write_text(_quoted(header) + _quoted(values), encoding="cp1252")
    kind, frame, src = detect.read_file(path)
    assert (kind, src.era, len(frame)) == ("results", ERA[era], 1)
    row = frame.iloc[0]
    assert (row["student_group_id"], row["grade"], row["pct_met_and_above"], row["with_scores"]) == (1, 13, 29.0, 1690)
    store = ingest.build([path, REAL / entities])
    joined = store["results"].iloc[0]
    assert (joined["cds"], joined["type_id"], joined["year"]) == (DNCUSD, 6, year)
