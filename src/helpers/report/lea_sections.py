"""The sections of the internal LEA notebook (notebooks/lea_internal.ipynb): display text tables (suppressed
values as `*`, as on the public pages), charts with alt text, and the CSV of every table. The notebook only
calls `load`, `write_csvs`, `show` and the section functions here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.core import params
from helpers.report import lea_charts, outputs
from helpers.report import page_tables as report
from helpers.report.page_tables import NO_DATA, md_text
from helpers.stats import lea_tables, tables

ISSUES_SHOWN = 10  # bad records listed by file and line (the CSV of counts has them all by kind)
STATS = {"sd": "SD", "sem_mean": "SEM of the mean", "band_low": "Mean − 2 SEM", "band_high": "Mean + 2 SEM"}


@dataclass
class Book:
    """One LEA's tables (helpers.stats.lea_tables) and what the page says about them."""

    cds: str
    year: int
    name: str
    release: str
    stem: str
    data: dict[str, pd.DataFrame]

    @property
    def has_published(self) -> bool:
        return lea_tables.published_year_present(self.data["levels"], self.year)


def load(tables_dir: str | Path, cds: str, year: int, release: str, stem: str) -> Book:
    data = lea_tables.load(Path(tables_dir))
    name = lea_tables.entity_names(data["levels"]).get(cds, cds)
    return Book(cds, int(year), name, release, stem, data)


def show(items: list) -> None:
    """Display each output of a section in order."""
    from IPython.display import display

    for item in items:
        display(item)


def _md(text: str):
    from IPython.display import Markdown

    return Markdown(text)


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def _test(ids: pd.Series) -> pd.Series:
    return ids.map(params.test_label)


def _grade(grades: pd.Series) -> pd.Series:
    return grades.map(params.grade_label)


def _count(values: pd.Series, year: int) -> pd.Series:
    """Counts as text; below the year's min_count: `*`."""
    rule = params.suppression_rule(year)
    return report.cells(values, values.astype(float) < rule.min_count, "{:.0f}")


def _group_name(ids: pd.Series) -> pd.Series:
    specs = tables.group_specs()
    return ids.map(lambda g: specs[int(g)].name if int(g) in specs else str(g))


# ---------------------------------------------------------------- the display tables (also the CSVs)


def distribution_table(book: Book) -> pd.DataFrame:
    s = book.data["summary"]
    s = s[s["student_group_id"] == 1].sort_values(["test_id", "grade"])
    hide = s["suppressed"].astype(bool)
    out = pd.DataFrame({"test": _test(s["test_id"]), "grade": _grade(s["grade"]),
                        "with_scores": _count(s["n"], book.year),
                        "mean_scale_score": report.cells(s["mean"], hide, "{:.1f}")})
    for col, label in STATS.items():
        out[label] = report.cells(s[col], hide, "{:.2f}" if col == "sem_mean" else "{:.1f}")
    return out.reset_index(drop=True)


def bars_table(book: Book, test_id: int) -> pd.DataFrame:
    b = book.data["bars"]
    b = b[(b["test_id"] == test_id) & (b["student_group_id"] == 1)].sort_values(["grade", "low"])
    return pd.DataFrame({"Grade": _grade(b["grade"]), "Level": b["level"].astype(int),
                         "Scale scores": b["low"].map("{:.0f}".format) + "–" + b["high"].map("{:.0f}".format),
                         "Students": report.cells(b["count"], b["suppressed"].astype(bool), "{:.0f}")}
                        ).reset_index(drop=True)


def accuracy_table(book: Book) -> pd.DataFrame:
    a = book.data["accuracy"].sort_values(["test_id", "grade"])
    hide = a["suppressed"].astype(bool)
    out = pd.DataFrame({"test": _test(a["test_id"]), "grade": _grade(a["grade"]), "Students": _count(a["n"], book.year),
                        "Accuracy": report.cells(a["accuracy"], hide, "{:.3f}"),
                        "Consistency": report.cells(a["consistency"], hide, "{:.3f}")})
    met = a["test_id"].map(lambda t: params.test_info(int(t)).met_level)
    for what, label in (("accuracy_at", "Accuracy at the Met cut"), ("false_positive", "False positive at Met"),
                        ("false_negative", "False negative at Met")):
        values = pd.Series([a.at[i, f"{what}_level_{m}"] for i, m in zip(a.index, met)], index=a.index)
        out[label] = report.cells(values, hide, "{:.3f}")
    return out.reset_index(drop=True)


def levels_text(rows: pd.DataFrame) -> pd.DataFrame:
    """Test, grade, student group and the published-style counts and results of level rows."""
    out = pd.DataFrame({"test": _test(rows["test_id"]), "grade": _grade(rows["grade"]),
                        "Student group": _group_name(rows["student_group_id"])}, index=rows.index)
    return pd.concat([out, report.publish(rows, ("mean_scale_score",) + report.LEVEL_COLS)], axis=1)


def groups_table(book: Book) -> pd.DataFrame:
    lv = book.data["levels"]
    rows = lv[lv["source"] == "computed"]  # every row has records; suppressed ones show `*`
    rows = rows.assign(_own=rows["cds"] != book.cds).sort_values(["_own", "entity_name", "cds", "test_id",
                                                                  "grade", "student_group_id"])
    out = pd.DataFrame({"school": rows["entity_name"].astype(str), "cds": rows["cds"]}, index=rows.index)
    return pd.concat([out, levels_text(rows)], axis=1).reset_index(drop=True)


def custom_table(frame: pd.DataFrame) -> pd.DataFrame:
    return levels_text(frame.sort_values(["test_id", "student_group_id", "grade"])).reset_index(drop=True)


def measures_table(book: Book) -> pd.DataFrame:
    m = book.data["measures"].sort_values(["measure", "grade"])
    hide = m["suppressed"].astype(bool)
    out = pd.DataFrame({"Measure": m["measure"], "grade": _grade(m["grade"]), "Students": _count(m["n"], book.year)})
    for col, label in (("mean", "Mean"), ("p25", "25th percentile"), ("median", "Median"), ("p75", "75th percentile")):
        out[label] = report.cells(m[col], hide, "{:.0f}")
    return out.reset_index(drop=True)


def comparison_table(book: Book) -> pd.DataFrame:
    c = book.data["comparison"]
    hidden = {side: c[f"suppressed_{side}"].astype(bool) for side in ("computed", "published")}
    either = hidden["computed"] | hidden["published"]
    out = pd.DataFrame({"entity": c["entity_name"].astype(str), "cds": c["cds"], "test": _test(c["test_id"]),
                        "grade": _grade(c["grade"]), "Student group": _group_name(c["student_group_id"])})
    for side in ("computed", "published"):
        counts_hidden = c[f"counts_hidden_{side}"].fillna("").str.contains("with_scores")
        out[f"With scores ({side})"] = report.cells(c[f"with_scores_{side}"], counts_hidden, "{:.0f}")
    for side in ("computed", "published"):
        out[f"% Met and Above ({side})"] = report.cells(c[f"pct_met_and_above_{side}"], hidden[side], "{:.2f}")
    out["Difference (computed − published)"] = report.cells(c["pct_met_and_above_diff"], either, "{:+.2f}")
    out["status"] = c["status"]
    return out.reset_index(drop=True)


def reconciliation_table(book: Book) -> pd.DataFrame:
    r = book.data["reconciliation"]
    if r.empty:
        return pd.DataFrame(columns=["test", "grade", "pct_met_and_above", "Recomputed from grades", "status"])
    return pd.DataFrame({"test": _test(r["test_id"]), "grade": _grade(r["grade"]),
                         "pct_met_and_above": r["pct_met_and_above"].map(lambda v: NO_DATA if pd.isna(v) else f"{v:.2f}"),
                         "Recomputed from grades": r["pct_met_and_above_recomputed"].map(
                             lambda v: NO_DATA if pd.isna(v) else f"{v:.2f}"),
                         "status": r["status"]}).reset_index(drop=True)


def issue_counts_table(book: Book) -> pd.DataFrame:
    c = book.data["issue_counts"]
    return pd.DataFrame({"Severity": c["severity"], "Kind": c["kind"], "Records": c["records"].astype(int),
                         "First line": c["first_line"].astype(int)})


def issues_table(book: Book) -> pd.DataFrame:
    i = book.data["issues"]
    first = pd.concat([g.sort_values("line").head(ISSUES_SHOWN) for _, g in i.groupby("severity", sort=True)]
                      ) if len(i) else i
    return pd.DataFrame({"File": first["file"], "Line": first["line"], "Field": first["field"],
                         "Reason": first["reason"], "Severity": first["severity"]}).reset_index(drop=True)


def inputs_table(book: Book) -> pd.DataFrame:
    s = book.data["inputs"]
    return pd.DataFrame({"File": s["file"], "Kind": s["kind"], "Layout": s["era"],
                         "Records read": s["rows_read"].astype(int),
                         "Records kept": s["kept"].map(lambda v: "" if pd.isna(v) else f"{int(v)}"),
                         "SHA-256": s["sha256"]})


def dfs_table(book: Book) -> pd.DataFrame:
    """Distance from Standard from the students beside the research-file way (text: `*` suppressed)."""
    d = book.data.get("dfs", pd.DataFrame())
    if d.empty:
        return pd.DataFrame(columns=["Entity", "Test", "Grade", "With scores", "DFS (students)",
                                     "DFS (grade means)", "DFS (research file)", "Difference"])
    hidden = d["suppressed"].astype("boolean").fillna(True).astype(bool)
    never = pd.Series(False, index=d.index)
    return pd.DataFrame({"Entity": d["entity_name"], "Test": _test(d["test_id"]), "Grade": _grade(d["grade"]),
                         "With scores": report.cells(d["with_scores"], d["with_scores"].isna(), "{:.0f}"),
                         "DFS (students)": report.cells(d["dfs_students"], hidden, "{:+.1f}"),
                         "DFS (grade means)": report.cells(d["dfs_grade_means"], hidden, "{:+.1f}"),
                         "DFS (research file)": report.cells(d["dfs_research_file"], d["research_file_suppressed"],
                                                             "{:+.1f}"),
                         "Difference": report.cells(d["dfs_diff"], never, "{:+.1f}")}).reset_index(drop=True)


def display_tables(book: Book) -> dict[str, pd.DataFrame]:
    """Every table of the page by CSV name."""
    out = {"inputs": inputs_table(book), "distributions": distribution_table(book), "accuracy": accuracy_table(book),
           "groups": groups_table(book), "measures": measures_table(book), "comparison": comparison_table(book),
           "reconciliation": reconciliation_table(book), "issue_counts": issue_counts_table(book),
           "issues": issues_table(book), "dfs": dfs_table(book)}
    for test_id in sorted(book.data["bars"]["test_id"].unique()):
        out[f"bars_{int(test_id)}"] = bars_table(book, int(test_id))
    return out


def write_csvs(book: Book, out_dir: str | Path) -> list[Path]:
    return report.write_csvs(display_tables(book), out_dir, book.stem)


# ---------------------------------------------------------------- sections


def header(book: Book) -> list:
    status = "preliminary (subject to change)" if book.release == "preliminary" else "final"
    text = (f"| | |\n|---|---|\n| LEA | {md_text(book.name)} |\n| CDS code | {md_text(book.cds)} |\n"
            f"| Test year | {book.year - 1}–{str(book.year)[2:]} (spring {book.year}) |\n"
            f"| Release status | {status} |\n| Public results beside | "
            f"{'yes (research file of ' + str(book.year) + ')' if book.has_published else 'not available'} |\n")
    return [_md(text), _md("**Input files**"), outputs.table(inputs_table(book), book.stem, "inputs")]


def distributions(book: Book) -> list:
    items = [outputs.table(distribution_table(book), book.stem, "distributions"), _md(report.footnote(book.year))]
    for test_id in sorted(book.data["bars"]["test_id"].unique()):
        t = int(test_id)
        items.append(outputs.chart(lea_charts.histogram(book.data["bars"], book.data["summary"], t),
                                   lea_charts.histogram_alt(book.data["bars"], book.data["summary"], t),
                                   f"{params.test_label(t)}: scale-score distribution by grade, {book.name}, "
                                   f"spring {book.year}.", bars_table(book, t)))
    return items


def accuracy(book: Book) -> list:
    return [outputs.chart(lea_charts.accuracy(book.data["accuracy"]), lea_charts.accuracy_alt(book.data["accuracy"]),
                          f"Classification accuracy and consistency by grade, {book.name}, spring {book.year}.",
                          accuracy_table(book)),
            outputs.table(accuracy_table(book), book.stem, "accuracy")]


def school_tables(book: Book) -> list[tuple[str, str, pd.DataFrame]]:
    """(name, CDS code, rows) of the LEA and then each school, as the groups table orders them."""
    table = groups_table(book)
    return [(str(name), str(cds), rows.drop(columns=["school", "cds"]).reset_index(drop=True))
            for (name, cds), rows in table.groupby(["school", "cds"], sort=False)]


def groups(book: Book) -> list:
    """The report's section: how many rows each school's page has, and the CSV of all of them."""
    counts = pd.DataFrame([{"School": name, "CDS code": cds, "Rows": len(rows)}
                           for name, cds, rows in school_tables(book)], columns=["School", "CDS code", "Rows"])
    return [_html(report.html_table(counts).data + outputs.csv_link(book.stem, "groups"))]


SCHOOLS = "schools"  # the index page; the school pages are schools/<cds>.md


def _raw(table_html: str) -> str:
    """An HTML table as one raw-HTML block of MyST (no line breaks inside, so no blank line ends it)."""
    return " ".join(table_html.split("\n"))


def school_page(name: str, cds: str, rows: pd.DataFrame, year: int) -> str:
    """A school's page (MyST): its rows by test, grade and student group (escaped) and their CSV,
    `<cds>.groups.csv` beside the page."""
    return (f"# {md_text(name)} ({cds})\n\n"
            f"Results of spring {year} computed from the Student Score Data File: every test, grade and student "
            "group, with the same suppression as the public reports.\n\n"
            f"{_raw(report.html_table(rows).data)}\n\n{outputs.csv_link(cds, 'groups')}\n\n"
            f"{report.footnote(year)}\n")


def schools_index(book: Book) -> str:
    """The index of the school pages (MyST), linking each."""
    lines = [f"| [{md_text(name)}]({SCHOOLS}/{cds}.md) | {cds} | {len(rows)} |"
             for name, cds, rows in school_tables(book)]
    return ("# Results by school, grade and student group\n\n"
            f"One page for {md_text(book.name)} as a whole and one for each of its schools: every test, grade and "
            "student group, computed from the student records with the same suppression as the public reports. "
            "Each page has its table's CSV.\n\n| School | CDS code | Rows |\n|---|---|---|\n"
            + "\n".join(lines) + "\n")


def school_pages(book: Book) -> dict[str, tuple[str, pd.DataFrame]]:
    """Page file (relative to the book) → (MyST text, the CSV's table) of every school page."""
    return {f"{SCHOOLS}/{cds}.md": (school_page(name, cds, rows, book.year), rows)
            for name, cds, rows in school_tables(book)}


CUSTOM = "custom"  # the custom aggregates' page and its CSV stem


def custom_page(frames: dict[str, pd.DataFrame], year: int) -> tuple[str, dict[str, pd.DataFrame]]:
    """The custom aggregates' page (MyST) and its tables by CSV name (`custom.<name>.csv`)."""
    head = ("# Custom aggregates\n\nThe LEA's own groupings of schools, grades, tests and students (`--custom "
            "SPEC.yml`; see params/custom/), counted and suppressed as every other table.\n\n")
    if not frames:
        return head + "No custom aggregate was asked for (`caaspp-book lea … --custom SPEC.yml`).\n", {}
    parts, tables_ = [], {}
    for name in sorted(frames):
        frame = frames[name]
        title = str(frame["entity_name"].iloc[0]) if len(frame) else name
        tables_[name] = custom_table(frame)
        body = (f"{_raw(report.html_table(tables_[name]).data)}\n\n{outputs.csv_link(CUSTOM, name)}"
                if len(frame) else "No student records match this aggregate.")  # write_csvs writes no CSV
        parts.append(f"## {md_text(title)}\n\n{body}\n")
    return head + "\n".join(parts) + f"\n{report.footnote(year)}\n", tables_


def measures(book: Book) -> list:
    m = book.data["measures"]
    if m.empty:
        return [_md("The Student Score Data File has no Lexile or Quantile measures.")]
    return [outputs.chart(lea_charts.measures(m), lea_charts.measures_alt(m),
                          f"Lexile (ELA) and Quantile (mathematics) measures by grade, {book.name}, spring {book.year}.",
                          measures_table(book)),
            outputs.table(measures_table(book), book.stem, "measures")]


def comparison(book: Book) -> list:
    if not book.has_published:
        return [_md(f"Public results are not available: no research file of {book.year} was given "
                    f"(`caaspp-book lea FILE --cds {book.cds} RESEARCH ENTITIES`), so the computed results "
                    "cannot be set beside CDE's published ones.")]
    c = book.data["comparison"]
    counts = c["status"].value_counts()
    summary = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in ("same", "differs", "suppressed"))
    return [_md(f"{len(c)} rows are in both ({summary})."),
            outputs.table(comparison_table(book), book.stem, "comparison"),
            _md(report.footnote(book.year) + " The public results are shown as CDE published them (its `*` kept)."),
            _md("**The research file's own check** (its All Grades rows recomputed from its grade rows):"),
            outputs.table(reconciliation_table(book), book.stem, "reconciliation")]


def distance(book: Book) -> list:
    """Distance from Standard: from the students, and the research-file way (computed and published means)."""
    from helpers.stats import dfs

    research = ("the research file's value (published grade means)" if book.has_published
                else "no research file of this year was given, so there is no published value beside it")
    return [_md(f"{dfs.LABEL} Here **DFS (students)** is the mean over the LEA's students with scores of (scale "
                f"score − their grade's Standard Met minimum); **DFS (grade means)** is the research-file way (grade "
                f"means weighted by students with scores) on the computed grade means; beside them, {research}. "
                "The difference is students minus research file."),
            outputs.table(dfs_table(book), book.stem, "dfs"), _md(report.footnote(book.year))]


def data_quality(book: Book) -> list:
    src = book.data["inputs"]
    own = src[src["kind"] == "students"]
    read, kept = int(own["rows_read"].sum()), int(own["kept"].fillna(0).sum())
    counts = book.data["issue_counts"]
    warned = int(counts.loc[counts["severity"] == "warning", "records"].sum()) if len(counts) else 0
    other = int(book.data["issues"]["reason"].str.startswith(lea_tables.OTHER_LEA).sum()) if len(counts) else 0
    items = [_md(f"{read:,} records read, {kept:,} kept, {read - kept:,} excluded: {read - kept - other:,} bad "
                 f"records and {other:,} records of other LEAs; {warned:,} warnings on kept records. Records are "
                 "identified by file and line only (the SSID is dropped when the file is read).")]
    if counts.empty:
        return items + [_md("No bad records and no warnings.")]
    return items + [outputs.table(issue_counts_table(book), book.stem, "issue_counts"),
                    _md(f"The first {ISSUES_SHOWN} of each severity:"),
                    outputs.table(issues_table(book), book.stem, "issues")]


