"""Book pages generated from data: sources, suppression, column dictionary, data quality, impact."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import columns, stable_write
from . import impact as impacts
from .report import md_text

ILLUSTRATIVE = ("**Illustrative values.** These cut scores are not official: they stand in for values that could "
                "not be retrieved, so every number that depends on them is illustrative too.")


def md_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A Markdown pipe table (cells escaped; blanks for missing values)."""
    if index:
        frame = frame.reset_index()
    head = [md_text(_flat(c)) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(md_text(_cell(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _flat(col) -> str:
    return " · ".join(str(c) for c in col if str(c)) if isinstance(col, tuple) else str(col)


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def version_suffix(file_name: str) -> str:
    """CDE's release version in a research-file name (`sb_ca2018_1_csv_v3.txt` → `v3`), or '' if none."""
    match = re.search(r"_(v\d+)(?=[._]|$)", file_name)
    return match.group(1) if match else ""


def sources_page(sources: pd.DataFrame) -> str:
    frame = sources.sort_values("file")[["file", "kind", "era", "rows_read", "sha256"]]
    frame = frame.assign(version=frame["file"].map(version_suffix),
                         sha256=frame["sha256"].map(lambda s: f"`{s}`"))  # file names stay text: md_text escapes them
    frame = frame[["file", "kind", "era", "version", "rows_read", "sha256"]]
    return md_table(frame.rename(columns={"file": "File", "kind": "Kind", "era": "Layout era",
                                          "version": "Version", "rows_read": "Rows", "sha256": "SHA-256"}))


def suppression_page() -> str:
    """The rules by year (from params/suppression.yml) and the algorithm (helpers.suppress's docstring)."""
    from . import params, suppress

    rules = pd.DataFrame([{"Test years": f"{r.year_from}–{r.year_to or 'on'}", "Counts shown from": r.min_count,
                           "Results shown from (students with scores)": r.min_results,
                           "SB areas shown from": r.min_area,
                           "CAST/CAA domains shown from": r.min_domain} for r in params.suppression_rules()])
    return "\n".join([
        "A count below the year's threshold, and any result for fewer than the year's minimum number of "
        "students with scores, is shown as `*`. The rules are data in `params/suppression.yml`, with their "
        "sources. They are applied on top of each file's own `*`, so a value below the threshold is never "
        "published even where a file showed it.\n",
        md_table(rules),
        "\n### The suppression algorithm\n",
        suppress.__doc__.split("\n", 1)[1].strip() + "\n",
    ])


def counting_page() -> str:
    """Who counts as enrolled, tested and with scores in student records (params/counting.yml), with the
    condition codes and the documents each rule comes from."""
    from .params import load_yaml, tests
    from .paths import default_paths

    doc = load_yaml(default_paths().params / "counting.yml")
    labels = {k: t.label for k, t in tests().items()}
    indicators = pd.DataFrame([{"Include Indicator": f"`{code}`", "Tested": "yes" if v["tested"] else "no",
                                "With scores": "yes" if v["with_scores"] else "no", "Meaning (source)": v["meaning"]}
                               for code, v in doc["include_indicator"].items()])
    applies = lambda tests: "all" if tests is None else ", ".join(labels.get(t, f"test {t}") for t in tests)  # noqa: E731
    conditions = pd.DataFrame([{"Condition code": f"`{code}`", "Include Indicator": f"`{v['include_indicator']}`",
                                "Tests": applies(v["tests"]), "Meaning": v["meaning"]}
                               for code, v in doc["condition_codes"].items()])
    sources = pd.DataFrame([{"Source": k, "Document": v} for k, v in doc["sources"].items()])
    return "\n".join([
        "In a Student Score Data File every record (one per student and test) counts as **enrolled**; a record "
        "counts as **with scores** when its Include Indicator is `Y` and it has a scale score (S6: \"records "
        "with a 'Y' Include Indicator are counted as valid scores\"); it counts as **tested** when the "
        "indicator is `Y`, `T` or `R`. The tested rule is derived, not stated by CDE (S19 lists exemptions, "
        "medical emergencies, one-part-only and no-shows as not tested, the `N` and `E` records). The rules "
        "are data in `params/counting.yml`.\n",
        md_table(indicators),
        "\nA condition code implies an Include Indicator. A record whose indicator differs, or whose test the "
        "code does not apply to, is kept (the Include Indicator decides) and reported on the data-quality "
        "page; an unknown code is reported too.\n",
        md_table(conditions),
        "\n",
        md_table(sources),
    ])


def columns_page() -> str:
    out = []
    for table, cols in columns.COLUMNS.items():
        name = "LEA page tables (`<cds>-<name>.<table>.csv` beside each notebook)" if table == "lea_page" \
            else f"`{table}.csv`"
        out.append(f"### {name}\n")
        out.append(md_table(pd.DataFrame({"Column": [f"`{c}`" for c in cols], "Meaning": list(cols.values())})))
    return "\n".join(out)


RECONCILIATION_COLUMNS = ["year", "cds", "entity_name", "test_id", "grade", "with_scores", "with_scores_grades",
                          "pct_met_and_above", "pct_met_and_above_recomputed", "max_abs_diff", "status"]


def data_quality_page(reconciliation: pd.DataFrame, sources: pd.DataFrame, suppression: pd.DataFrame) -> str:
    """Reconciliation of All Grades rows, rows read per source, and suppression counts (`suppression`: rows
    of the levels table by year and reason, columns year, reason, rows)."""
    status = reconciliation["status"].value_counts().rename_axis("Status").reset_index(name="All Grades rows")
    checks = reconciliation[reconciliation["status"].str.startswith("check")]
    worst = reconciliation[reconciliation["status"] == "ok"].nlargest(10, "max_abs_diff", keep="first")
    cols = RECONCILIATION_COLUMNS
    supp = suppression.set_index(["year", "reason"])["rows"].unstack(fill_value=0).reset_index()
    return "\n".join([
        "## Reconciliation of All Grades rows\n",
        "Each published All Grades row (grade 13, and 14 for high school) is recomputed from the same "
        "entity's grade rows, weighting each grade's percentages by its students with scores. Published "
        "percentages carry two decimals, so a difference up to 0.01 points is rounding; anything larger, or "
        "a mismatch in students with scores, is flagged `check`. Rows whose grade rows are suppressed cannot "
        "be recomputed.\n",
        md_table(status),
        f"\nRows flagged `check`: **{len(checks)}**.\n",
        md_table(checks[cols]) if len(checks) else "",
        "\nThe largest differences among rows that reconcile:\n",
        md_table(worst[cols]),
        "\n## Rows read per source file\n",
        sources_page(sources),
        "\n## Suppression\n",
        "Rows of the levels table by year and reason (`file`: the research file's own `*`; `primary`: fewer "
        "than the year's minimum students with scores; `complementary`: hidden so that no other row reveals "
        "a suppressed one).\n",
        md_table(supp),
    ])


TITLES = {"capa": "CAPA", "smarter_balanced": "Smarter Balanced"}
SUBJECTS = {"ela": "ELA", "math": "mathematics", "science": "science"}


def impact_page(impact: pd.DataFrame) -> str:
    """CAPA panel vs SSPI and the SB example, in the notice layout, with captions."""
    out = []
    for (assessment, subject, cds), part in impact.groupby(["assessment", "subject", "cds"], sort=False):
        a, b = part["cut_set_a"].iloc[0], part["cut_set_b"].iloc[0]
        title = f"{TITLES.get(assessment, assessment)} {SUBJECTS.get(subject, subject)}" + (f" — LEA {cds}" if cds else "")
        out.append(f"## {md_text(title)}\n")
        if (part["status"] == "illustrative").any():
            out.append(f"{ILLUSTRATIVE}\n")
        for side, name in (("a", a), ("b", b)):
            out.append(f"**Table: {md_text(title)}, cut set {md_text(name)}.** % Students at each level, the "
                       "minimum (cut) score of the level and the % at and above it.\n")
            out.append(md_table(impacts.notice_layout(part, side), index=True))
        out.append(f"**Table: {md_text(title)}, % at and above: {md_text(a)} vs {md_text(b)}.**\n")
        out.append(md_table(impacts.difference_layout(part), index=True))
    return "\n".join(out)


def write(path: Path, text: str) -> Path:
    """Write a generated page, only if its text changed (Sphinx then does not re-read it)."""
    stable_write.write_if_changed(path, text)
    return path
