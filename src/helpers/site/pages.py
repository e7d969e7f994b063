"""Book pages generated from data: sources, suppression, column dictionary, data quality, impact."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers.core import params, stable_write
from helpers.ingest import layouts
from helpers.report.page_tables import md_text
from helpers.site import myst
from helpers.stats import columns
from helpers.stats import impact as impacts

ILLUSTRATIVE = ("**Illustrative values.** These cut scores are not official: they stand in for values that could "
                "not be retrieved, so every number that depends on them is illustrative too.")


def version_suffix(file_name: str) -> str:
    """CDE's release version in a research-file name (`sb_ca2018_1_csv_v3.txt` → `v3`), or '' if none."""
    match = re.search(r"_(v\d+)(?=[._]|$)", file_name)
    return match.group(1) if match else ""


def sources_table(sources: pd.DataFrame) -> pd.DataFrame:
    frame = sources.sort_values("file")
    rejected = frame["rows_rejected"] if "rows_rejected" in frame else 0
    return pd.DataFrame({"File": frame["file"], "Kind": frame["kind"], "Layout era": frame["era"],
                         "Version": frame["file"].map(version_suffix), "Rows read": frame["rows_read"],
                         "Rows rejected": rejected, "SHA-256": frame["sha256"].map(myst.Code)})


def sources_page(sources: pd.DataFrame, name: str = "tab-sources") -> str:
    """The files the build read: kind, layout era, CDE's version suffix, rows and SHA-256."""
    return myst.table(sources_table(sources), "The data files this report was built from: kind and layout era "
                      "(detected from the header row), CDE's version suffix, rows read and rejected, SHA-256.", name)


def eras_page() -> str:
    """Every layout era the reader recognises, with the header names that identify it (helpers.ingest.layouts)."""
    rows = [{"Kind": kind, "Era": e.id, "Layout": e.label, "Recognised by the header names":
             myst.Code(*e.requires)}
            for kind, eras in (("research file", layouts.RESULT_ERAS), ("entities file", layouts.ENTITY_ERAS))
            for e in eras]
    return myst.table(pd.DataFrame(rows), "Layout eras of CAASPP research and entities files, in the order they "
                      "are tried: the first era whose names are all in a file's header row is the file's.",
                      "tab-layout-eras")


def cut_register_page(tables: list, alternatives: list = ()) -> str:
    """Every cut table in params/ (official, illustrative and the impact tables' alternatives) with its
    status and source; the values are in the assessments chapter."""
    rows = [{"Cut table": myst.Code(t.id), "Test": str(t.test_id), "Subject": t.subject, "Years": t.years_text,
             "Cut set": t.cut_set, "Status": t.status, "Source": myst.Linked(" ".join(str(t.source).split()))}
            for t in [*tables, *alternatives]]
    return myst.table(pd.DataFrame(rows), "Cut tables in params/cuts/ and params/alt_cuts/: status and source "
                      "(values by grade in the Assessments chapter).", "tab-cut-register")


POLICY_TEXT = {
    "published": (
        "**Policy of this book: values as published.** The tables show every value of CDE's research files "
        "exactly as CDE published it (same rounding) and hide exactly what CDE hid: each `*` of a file is kept, "
        "and the rules below are applied on top (CDE publishes no value they forbid, so on CDE's files they "
        "hide nothing more). No complementary suppression is added to these numbers: they are public in CDE's "
        "own files, so hiding them would protect no one and make the book disagree with the official source. "
        "Numbers the book computes itself (from student records: LEA mode, custom aggregates) always get the "
        "complementary suppression described below; a public book can ask for it on the published rows too "
        "(`caaspp-book tables --suppression complementary`).\n"),
    "complementary": (
        "**Policy of this book: complementary suppression.** Besides each file's `*` and the rules below, "
        "every value that would let a hidden one be worked out by subtraction within one relation (schools in "
        "their district, districts and direct-funded charters in their county, counties in the state, grades "
        "in All Grades, groups in All Students) is hidden too, as described below "
        "(`caaspp-book tables --suppression complementary`). Some of the values hidden this way are public in "
        "CDE's own files.\n"),
}


def suppression_page(policy: str = "complementary") -> str:
    """The policy applied (`published` or `complementary`, see helpers.stats.suppress), the rules by year (from
    params/suppression.yml) and the algorithm (helpers.stats.suppress's docstring)."""
    from helpers.core import params
    from helpers.stats import suppress

    rules = pd.DataFrame([{"Test years": f"{r.year_from}–{r.year_to or 'on'}", "Counts shown from": r.min_count,
                           "Results shown from (students with scores)": r.min_results,
                           "SB areas shown from": r.min_area,
                           "CAST/CAA domains shown from": r.min_domain} for r in params.suppression_rules()])
    return "\n".join([
        POLICY_TEXT[policy],
        "A count below the year's threshold, and any result for fewer than the year's minimum number of "
        "students with scores, is shown as `*`. The rules are data in `params/suppression.yml`, with their "
        "sources. They are applied on top of each file's own `*`, so a value below the threshold is never "
        "published even where a file showed it.\n",
        myst.table(rules, "Suppression thresholds by test year (params/suppression.yml).", "tab-suppression-rules"),
        "\n### The suppression algorithm\n",
        suppress.__doc__.split("\n", 1)[1].strip() + "\n",
    ])


def counting_page() -> str:
    """Who counts as enrolled, tested and with scores in student records (params/counting.yml), with the
    condition codes and the documents each rule comes from."""
    from helpers.core.params import tests
    from helpers.ingest import counting

    doc = counting.load()
    labels = {k: t.label for k, t in tests().items()}
    indicators = pd.DataFrame([{"Include Indicator": myst.Code(code),
                                "Tested": "yes" if v.tested else "no",
                                "With scores": "yes" if v.with_scores else "no", "Meaning (source)": v.meaning}
                               for code, v in doc.include_indicator.items()])
    applies = lambda tests: "all" if tests is None else ", ".join(labels.get(t, f"test {t}") for t in tests)  # noqa: E731
    conditions = pd.DataFrame([{"Condition code": myst.Code(code),
                                "Include Indicator": myst.Code(v.include_indicator),
                                "Tests": applies(v.tests), "Meaning": v.meaning}
                               for code, v in doc.condition_codes.items()])
    sources = pd.DataFrame([{"Source": k, "Document": v} for k, v in doc.sources.items()])
    return "\n".join([
        "In a Student Score Data File every record (one per student and test) counts as **enrolled**; a record "
        "counts as **with scores** when its Include Indicator is `Y` and it has a scale score (S6: \"records "
        "with a 'Y' Include Indicator are counted as valid scores\"); it counts as **tested** when the "
        "indicator is `Y`, `T` or `R`. The tested rule is derived, not stated by CDE (S19 lists exemptions, "
        "medical emergencies, one-part-only and no-shows as not tested, the `N` and `E` records). The rules "
        "are data in `params/counting.yml`.\n",
        myst.table(indicators, "Include Indicator values and how each record counts (params/counting.yml).",
                   "tab-include-indicators"),
        "\nA condition code implies an Include Indicator. A record whose indicator differs, or whose test the "
        "code does not apply to, is kept (the Include Indicator decides) and reported on the data-quality "
        "page; an unknown code is reported too.\n",
        myst.table(conditions, "Condition codes, the Include Indicator each implies and the tests it applies to.",
                   "tab-condition-codes"),
        "\n",
        myst.table(sources, "Documents the counting rules cite.", "tab-counting-sources"),
    ])


LEA_PAGE_CSVS = "LEA page tables (`<cds>-<name>.<table>.csv`, in the site zipped as `<cds>-<name>.csv.zip`)"


def columns_page() -> str:
    out = []
    for table, cols in columns.COLUMNS.items():
        name = LEA_PAGE_CSVS if table == "lea_page" else f"`{table}.csv`"
        out.append(f"### {name}\n")
        frame = pd.DataFrame({"Column": [myst.Code(c) for c in cols], "Meaning": list(cols.values())})
        out.append(myst.table(frame, f"Columns of {name}.", myst.label("tab-columns", table)))
    return "\n".join(out)


RECONCILIATION_COLUMNS = ["year", "cds", "entity_name", "test_id", "grade", "with_scores", "with_scores_grades",
                          "pct_met_and_above", "pct_met_and_above_recomputed", "max_abs_diff", "status"]
RECONCILIATION_LABELS = {
    "year": "Year", "cds": "CDS code", "entity_name": "Entity", "test_id": "Test", "grade": "Grade",
    "with_scores": "With scores (published)", "with_scores_grades": "With scores (sum of grades)",
    "pct_met_and_above": "% Met and Above (published)", "pct_met_and_above_recomputed": "% Met and Above "
    "(recomputed)", "max_abs_diff": "Largest difference (points)", "status": "Status"}


def _reconciliation(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with test and grade by name (ELA, All Grades), not CDE's codes."""
    out = frame[RECONCILIATION_COLUMNS].assign(
        test_id=frame["test_id"].map(params.test_label),
        grade=frame["grade"].map(params.grade_label))
    return out.rename(columns=RECONCILIATION_LABELS)


FINDINGS_SHOWN = 50
FINDING_LABELS = {"file": "File", "line": "Line", "field": "Field", "check": "Check", "message": "Finding"}


def findings_section(findings: pd.DataFrame | None) -> list[str]:
    """The ingest's findings: counts by file and check, and the first rows of each."""
    if findings is None:
        return []
    head = ["\n## Findings in the research files\n",
            "Rows ingest read but flags: level percentages that do not add up beyond rounding (Exceeded + Met "
            "vs Met and Above: 0.02 points, the four levels vs 100: 0.06 points; 1.5 and 2 points for the "
            "whole numbers before 2016–17), and Test or Student Group IDs the book has no name for (once per "
            "file, at the first line).\n"]
    if findings.empty:
        return head + ["No findings.\n"]
    counts = findings.groupby(["file", "check"]).size().reset_index(name="rows").rename(
        columns={"file": "File", "check": "Check", "rows": "Rows"})
    shown = findings.sort_values(["file", "line"]).head(FINDINGS_SHOWN).rename(columns=FINDING_LABELS)
    return head + [myst.table(counts, "Findings by file and check.", "tab-findings-counts"),
                   f"\nThe first {len(shown)} of {len(findings)} findings:\n",
                   myst.table(shown, "Findings, by file and line.", "tab-findings")]


def data_quality_page(reconciliation: pd.DataFrame, sources: pd.DataFrame, suppression: pd.DataFrame,
                      findings: pd.DataFrame | None = None) -> str:
    """Reconciliation of All Grades rows, rows read per source, ingest's findings and suppression counts
    (`suppression`: rows of the levels table by year and reason, columns year, reason, rows)."""
    status = reconciliation["status"].value_counts().rename_axis("Status").reset_index(name="All Grades rows")
    checks = reconciliation[reconciliation["status"].str.startswith("check")]
    worst = reconciliation[reconciliation["status"] == "ok"].nlargest(10, "max_abs_diff", keep="first")
    supp = suppression.set_index(["year", "reason"])["rows"].unstack(fill_value=0).reset_index()
    supp = supp.rename(columns={"year": "Year"})
    supp.columns.name = None
    return "\n".join([
        "## Reconciliation of All Grades rows\n",
        "Each published All Grades row (grade 13, and 14 for high school) is recomputed from the same "
        "entity's grade rows, weighting each grade's percentages by its students with scores. Published "
        "percentages carry two decimals (whole numbers before 2016–17), so a difference up to 0.01 points (1 "
        "point before 2016–17) is rounding; anything larger, or "
        "a mismatch in students with scores, is flagged `check`. Rows whose grade rows are suppressed cannot "
        "be recomputed.\n",
        myst.table(status, "All Grades rows by reconciliation status.", "tab-reconciliation-status"),
        f"\nRows flagged `check`: **{len(checks)}**.\n",
        myst.table(_reconciliation(checks), "All Grades rows flagged check.", "tab-reconciliation-checks")
        if len(checks) else "",
        "\nThe largest differences among rows that reconcile:\n",
        myst.table(_reconciliation(worst), "The ten largest differences among All Grades rows that reconcile.",
                   "tab-reconciliation-worst"),
        "\n## Rows read and rejected per source file\n",
        "A research, entities or lookup file with any bad row is rejected whole: the build stops with an "
        "error naming the file, line and field, so every file listed here was read in full (0 rows "
        "rejected). Only a Student Score Data File (LEA mode) has records excluded one by one.\n",
        sources_page(sources, "tab-sources-quality"),
        *findings_section(findings),
        "\n## Suppression\n",
        "Rows of the levels table by year and reason (`file`: the research file's own `*`; `primary`: fewer "
        "than the year's minimum students with scores; `complementary`: hidden so that no other row reveals "
        "a suppressed one, for computed numbers and under the complementary policy; `shown`: nothing hidden).\n",
        myst.table(supp, "Rows of the levels table by test year and suppression reason.", "tab-suppression-counts"),
    ])


TITLES = {"capa": "CAPA", "smarter_balanced": "Smarter Balanced"}
SUBJECTS = {"ela": "ELA", "math": "mathematics", "science": "science"}
CUT_SETS = {"panel": "Panel", "sspi": "SSPI", "official": "Official", "alternative": "Alternative"}
CUT_SET_NAMES = {"panel": "the Standard Setting Panel's (Panel)", "sspi": "the State Superintendent's (SSPI)",
                 "official": "the official (Official)", "alternative": "the alternative (Alternative)"}


def _impact_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Percentages with one decimal, cut scores as whole numbers; the B − A columns signed; blanks kept."""
    def fmt(value, stat: str, column: tuple) -> str:
        if value is None or pd.isna(value):
            return ""
        signed = "−" in str(column[-1]) and round(value, 1) != 0
        text = (f"{value:+g}" if signed else f"{value:g}") if stat == "Cut score" else \
            (f"{value:+.1f}" if signed else f"{value:.1f}")
        return text.replace("-", "−")
    stats = frame.index.get_level_values(-1)
    out = pd.DataFrame([[fmt(v, stat, col) for v, col in zip(row, frame.columns)]
                        for row, stat in zip(frame.itertuples(index=False), stats)],
                       index=frame.index, columns=frame.columns)
    return out.rename_axis(index=[*frame.index.names[:-1], frame.index.names[-1] or "Statistic"])


ILLUSTRATIVE_ALTERNATIVE = ("**Illustrative values.** The alternative cut set is a what-if example made for this "
                            "report, not a proposal; its numbers only show how a change of cuts would read.")


NO_SB_EXAMPLE = ("## Smarter Balanced\n\nNo LEA has Smarter Balanced results in a year the alternative cut set "
                 "covers (`params/alt_cuts/`), so there is no Smarter Balanced example of official against "
                 "alternative cuts.\n")


def impact_page(impact: pd.DataFrame, names: dict[str, str] | None = None) -> str:
    """CAPA panel vs SSPI and the SB example: both cut sets side by side in the notice layout, with the
    difference, captioned as illustrative where a cut set is."""
    out = []
    for (assessment, subject, cds), part in impact.groupby(["assessment", "subject", "cds"], sort=False):
        a, b = (CUT_SET_NAMES.get(x, x) for x in (part["cut_set_a"].iloc[0], part["cut_set_b"].iloc[0]))
        lea = f" — {(names or {}).get(cds, 'LEA')} ({cds})" if cds else ""
        title = f"{TITLES.get(assessment, assessment)} {SUBJECTS.get(subject, subject)}{lea}"
        illustrative = (part["status"] == "illustrative").any()
        out.append(f"## {md_text(title)}\n")
        if illustrative:
            out.append(f"{ILLUSTRATIVE if assessment == 'capa' else ILLUSTRATIVE_ALTERNATIVE}\n")
        caption = ("Illustrative values. " if illustrative else "") + (
            f"{md_text(title)}: for each {'CAPA level' if assessment == 'capa' else 'grade'} and performance "
            f"level, % Students, the level's minimum (cut) score and % at and above it, under {md_text(a)} and "
            f"{md_text(b)} cut sets side by side, with the difference.")
        out.append(myst.table(_impact_numbers(impacts.side_by_side(part, CUT_SETS)), caption,
                              myst.label("tab-impact", assessment, subject, cds), index=True))
    if not (impact.get("assessment", pd.Series(dtype=str)) == "smarter_balanced").any():
        out.append(NO_SB_EXAMPLE)
    return "\n".join(out)


def write(path: Path, text: str) -> Path:
    """Write a generated page, only if its text changed (Sphinx then does not re-read it)."""
    stable_write.write_if_changed(path, text)
    return path


DFS_EXAMPLE = ((3, 120, 2420.5), (4, 100, 2486.0), (5, 12, None))  # grade, students with scores, mean (None: *)


def dfs_example() -> pd.DataFrame:
    """The worked example's rows (illustrative ELA grades of spring 2022) as helpers.stats.dfs reads them."""
    return pd.DataFrame([{"year": 2022, "cds": "example", "test_id": 1, "student_group_id": 1,
                          "source": "published", "grade": g, "with_scores": n,
                          "mean_scale_score": float("nan") if m is None else m} for g, n, m in DFS_EXAMPLE])


def dfs_page() -> str:
    """Distance from Standard: the method (helpers.stats.dfs's docstring) and a worked example computed by
    the same code."""
    from helpers.stats import dfs

    rows = dfs_example()
    minimum = dfs.minimums(rows)
    value = dfs.grade_dfs(rows)
    total = dfs.all_grades(rows).iloc[0]
    shown = pd.DataFrame({"Grade": rows["grade"], "With scores": rows["with_scores"],
                          "Mean scale score": [f"{m:.1f}" if m == m else "*" for m in rows["mean_scale_score"]],
                          "Standard Met minimum": [f"{m:.0f}" for m in minimum],
                          "DFS": [f"{v:+.1f}" if v == v else "left out" for v in value]})
    used = [(int(n), v) for n, v in zip(rows["with_scores"], value) if v == v]
    sums = " + ".join(f"{n} × ({v:+.1f})" for n, v in used)
    return "\n".join([
        dfs.__doc__.split("\n", 1)[1].strip() + "\n",
        "### Worked example\n",
        "An illustrative school's ELA grades in spring 2022 (the minimums are the official cuts):\n",
        myst.table(shown, "Worked example of the Distance from Standard (illustrative numbers).",
                   "tab-dfs-example"),
        f"\nAll Grades DFS = ({sums}) ÷ ({' + '.join(str(n) for n, _ in used)}) = **{total['dfs']:+.1f}**; "
        f"grade {total['dfs_grades_left_out']} ({int(total['dfs_students_left_out'])} students) is left out "
        "because its mean is suppressed.\n",
    ])
