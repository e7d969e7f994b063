"""Matplotlib charts of the internal LEA book, each with its alt text: scale-score histograms with the cut
scores and the mean ± 2 SEM band, classification accuracy and consistency, Lexile and Quantile by grade.
Only unsuppressed numbers are drawn (the tables from helpers.stats.lea_tables are suppressed already)."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from helpers.core import cuts as cutting
from helpers.core import params
from helpers.report.charts import LEVEL_COLOURS

COLUMNS = 4  # small multiples per row
BAND_COLOUR, MEAN_COLOUR, CUT_COLOUR = "#999999", "#000000", "#333333"
PER = 10  # histogram heights: students per 10 scale-score points


def _grid(n: int, height: float = 2.4) -> tuple[Figure, list]:
    rows = max(1, math.ceil(n / COLUMNS))
    fig = Figure(figsize=(3.0 * min(max(n, 1), COLUMNS), height * rows + 0.6), dpi=96)
    axes = fig.subplots(rows, min(max(n, 1), COLUMNS), squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:max(n, 1)]


def _cuts(test_id: int, year: int, grade: int) -> cutting.GradeCuts:
    return cutting.find(cutting.load_all(), test_id, year).for_grade(grade)


def histogram(bars: pd.DataFrame, summary: pd.DataFrame, test_id: int) -> Figure:
    """One panel per grade: students per score bin (coloured by level), the cut scores as dashed lines
    and the mean with its ± 2 SEM band shaded; a grade without published statistics is left blank."""
    part = bars[(bars["test_id"] == test_id) & (bars["student_group_id"] == 1)]
    stats = summary[(summary["test_id"] == test_id) & (summary["student_group_id"] == 1)].set_index("grade")
    grades = sorted(stats.index.unique())
    fig, axes = _grid(len(grades))
    for ax, grade in zip(axes, grades):
        rows = part[part["grade"] == grade]
        year = int(stats.loc[grade, "year"])
        for r in rows[~rows["suppressed"]].itertuples():  # height: students per PER points (bins differ in width)
            width = r.high + 1 - r.low
            ax.bar(r.low, int(r.count) * PER / width, width=width, align="edge", color=LEVEL_COLOURS[int(r.level)],
                   edgecolor="white", linewidth=0.5)
        g = _cuts(test_id, year, grade)
        for cut in g.cuts:
            ax.axvline(cut, color=CUT_COLOUR, linestyle="--", linewidth=0.8)
        if not bool(stats.loc[grade, "suppressed"]):
            ax.axvspan(stats.loc[grade, "band_low"], stats.loc[grade, "band_high"], color=BAND_COLOUR, alpha=0.5)
            ax.axvline(stats.loc[grade, "mean"], color=MEAN_COLOUR, linewidth=1.0)
        ax.set_xlim(g.loss, g.hoss)
        ax.set_title(params.grade_label(grade), fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{params.test_label(test_id)}: students with scores per {PER} scale-score points", fontsize=10)
    fig.tight_layout()
    return fig


def histogram_alt(bars: pd.DataFrame, summary: pd.DataFrame, test_id: int) -> str:
    stats = summary[(summary["test_id"] == test_id) & (summary["student_group_id"] == 1)]
    parts = [f"{params.grade_label(int(r.grade))}: " + ("statistics suppressed" if r.suppressed else
                                                         f"mean {r.mean:.1f}, band {r.band_low:.1f}–{r.band_high:.1f}")
             for r in stats.sort_values("grade").itertuples()]
    hidden = int(bars[(bars["test_id"] == test_id) & bars["suppressed"]].shape[0])
    return (f"Histograms of {params.test_label(test_id)} scale scores (students per {PER} points), one panel "
            "per grade, bars coloured by "
            f"performance level, dashed lines at the cut scores, a shaded band of the mean ± 2 standard errors. "
            + "; ".join(parts) + f". {hidden} bins are not drawn (fewer than the reporting threshold).")


def accuracy(acc: pd.DataFrame) -> Figure:
    """Classification accuracy and consistency by grade, one panel per test (suppressed grades absent)."""
    shown = acc[~acc["suppressed"]]
    tests = sorted(acc["test_id"].unique())
    fig, axes = _grid(len(tests), 2.8)
    for ax, test_id in zip(axes, tests):
        rows = shown[shown["test_id"] == test_id].sort_values("grade")
        labels = [params.grade_tick(g) for g in rows["grade"]]
        x = range(len(rows))
        ax.bar([i - 0.2 for i in x], rows["accuracy"], width=0.4, color=LEVEL_COLOURS[4], label="Accuracy")
        ax.bar([i + 0.2 for i in x], rows["consistency"], width=0.4, color=LEVEL_COLOURS[2], label="Consistency")
        ax.set_xticks(list(x), labels, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(params.test_label(test_id), fontsize=9)
        ax.tick_params(labelsize=7)
    if tests:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def accuracy_alt(acc: pd.DataFrame) -> str:
    shown = acc[~acc["suppressed"]]
    parts = [f"{params.test_label(t)}: accuracy {g['accuracy'].min():.3f}–{g['accuracy'].max():.3f}, "
             f"consistency {g['consistency'].min():.3f}–{g['consistency'].max():.3f}"
             for t, g in shown.groupby("test_id", sort=True)]
    return ("Bar chart of classification accuracy and consistency (0 to 1) by grade, one panel per test. "
            + ("; ".join(parts) or "no grade has enough students") + ".")


def measures(meas: pd.DataFrame) -> Figure:
    """Median Lexile / Quantile measure by grade with the middle half (25th–75th percentile) as a bar."""
    shown = meas[~meas["suppressed"]]
    names = sorted(meas["measure"].unique())
    fig, axes = _grid(len(names), 2.8)
    for ax, name in zip(axes, names):
        rows = shown[shown["measure"] == name].sort_values("grade")
        ax.errorbar(rows["grade"], rows["median"], yerr=[rows["median"] - rows["p25"], rows["p75"] - rows["median"]],
                    fmt="o", color=LEVEL_COLOURS[4], ecolor=LEVEL_COLOURS[3], capsize=3)
        ax.set_xticks(rows["grade"].tolist())
        ax.set_xlabel("Grade", fontsize=8)
        ax.set_ylabel(f"{name} measure", fontsize=8)
        ax.set_title(f"{name}: median and middle half", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def measures_alt(meas: pd.DataFrame) -> str:
    shown = meas[~meas["suppressed"]]
    parts = [f"{name}: " + ", ".join(f"grade {int(r.grade)} {r.median:.0f}" for r in g.sort_values("grade").itertuples())
             for name, g in shown.groupby("measure", sort=True)]
    return ("Dot chart of the median measure by grade with a bar from the 25th to the 75th percentile. "
            + ("; ".join(parts) or "no grade has enough students") + ".")
