"""The `tables` stage: compute every table once from the store, write the CSV + Parquet contract.

`levels`, `reconciliation`, `trends` and `impact` are written to one folder (CSV for people, Parquet for
the notebooks, which read only their LEA's slice). The folder is replaced atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from helpers.core import atomic, params
from helpers.core import cuts as cutting
from helpers.core.paths import default_paths
from helpers.ingest import scope
from helpers.ingest import store as stores
from helpers.stats import dfs, suppress, tables
from helpers.stats import impact as impacts

TABLES = ("levels", "reconciliation", "trends", "impact")
# rows per Parquet row group of every table: what `tables` holds while writing one (pyarrow's default, 1 Mi,
# is about 1 GiB of the levels table), and a notebook's read of one LEA skips the groups around it
ROW_GROUP = 256 * 1024


@dataclass(frozen=True)
class ImpactInputs:
    """The scores the illustrative impact tables classify (helpers.synth.impact_example makes them):
    CAPA raw scores, and student records reproducing an LEA's published rows (store, cds, year → records)."""

    capa: pd.DataFrame
    students_for: Callable[[Path, str, int], pd.DataFrame]


def read_results(store: Path) -> pd.DataFrame:
    return stores.query(f"SELECT * FROM {stores.table(store, 'results')}")


def levels(results: pd.DataFrame, students: pd.DataFrame | None = None,
           entities: pd.DataFrame | None = None, policy: str = suppress.PUBLISHED) -> pd.DataFrame:
    """Published rows under suppression `policy` (default: as CDE published them) and computed rows from
    student records (always primary and complementary suppression), with the Distance from Standard
    (helpers.stats.dfs) appended."""
    parts = [suppress.suppress(tables.published_levels(results), policy=policy)] if len(results) else []
    if students is not None:  # suppressed on its own: its totals are not the published ones
        own = tables.computed_levels(students, entities=entities)
        own = own[own["type_id"].isin([6, 7, 9, 10])]  # one LEA's students are not its county or the state
        parts.append(suppress.suppress(own))
    return dfs.add(pd.concat(parts, ignore_index=True))


def capa_impact(scores: pd.DataFrame) -> pd.DataFrame:
    """Panel vs SSPI for CAPA ELA, math and science on raw scores (illustrative)."""
    all_tables = cutting.load_all()
    parts = []
    for subject, group in scores.groupby("subject", sort=True):
        test = f"capa_{subject}"
        year = int(group["year"].iloc[0]) + 1  # Level I cuts apply from 2009
        panel = cutting.find(all_tables, test, year, "panel")
        sspi = cutting.find(all_tables, test, year, "sspi")
        parts.append(impacts.impact(group, panel, sspi, grade_col="capa_level", score_col="raw_score")
                     .assign(cds="", year=year))
    return pd.concat(parts, ignore_index=True)


def sb_impact(store: Path, cds: str, year: int, alt_cuts: Path, students_for: Callable) -> pd.DataFrame:
    """Official vs an alternative SB cut file, on students reproducing the LEA's published level
    percentages (so the official columns equal the published ones; the alternative is a what-if)."""
    official = cutting.load_all()
    alternative = cutting.load_family(alt_cuts)
    students = students_for(store, cds, year)
    scored = students[students["scale_score"].notna()]
    parts = []
    for test_id, group in scored.groupby("test_id", sort=True):
        a = cutting.find(official, test_id, year, "official")
        b = next(t for t in alternative if t.test_id == test_id and t.covers(year))
        parts.append(impacts.impact(group, a, b, grade_col="grade", score_col="scale_score"))
    out = pd.concat(parts, ignore_index=True).assign(cds=cds, year=year)
    rule_n = params.suppression_rule(year).min_results
    return out[out["n_students"] >= rule_n].reset_index(drop=True)


SB_TESTS = scope.SB_TESTS  # the Smarter Balanced tests the SB impact example reproduces


def example_lea(results: pd.DataFrame, covered: Callable[[int], bool] = lambda year: True) -> tuple[str, int] | None:
    """The SB impact example: in the latest year with Smarter Balanced results of an LEA that `covered` accepts
    (the years the alternative cuts cover), the LEA with the most students with scores (All Grades, All
    Students); None when no LEA has any (a store of state rows only, or only years the cuts do not cover)."""
    rows = results[results["type_id"].isin(stores.LEA_TYPES) & (results["grade"] == 13)
                   & (results["student_group_id"] == 1) & results["test_id"].isin(SB_TESTS)
                   & (pd.to_numeric(results["with_scores"]) > 0)]
    rows = rows[[bool(covered(int(y))) for y in rows["year"]]]
    if rows.empty:
        return None
    year = int(rows["year"].max())
    rows = rows[rows["year"] == year]
    return str(rows.sort_values(["with_scores", "cds"], ascending=[False, True])["cds"].iloc[0]), year


def alternative_years(alt_cuts: Path | None = None) -> Callable[[int], bool]:
    """Whether the alternative cut file has a table of every SB test for a year."""
    family = cutting.load_family(alt_cuts or default_paths().alt_cuts)
    return lambda year: all(any(t.test_id == test and t.covers(year) for t in family) for test in SB_TESTS)


def compute(store: Path, impact: ImpactInputs, alt_cuts: Path | None = None,
            students: pd.DataFrame | None = None, policy: str = suppress.PUBLISHED) -> dict[str, pd.DataFrame]:
    """Every table, for every LEA, in one pass; `policy`: the suppression of the published rows."""
    results = read_results(store)
    entities = stores.query(f"SELECT * FROM {stores.table(store, 'entities')}")
    lv = levels(results, students, entities, policy)
    source = stores.impact_source(store)  # a county's store: the state's candidates
    candidates = results if source == store else read_results(source)
    example = impact_table(source, example_lea(candidates, alternative_years(alt_cuts)), impact, alt_cuts)
    published = lv[lv["source"] == "published"]
    return {"levels": lv, "reconciliation": tables.reconcile(results),
            "trends": dfs.trend(tables.trends(published), published) if len(published) else pd.DataFrame(),
            "impact": example}


def impact_table(store: Path, example: tuple[str, int] | None, impact: ImpactInputs,
                 alt_cuts: Path | None = None) -> pd.DataFrame:
    """CAPA panel vs SSPI, then official vs alternative SB cuts for the example LEA in its year (`example`:
    cds and year; None: CAPA only, for no LEA has SB results)."""
    alt = alt_cuts or default_paths().alt_cuts
    parts = [capa_impact(impact.capa)]
    if example is not None:
        parts.append(sb_impact(store, *example, alt, impact.students_for))
    return pd.concat(parts, ignore_index=True)


def select(frame: pd.DataFrame, lea: str | None, year: int | None) -> pd.DataFrame:
    """An LEA's rows (itself and its schools) and/or one year's."""
    keep = pd.Series(True, index=frame.index)
    if lea and "cds" in frame:
        own = frame["cds"] == lea
        keep &= own | (frame["lea_cds"] == lea) if "lea_cds" in frame else own
    if year and "year" in frame:
        keep &= frame["year"] == year
    return frame[keep]


def check_subset(store: Path, lea: str | None, year: int | None) -> None:
    """LookupError, listing what the store holds, unless `lea` and `year` (when given) are in its results."""
    if year is not None:
        years = [int(y) for y in stores.query(f"SELECT DISTINCT year FROM {stores.table(store, 'results')} "
                                              "ORDER BY year")["year"]]
        if year not in years:
            raise LookupError(f"no results for {year} in {store}: its years are {', '.join(map(str, years))}")
    if lea is not None:
        codes = list(stores.query(f"SELECT DISTINCT cds FROM {stores.table(store, 'results')} WHERE type_id "
                                  f"IN {stores.LEA_TYPES} ORDER BY cds")["cds"])
        if lea not in codes:
            shown = ", ".join(codes[:20]) + (f" and {len(codes) - 20} more" if len(codes) > 20 else "")
            raise LookupError(f"LEA {lea} has no results in {store}: its LEAs are {shown}")


def legacy(names: Iterable[str]) -> Callable[[list[str]], bool]:
    """How to recognise a tables folder an older version wrote (no marker): only these tables' files."""
    return atomic.names_in({f"{n}.{ext}" for n in names for ext in ("csv", "parquet")})


def write(computed: dict[str, pd.DataFrame], out: Path, lea: str | None = None, year: int | None = None) -> list[Path]:
    """CSV and Parquet of every table into `out` (swapped in whole, so a failure leaves the old one; a
    folder with files the tool did not write is refused)."""
    with atomic.replacing(out, "tables", legacy(computed)) as tmp:
        for name, frame in computed.items():
            write_table(select(frame, lea, year), tmp, name)
    return sorted(out.iterdir())


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> None:
    """`folder`/name.csv and name.parquet of one table (row groups of ROW_GROUP rows)."""
    frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    frame.to_parquet(folder / f"{name}.parquet", index=False, row_group_size=ROW_GROUP)
