"""LEA mode's tables: everything the internal LEA book shows, computed once from the LEA-mode store.

From the LEA's student records (a TOMS Student Score Data File) and, when given, the public research and
entities files of the same year: levels (published and computed, suppressed as the public reports),
computed vs published, the research file's own reconciliation, scale-score distributions (mean, SD, SEM,
±2 SEM band; histogram bars), classification accuracy and consistency, Lexile and Quantile measures by
grade, custom aggregates, and the bad records of the file (never an SSID: the reader drops it).
Computed rows are the LEA's and its schools' only: one LEA's students are not its county or the state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from helpers.core import params
from helpers.core.errors import InputError
from helpers.ingest import counting
from helpers.stats import accuracy, contract, dfs, distributions, tables
from helpers.stats import custom as customs

CERS_Z = 2.0  # CERS draws a score's error band as ± 2 SEM... here for a group mean (sampling error only)
COMPARE_KEYS = ["cds", "test_id", "grade", "student_group_id"]
COMPARE_COLS = ["entity_name", "with_scores", "mean_scale_score", "pct_met_and_above", "suppressed",
                "counts_hidden"]
OTHER_LEA = "record of another LEA"
SAME = 0.005  # published percentages have 2 decimals: closer than this is the same value
MEASURES = (("lexile", 1, "Lexile"), ("quantile", 2, "Quantile"))  # measure column, its test, its name


def read(store: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(Path(store) / f"{name}.parquet")


def lea_students(store: Path, cds: str) -> tuple[pd.DataFrame, int]:
    """The LEA's student records (its own and its schools') and their test year; InputError naming the
    file when it has none of this LEA."""
    students = read(store, "students")
    own = students[students["lea_cds"] == cds]
    if own.empty:
        files = ", ".join(sorted(students["source_file"].unique())) or "the inputs"
        found = ", ".join(sorted(students["lea_cds"].dropna().unique())[:5]) or "none"
        raise InputError(files, f"no student records of LEA {cds} (the file's LEAs: {found})", None, "District Code")
    years = sorted(own["year"].unique())
    if len(years) > 1:
        raise InputError(", ".join(sorted(own["source_file"].unique())),
                         f"student records of several test years ({years}): give one year's file")
    return own.drop(columns="source_file").reset_index(drop=True), int(years[0])


def comparison(levels: pd.DataFrame, year: int) -> pd.DataFrame:
    """Computed beside published rows of the same entity × test × grade × student group and year, with
    the differences (blank where either side is suppressed)."""
    pub = levels[(levels["source"] == "published") & (levels["year"] == year)]
    comp = levels[levels["source"] == "computed"]
    both = comp[COMPARE_KEYS + COMPARE_COLS].merge(pub[COMPARE_KEYS + COMPARE_COLS], on=COMPARE_KEYS,
                                                   suffixes=("_computed", "_published"))
    hidden = both["suppressed_computed"].astype(bool) | both["suppressed_published"].astype(bool)
    for col in ("mean_scale_score", "pct_met_and_above"):
        diff = both[f"{col}_computed"].astype(float) - both[f"{col}_published"].astype(float)
        both[f"{col}_diff"] = diff.round(2).mask(hidden)
    both["with_scores_diff"] = (both["with_scores_computed"].astype(float)
                                - both["with_scores_published"].astype(float)).mask(hidden)
    same = (both["pct_met_and_above_diff"].abs() < SAME) & (both["with_scores_diff"] == 0)
    both["status"] = np.select([hidden, same], ["suppressed", "same"], "differs")
    both["entity_name"] = both.pop("entity_name_published")
    both = both.drop(columns="entity_name_computed")
    return both.sort_values(["test_id", "cds", "student_group_id", "grade"]).reset_index(drop=True)


def measures(students: pd.DataFrame) -> pd.DataFrame:
    """Lexile (ELA) and Quantile (math) measures of the records with scores, by year × grade: n, mean and
    quartiles; no statistics for fewer than the year's min_results students."""
    rows = []
    for col, test, name in MEASURES:
        have = students[(students["test_id"] == test) & students[col].notna()]
        for (year, grade), g in have.groupby(["year", "grade"], sort=True):
            x = g[col].astype(float)
            small = len(x) < params.suppression_rule(int(year)).min_results
            stats = (np.nan,) * 4 if small else (x.mean(), *np.percentile(x, [25, 50, 75]))
            rows.append({"measure": name, "year": int(year), "grade": int(grade), "n": len(x),
                         "mean": round(stats[0], 0), "p25": stats[1], "median": stats[2], "p75": stats[3],
                         "suppressed": small})
    cols = ["measure", "year", "grade", "n", "mean", "p25", "median", "p75", "suppressed"]
    return pd.DataFrame(rows, columns=cols)


def dfs_comparison(students: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """Distance from Standard of the LEA and its schools (All Students, ELA and math, by grade and All Grades):
    the mean over students of (scale score − their grade's minimum) beside the research-file way, from the
    computed grade means and, when a research file was given, from the published ones (helpers.stats.dfs).
    Blank where the computed row's results are suppressed."""
    own = dfs.from_students(students, counting.flags(students)[1])
    keys = ["year", "cds", "test_id", "grade"]
    pick = levels[levels["student_group_id"] == 1]
    comp = pick[pick["source"] == "computed"][[*keys, "entity_name", "with_scores", "suppressed", "dfs"]]
    pub = pick[pick["source"] == "published"][[*keys, "dfs", "suppressed"]]
    out = own.drop(columns="with_scores").merge(comp.rename(columns={"dfs": "dfs_grade_means"}), on=keys,
                                                how="left")
    out = out.merge(pub.rename(columns={"dfs": "dfs_research_file", "suppressed": "research_file_suppressed"}),
                    on=keys, how="left")
    hidden = out["suppressed"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    out["dfs_students"] = out["dfs_students"].mask(hidden)
    out["dfs_research_file"] = out["dfs_research_file"].astype(float)
    out["dfs_diff"] = (out["dfs_students"] - out["dfs_research_file"]).round(1)
    out["research_file_suppressed"] = out["research_file_suppressed"].astype("boolean").fillna(False).astype(bool)
    cols = [*keys, "entity_name", "with_scores", "suppressed", "dfs_students", "dfs_grade_means",
            "dfs_research_file", "research_file_suppressed", "dfs_diff"]
    return out[cols].sort_values(["test_id", "cds", "grade"]).reset_index(drop=True)


def issue_counts(issues: pd.DataFrame) -> pd.DataFrame:
    """Bad records (excluded) and warnings (kept) by kind: the reason without its quoted detail."""
    kind = issues["reason"].str.split(" (", n=1, regex=False).str[0]
    out = issues.assign(kind=kind).groupby(["severity", "kind"], sort=True).agg(
        records=("line", "size"), first_line=("line", "min")).reset_index()
    return out.sort_values(["severity", "records", "kind"], ascending=[True, False, True]).reset_index(drop=True)


def district_field(label: str) -> str:
    """The district-code header name of the student-file dialect labelled `label`."""
    from helpers.ingest import student_file

    found = [d for d in student_file.layout().dialects if d.label == label]
    return found[0].fields["district_code"] if found else "district_code"


def other_leas(students: pd.DataFrame, sources: pd.DataFrame, cds: str) -> pd.DataFrame:
    """The records of other LEAs in the student files, as excluded issues (file, line, district field,
    "record of another LEA: <its CDS>"); a directly funded charter is an LEA of its own."""
    other = students[students["lea_cds"] != cds]
    era = dict(zip(sources["file"], sources["era"]))
    return pd.DataFrame({"file": other["source_file"], "line": other["source_line"].astype(int),
                         "field": other["source_file"].map(lambda f: district_field(era.get(f, ""))),
                         "reason": OTHER_LEA + ": " + other["lea_cds"].astype(str),
                         "severity": "excluded"}).reset_index(drop=True)


def inputs(store: Path, students: pd.DataFrame, cds: str) -> pd.DataFrame:
    """Every input file: its kind, layout and records read; for the student file, records kept (this
    LEA's: another LEA's records are excluded)."""
    src = read(store, "sources")[["file", "kind", "era", "rows_read", "sha256"]]
    own = students[students["lea_cds"] == cds] if "lea_cds" in students else students
    kept = own.groupby("source_file").size() if "source_file" in own else pd.Series(dtype=int)
    src["kept"] = src["file"].map(kept).where(src["kind"] == "students")
    return src.sort_values(["kind", "file"]).reset_index(drop=True)


def compute(store: Path, cds: str, custom_specs: Sequence[Path] = ()) -> dict[str, pd.DataFrame]:
    """Every LEA-mode table of LEA `cds` (see the module docstring)."""
    all_students = read(store, "students")
    students, year = lea_students(store, cds)
    results = contract.read_results(store)
    levels = contract.select(contract.levels(results, students, read(store, "entities")), cds, year)
    own = levels[(levels["source"] == "computed") & (levels["cds"] == cds)]
    issues = pd.concat([read(store, "student_issues"), other_leas(all_students, read(store, "sources"), cds)],
                       ignore_index=True).sort_values(["file", "line"], kind="stable").reset_index(drop=True)
    out = {
        "levels": levels.reset_index(drop=True),
        "comparison": comparison(levels, year),
        "reconciliation": (contract.select(tables.reconcile(results), cds, year).reset_index(drop=True)
                           if len(results) else pd.DataFrame()),
        "summary": distributions.summary(students, z=CERS_Z),
        "bars": distributions.bars(students, hidden=own),
        "accuracy": accuracy.by_test_grade(students),
        "measures": measures(students),
        "dfs": dfs_comparison(students, levels),
        "inputs": inputs(store, all_students, cds),
        "issues": issues.drop(columns="source_file", errors="ignore"),
        "issue_counts": issue_counts(issues),
    }
    for spec in custom_specs:
        out[f"custom_{customs.load(spec).id}"] = customs.compute(students, spec)
    return out


def load(tables_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables `compute` wrote (contract.write: one Parquet file each)."""
    return {p.stem: pd.read_parquet(p) for p in sorted(Path(tables_dir).glob("*.parquet"))}


def published_year_present(levels: pd.DataFrame, year: int) -> bool:
    return bool(((levels["source"] == "published") & (levels["year"] == year)).any())


def entity_names(levels: pd.DataFrame) -> dict[str, str]:
    """CDS code → name (the entities file's, else the code)."""
    named = levels.dropna(subset=["entity_name"]).drop_duplicates("cds")
    return dict(zip(named["cds"], named["entity_name"].astype(str)))

