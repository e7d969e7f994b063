"""Charts of the report's chapters (scale ranges, state and county results) and the numbers they draw."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from helpers.core import params
from helpers.core.cuts import CutTable
from helpers.report.charts import LEVEL_COLOURS, chart_text, mark_pandemic_years

# Tests are told apart by line style and marker as well as colour (lines, never the bars levels are drawn as).
TEST_STYLE = {1: ("#000000", "-", "o"), 2: ("#009E73", "--", "s"), 17: ("#CC79A7", ":", "^")}
OTHER_TEST = ("#777777", "-.", "D")


def scale_range_data(table: CutTable) -> pd.DataFrame:
    """Each grade's score range of each level: from the level's cut (LOSS for the lowest) to the next
    level's cut minus one (HOSS for the highest)."""
    rows = []
    for grade, g in table.grades.items():
        starts = (g.loss, *g.cuts)
        ends = tuple(c - 1 for c in g.cuts) + (g.hoss,)
        for code, name, lo, hi in zip(table.level_codes, table.level_names, starts, ends):
            rows.append({"CAPA level" if table.score_kind == "raw" else "Grade": grade,
                         "Performance level": f"{code} {name}", "From": int(lo), "To": int(hi)})
    return pd.DataFrame(rows)


def scale_ranges(table: CutTable) -> Figure:
    """Horizontal bars, one per grade, from LOSS to HOSS, each level in its colour."""
    grades = list(table.grades)
    fig = Figure(figsize=(7.5, 0.45 * len(grades) + 1.3), dpi=96)
    ax = fig.subplots()
    for row, grade in enumerate(grades):
        g = table.grades[grade]
        edges = (g.loss, *g.cuts, g.hoss + 1)
        for k, (code, name) in enumerate(zip(table.level_codes, table.level_names)):
            ax.barh(row, edges[k + 1] - edges[k], left=edges[k], color=LEVEL_COLOURS[code], height=0.7,
                    label=chart_text(name) if row == 0 else None)
    unit = "Level" if table.score_kind == "raw" else "Grade"  # CAPA: test levels I–V
    ax.set_yticks(range(len(grades)), [f"{unit} {g}" for g in grades], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{'Raw' if table.score_kind == 'raw' else 'Scale'} score", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(chart_text(f"{table_label(table)}, {table.years_text}"), fontsize=10)  # a cut file's text
    fig.legend(loc="lower center", ncol=len(table.level_codes), frameon=False, fontsize=8 if len(grades) > 3 else 7)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig


SUBJECTS = {"ela": "ELA", "math": "Mathematics", "science": "Science"}


def table_label(table: CutTable) -> str:
    """The test a cut table is for: its label in params/tests.yml, or (CAPA) family, subject and cut set."""
    if isinstance(table.test_id, int):
        return params.test_info(table.test_id).label
    return f"{table.family.upper()} {SUBJECTS.get(table.subject, table.subject)} ({table.cut_set} cut set)"


def _test_label(test_id: int) -> str:
    return params.test_info(int(test_id)).label


def entity_trend(trend: pd.DataFrame) -> Figure:
    """One entity's All Grades % met and above by year, a line per test; no line across a missing or
    suppressed year."""
    years = sorted(int(y) for y in trend["year"].unique())
    fig = Figure(figsize=(6.5, 3.2), dpi=96)
    ax = fig.subplots()
    for test_id, rows in trend.groupby("test_id", sort=True):
        rows = rows.set_index("year").reindex(years)
        value = rows["pct_met_and_above"].astype(float).where(~rows["suppressed"].fillna(False).astype(bool))
        colour, style, marker = TEST_STYLE.get(int(test_id), OTHER_TEST)
        ax.plot(years, value, color=colour, linestyle=style, marker=marker, label=_test_label(test_id))
    ax.set_ylim(0, 100)
    ax.set_xticks(years)
    mark_pandemic_years(ax, years)
    ax.tick_params(labelsize=8)
    ax.set_ylabel("% Met and Above (All Grades)", fontsize=8)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def entity_levels(rows: pd.DataFrame) -> Figure:
    """All Grades % at each level, one stacked bar per test (rows: published, unsuppressed)."""
    rows = rows.sort_values("test_id", ascending=False)
    fig = Figure(figsize=(6.5, 0.5 * max(len(rows), 1) + 1.2), dpi=96)
    ax = fig.subplots()
    labels = [_test_label(t) for t in rows["test_id"]]
    left = pd.Series(0.0, index=rows.index)
    drawn: set[int] = set()
    for level in (1, 2, 3, 4):
        share = rows[f"pct_level_{level}"].astype(float).fillna(0.0)
        names = {params.test_info(int(t)).levels[level - 1] for t in rows["test_id"]
                 if level <= len(params.test_info(int(t)).levels)}
        ax.barh(labels, share, left=left, color=LEVEL_COLOURS[level], height=0.6,
                label=" / ".join(sorted(names)) if names and level not in drawn else None)
        drawn.add(level)
        left += share
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of students with scores", fontsize=8)
    ax.tick_params(labelsize=8)
    fig.legend(loc="lower center", ncol=4, frameon=False, fontsize=7)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return fig
