"""Matplotlib charts for LEA pages, one colour-blind-safe colour per performance level."""

from __future__ import annotations

import io
import threading

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from PIL import Image

from helpers.core import params
from helpers.core.text import plain
from helpers.ingest.store import LeaSlice
from helpers.report.glyph_cache import CachedTextRenderer
from helpers.stats.tables import PARTICIPATION_MIN

# Okabe–Ito palette: level 1 (lowest) … level 4 (highest), fixed across the book.
# Okabe–Ito colours, one per level code across the book; level 5 exists only on the five-level CAPA scale.
LEVEL_COLOURS = {1: "#D55E00", 2: "#E69F00", 3: "#56B4E9", 4: "#0072B2", 5: "#000000"}


def level_shares(piece: LeaSlice) -> pd.DataFrame:
    """The LEA's grade rows whose level percentages are published (nothing suppressed is drawn)."""
    rows = piece.part("lea")
    rows = rows[rows["grade"] != 13]
    hidden = rows["suppressed"].fillna(False).astype(bool)  # what page_tables.publish shows as `*`
    return rows[~hidden & rows["pct_level_1"].notna()]


def levels_by_grade(piece: LeaSlice, reuse: bool = False) -> Figure:
    """Stacked bars of % at each level by grade, one panel per test. With `reuse`, this thread's figure of the
    same shape is drawn again (see `_figure`): valid until the next such call, so encode it (`png`) first."""
    rows = level_shares(piece)
    tests = sorted(piece.part("lea")["test_id"].unique())
    panels = [rows[rows["test_id"] == test_id] for test_id in tests]
    fig = _figure("levels", len(tests), 3.6, 0.35, reuse and all(len(part) for part in panels))
    axes = fig.axes
    for ax, part, test_id in zip(axes, panels, tests):
        _panel(ax, part, test_id)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles[::-1], labels[::-1], loc="lower center", ncol=4, frameon=False, fontsize=8)
    return fig


PANEL_IN = 4.2  # a figure's width per panel, in inches
# A figure is at least two panels wide, its one panel then wider: the legend under it (four levels, or an LEA's and
# its county's names of up to LABEL_CHARS beside "State") runs past the edges of a one-panel figure.
MIN_PANELS_WIDE = 2
_FIGURES = threading.local()  # this thread's reusable figures by (chart, panels), with the rc parameters they had


def _figure(chart: str, panels: int, height: float, legend_in: float, reuse: bool) -> Figure:
    """A figure of `panels` axes side by side (at least one) with the page's margins. With `reuse`, this
    thread's figure of that chart and shape, cleared of what its last LEA drew: making a figure's axes and
    their ticks is a third of drawing a chart, and a figure drawn again keeps them. Only for panels that all
    draw data with their own ticks (an empty panel keeps Matplotlib's default axis, which a cleared one lost),
    and while Matplotlib's rc parameters are the ones the figure was made with; the pixels are a new figure's
    (tests/test_report.py compares them)."""
    n, keep = max(panels, 1), reuse and panels > 0
    kept = _FIGURES.__dict__.setdefault("by_shape", {})
    rc = repr(list(dict.values(matplotlib.rcParams))) if keep else ""  # a figure takes its style from them
    found = kept.get((chart, n)) if keep else None
    if found is not None and found[0] == rc:
        return _cleared(found[1])
    fig = Figure(figsize=(PANEL_IN * max(n, MIN_PANELS_WIDE), height), dpi=96)
    fig.subplots(1, n, squeeze=False)
    _margins(fig, n, legend_in)
    if keep:
        kept[(chart, n)] = (rc, fig)
    return fig


def _cleared(fig: Figure) -> Figure:
    """The figure without the artists a chart adds (bars, lines, spans, texts, the legend and the key), its
    data limits recomputed from nothing; axes, ticks and margins stay."""
    for ax in fig.axes:
        for container in list(ax.containers):
            container.remove()
        for artist in [*ax.patches, *ax.lines, *ax.texts, *ax.collections]:
            artist.remove()
        ax.relim()
    for artist in [*fig.legends, *fig.texts]:
        artist.remove()
    return fig


def _margins(fig: Figure, panels: int, legend_in: float = 0.35) -> None:
    """Fixed margins in inches (room for the y label, title, x labels and the legend below). Cheaper than
    `tight_layout`, which draws the whole figure once more just to measure it: half a chart's time."""
    width, height = fig.get_size_inches()
    left, right, gap, top, bottom = 0.62, 0.12, 0.72, 0.32, 0.5 + legend_in
    axes_w = (width - left - right - gap * (panels - 1)) / panels
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height,
                        bottom=bottom / height, wspace=gap / axes_w)


def _panel(ax: Axes, rows: pd.DataFrame, test_id: int) -> None:
    info = params.test_info(test_id)
    ax.set_title(info.label, fontsize=10, y=1.0)  # a fixed position: no measuring of the axes to place it
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of students with scores", fontsize=8)
    ax.tick_params(labelsize=8)
    if rows.empty:
        ax.text(0.5, 0.5, "no published results", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        return
    labels = [params.grade_tick(g) for g in rows["grade"]]
    at = np.arange(len(labels), dtype=float)  # where a categorical axis puts them, without its growing map
    bottom = np.zeros(len(labels))
    for level, name in enumerate(info.levels, start=1):
        share = rows[f"pct_level_{level}"].astype(float).fillna(0.0).to_numpy()
        _bars(ax, at, bottom, bottom + share, LEVEL_COLOURS[level], name)
        bottom = bottom + share
    ax.set_xticks(at, labels)
    ax.set_xlabel("Grade", fontsize=8)


BAR_WIDTH = 0.7


def _bars(ax: Axes, at: np.ndarray, bottom: np.ndarray, top: np.ndarray, colour: str, label: str) -> None:
    """One level's bars as one collection: the pixels of `ax.bar(at, top - bottom, bottom=bottom, width=0.7)`
    without its artist and data-limit update per bar, two fifths of making the chart (tests/test_report.py
    compares the pixels). Edges, line width and antialiasing come from the rc parameters of patches, as a bar's."""
    left, right = at - BAR_WIDTH / 2, at + BAR_WIDTH / 2
    corners = np.stack([np.column_stack(xy) for xy in ((left, bottom), (left, top), (right, top), (right, bottom))],
                       axis=1)
    ax.add_collection(PolyCollection(corners, facecolors=colour, label=label))


PALETTE = 256  # colours of a chart's PNG
# zlib level of a chart's PNG: 8 makes an LEA's two charts 12% smaller than Pillow's default 6 for about 20 ms
# (9: 14% for 55 ms). Each chart is in the site twice, as a file and inside the notebook's zip.
ZLIB_LEVEL = 8
_RENDERERS = threading.local()  # this thread's Agg renderers by (width px, height px, dpi)


class _Canvas(FigureCanvasAgg):
    """An Agg canvas drawing with this thread's renderer of the figure's size. Matplotlib caches text metrics
    per renderer (matplotlib.text._get_text_metrics_function), so a reused renderer measures each tick
    label, title and legend entry once per worker rather than once per chart; the renderer also keeps text
    layouts and glyph bitmaps (helpers.report.glyph_cache). The pixels are the same: the canvas clears the
    renderer before drawing (FigureCanvasAgg.draw), and metrics depend only on the text, the font and the dpi."""

    def get_renderer(self):
        w, h = self.get_width_height(physical=True)
        key = (w, h, self.figure.dpi)
        renderers = _RENDERERS.__dict__.setdefault("by_size", {})
        if key not in renderers:
            renderers[key] = CachedTextRenderer(w, h, self.figure.dpi)
        self.renderer, self._lastKey = renderers[key], key
        return self.renderer


def png(fig: Figure) -> bytes:
    """The chart as an 8-bit palette PNG (a chart has few colours, so it looks the same at a third of the
    size of Matplotlib's RGBA file), with no timestamp or version metadata, so the same data give the same
    file. Drawn with a reused renderer (`_Canvas`) and encoded before another figure can draw on it."""
    canvas = _Canvas(fig)
    canvas.draw()
    size = canvas.get_width_height(physical=True)
    rgb = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    rgb.quantize(PALETTE, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG", dpi=(fig.dpi, fig.dpi),
                                                                 compress_level=ZLIB_LEVEL)
    return buf.getvalue()


NO_TESTING, LOW_PARTICIPATION = 2020, 2021  # spring years: 2019–20 not tested; 2020–21 few tested, shorter test


def mark_pandemic_years(ax, years: list[int]) -> None:
    """The 2019–20 gap labelled "no testing" and 2020–21 shaded as "low participation" (Methods: trends)."""
    years = [int(y) for y in years]
    if NO_TESTING in years:
        ax.text(NO_TESTING, 50, "no testing", rotation=90, ha="center", va="center", fontsize=6, color="#555555")
    if LOW_PARTICIPATION in years:
        ax.axvspan(LOW_PARTICIPATION - 0.45, LOW_PARTICIPATION + 0.45, color="#E8E8E8", zorder=0, linewidth=0)
        ax.text(LOW_PARTICIPATION, 98, "low\nparticipation", ha="center", va="top", fontsize=6, color="#555555")


LABEL_CHARS = 60  # a longer name is cut in a legend (the data table under the chart has it whole)


def chart_text(text: str) -> str:
    """Text from a file as literal chart text: `$` escaped (Matplotlib reads `$…$` as mathtext, and fails on
    a bad one), not hidden by a leading `_` (Matplotlib's mark of an unlisted legend entry)."""
    shown = plain(text).strip()
    return (" " if shown.startswith("_") else "") + shown.replace("$", r"\$")


def legend_label(name: str) -> str:
    """A name as literal legend text (`chart_text`), at most LABEL_CHARS long."""
    shown = plain(name).strip()
    return chart_text(shown if len(shown) <= LABEL_CHARS else shown[:LABEL_CHARS - 1] + "…")


TREND_STYLE = {"lea": ("#0072B2", "-", "o"), "county": ("#009E73", "--", "s"), "state": ("#555555", ":", "^")}


TREND_KEY = ("Hollow marker: participation under 95%. No line between two years: the change is not like for "
             "like (other grades with scores, or participation under 95%).")


def trend(piece: LeaSlice, reuse: bool = False) -> Figure:
    """All Grades % met and above by year for the LEA, county and state; no line across a missing year nor
    across a change that is not like for like; hollow markers where participation is under 95%. `reuse`: as
    in `levels_by_grade`."""
    t = piece.trend
    tests = sorted(t["test_id"].unique()) if len(t) else []
    fig = _figure("trend", len(tests), 3.5, 0.65, reuse)
    axes = fig.axes
    names = {piece.cds: ("lea", legend_label(piece.name)),
             piece.cds[:2] + "0" * 12: ("county", legend_label(piece.county_name)), "0" * 14: ("state", "State")}
    years = sorted(t["year"].unique()) if len(t) else []
    series = _trend_series(t, years)
    for ax, test_id in zip(axes, tests):
        for cds, (role, label) in names.items():
            _trend_line(ax, *series.get((test_id, cds), _no_series(len(years))), years, TREND_STYLE[role], label)
        ax.set_title(params.test_label(test_id), fontsize=10, y=1.0)
        ax.set_ylim(0, 100)
        ax.set_xticks(years)
        mark_pandemic_years(ax, years)
        ax.set_xlim(min(years) - 0.5, max(years) + 0.5)  # the same years on every panel, one test's alone too
        ax.tick_params(labelsize=8)
        ax.set_ylabel("% Met and Above (All Grades)", fontsize=8)
    if tests:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.1), ncol=3, frameon=False,
                   fontsize=8)
        fig.text(0.5, 0.02, TREND_KEY, ha="center", va="bottom", fontsize=6.5, color="#333333", wrap=True)
    return fig


def _no_series(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, np.nan), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)


def _trend_series(t: pd.DataFrame, years: list) -> dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(test ID, CDS code) → per year of `years`: the % Met and Above (NaN where suppressed or missing),
    whether the change into the year is flagged (not like for like), whether participation is under 95%.
    One pass over the rows instead of a filtered, reindexed frame per panel and entity."""
    at = {year: i for i, year in enumerate(years)}
    value = t["pct_met_and_above"].astype(float).where(~t["suppressed"].fillna(False).astype(bool)).to_numpy()
    flagged = t["change_flag"].fillna("").astype(str).ne("").to_numpy()
    low = (t["participation"].astype(float) < PARTICIPATION_MIN).to_numpy()
    out: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for k, (test_id, cds, year) in enumerate(zip(t["test_id"].tolist(), t["cds"].tolist(), t["year"].tolist())):
        v, f, lo = out.setdefault((test_id, cds), _no_series(len(years)))
        if not np.isnan(v[at[year]]) or f[at[year]] or lo[at[year]]:
            raise ValueError(f"two trend rows of test {test_id}, {cds}, {year}")
        v[at[year]], f[at[year]], lo[at[year]] = value[k], flagged[k], low[k]
    return out


def _trend_line(ax: Axes, v: np.ndarray, flagged: np.ndarray, low: np.ndarray, years: list,
                style: tuple[str, str, str], label: str) -> None:
    """One entity's points (hollow where participation is under 95%) joined only where the change into a
    year is like for like."""
    colour, line, marker = style
    for i in range(1, len(years)):
        if not (pd.isna(v[i - 1]) or pd.isna(v[i]) or flagged[i]):
            ax.plot(years[i - 1:i + 1], v[i - 1:i + 1], color=colour, linestyle=line)
    ax.plot([], [], color=colour, linestyle=line, marker=marker, label=label)  # the legend's entry
    ax.plot(years, v, linestyle="none", marker=marker, color=colour)
    ax.plot([y for y, h in zip(years, low) if h], v[low], linestyle="none", marker=marker, color="white",
            markeredgecolor=colour, markersize=6)
