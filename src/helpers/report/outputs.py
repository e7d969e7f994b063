"""HTML outputs of the LEA notebook: tables with a numbered caption and their CSV download link, charts with
alt text, a numbered caption and a collapsible table of the numbers they draw (with its own CSV link)."""

from __future__ import annotations

import base64
import html
import re
import struct

import pandas as pd
from matplotlib.figure import Figure

from helpers.core import params
from helpers.core import text as literal
from helpers.ingest.store import LeaSlice
from helpers.report import charts
from helpers.report import page_tables as report


def csv_name(stem: str, table: str) -> str:
    """The CSV written beside the notebook (report.write_csvs) and copied beside the built page."""
    return f"{stem}.{table}.csv"


def csv_link(stem: str, table: str) -> str:
    href = html.escape(csv_name(stem, table), quote=True)
    return f'<p class="caaspp-csv"><a href="{href}" download>Download this table (CSV)</a></p>'


class Captions:
    """Numbers a page's tables and figures in display order (Table 1..n, Figure 1..m): create one per
    notebook and call `table` or `figure` as each is displayed."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self, text: str) -> str:
        self.tables += 1
        return f"Table {self.tables}. {text}"

    def figure(self, text: str) -> str:
        self.figures += 1
        return f"Figure {self.figures}. {text}"


def _text(s: object) -> str:
    """Literal HTML text on one line (helpers.core.text.html)."""
    return literal.html(s)


def captioned(table_html: str, caption: str | None) -> str:
    """`table_html` with `caption` (escaped) as the table's `<caption>`."""
    if caption is None:
        return table_html
    opening = re.search(r"<table\b[^>]*>", table_html)
    if opening is None:
        raise ValueError("no <table> to caption")
    return f"{table_html[:opening.end()]}<caption>{_text(caption)}</caption>{table_html[opening.end():]}"


def table(frame: pd.DataFrame, stem: str, name: str, caption: str | None = None):
    """The page's table (escaped text, with its caption) followed by the link to its CSV; an empty table
    is a sentence instead (report.write_csvs writes no CSV for it), such as a charter's schools."""
    from IPython.display import HTML

    if frame.empty:
        empty = " ".join(f"{caption or ''} None for this LEA.".split())
        return HTML(f'<p class="caaspp-empty">{_text(empty)}</p>')
    return HTML(captioned(report.html_table(frame).data, caption) + csv_link(stem, name))


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def figure_html(png: bytes, alt: str, caption: str, data: pd.DataFrame, stem: str | None = None,
                name: str | None = None) -> str:
    """The chart, its caption and the table of its numbers; with `stem` and `name`, the link to that table's
    CSV (`csv_name(stem, name)`, written by `report.write_csvs(chart_tables(...), ...)`) under it."""
    width, height = png_size(png)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    numbers = report.table_html(data)
    link = csv_link(stem, name) if stem is not None and name is not None else ""
    return (f'<figure class="caaspp-figure"><img src="{src}" alt="{_text(alt)}" width="{width}" height="{height}" '
            f'style="max-width: 100%; height: auto;"><figcaption>{_text(caption)}</figcaption></figure>'
            f'<details class="caaspp-data"><summary>Data for this chart</summary>{numbers}{link}</details>')


def chart(fig: Figure, alt: str, caption: str, data: pd.DataFrame, stem: str | None = None,
          name: str | None = None):
    """The chart with its caption and data; a chart with no data is a sentence instead (no image, and no link:
    report.write_csvs writes no CSV for an empty table)."""
    from IPython.display import HTML

    if data.empty:
        text = html.escape(" ".join(f"{caption} Nothing to draw for this LEA: no published results "
                                    "(every value suppressed or no students with scores).".split()))
        return HTML(f'<p class="caaspp-empty">{text}</p>')
    return HTML(figure_html(charts.png(fig), alt, caption, data, stem, name))


# ---------------------------------------------------------------- the page's two charts


def levels_data(piece: LeaSlice) -> pd.DataFrame:
    rows = charts.level_shares(piece).sort_values(["test_id", "grade"])
    out = pd.DataFrame({"Test": rows["test_id"].map(params.test_label),
                        "Grade": rows["grade"].map(params.grade_label)})
    for k in (4, 3, 2, 1):
        out[report.LABELS[f"pct_level_{k}"]] = rows[f"pct_level_{k}"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out.reset_index(drop=True)


def levels_alt(piece: LeaSlice) -> str:
    rows = charts.level_shares(piece)
    parts = []
    for test_id, part in rows.groupby("test_id", sort=True):
        met = part.set_index("grade")["pct_met_and_above"].astype(float)
        parts.append(f"{params.test_label(test_id)}: grades {', '.join(str(int(g)) for g in met.index)}, "
                     f"% Met and Above from {met.min():.2f} (grade {int(met.idxmin())}) to {met.max():.2f} "
                     f"(grade {int(met.idxmax())})")
    drawn = "; ".join(parts) if parts else "no grade has published results"
    return (f"Stacked bar chart of the percentage of students with scores at each performance level by grade, "
            f"{piece.name}, spring {piece.year}, one panel per test. {drawn}. Suppressed grades are not drawn.")


def trend_data(piece: LeaSlice) -> pd.DataFrame:
    t = piece.trend
    names = {piece.cds: piece.name, piece.cds[:2] + "0" * 12: piece.county_name, "0" * 14: "State"}
    hidden = t["suppressed"].fillna(False).astype(bool)
    shown = pd.Series(False, index=t.index)
    out = pd.DataFrame({
        "Test": t["test_id"].map(params.test_label), "Year": t["year"].astype(int),
        "Entity": t["cds"].map(names), "% Met and Above": report.cells(t["pct_met_and_above"], hidden, "{:.2f}"),
        "Participation (%)": report.cells(t["participation"], shown, "{:.2f}"),
        "Grades with scores": t["grades_with_scores"].fillna(""),
        "Change not like for like": t["change_flag"].fillna(""), "Note": t["note"].fillna(""), "cds": t["cds"],
    }).sort_values(["Test", "Entity", "Year"], kind="stable").reset_index(drop=True)
    return report.keyed(out, piece, cds=list(out.pop("cds")))


def trend_alt(piece: LeaSlice) -> str:
    t = piece.trend
    if t.empty:
        return f"Line chart of All Grades % Met and Above by year for {piece.name}: no years in the data."
    own = t[(t["cds"] == piece.cds) & ~t["suppressed"].fillna(False).astype(bool) & t["pct_met_and_above"].notna()]
    rows = list(zip(own["test_id"].tolist(), own["year"].tolist(), own["pct_met_and_above"].tolist(),
                    own["change_flag"].fillna("").tolist()))  # lists: a third of the time of groupby and itertuples
    by_test: dict[int, list[str]] = {}
    for test_id, year, pct, _ in rows:
        by_test.setdefault(test_id, []).append(f"{int(year)} {pct:.2f}")
    parts = [f"{params.test_label(k)}: " + ", ".join(values) for k, values in sorted(by_test.items())]
    unlike = "; ".join(f"{params.test_label(test_id)} {int(year) - 1} to {int(year)}: {flag}"
                       for test_id, year, _, flag in rows if flag != "")
    years = sorted(int(y) for y in t["year"].unique())
    return (f"Line chart of All Grades % Met and Above by year, {years[0]}–{years[-1]}, for {piece.name} "
            f"beside {piece.county_name} and the state, one panel per test; years without results are gaps "
            f"(2019–20: no testing) and 2020–21 is shaded (low participation, shorter test); markers are hollow "
            f"where participation is under 95% and no line joins two years whose change is not like for like. "
            f"{piece.name}: " + ("; ".join(parts) or "no published values") + "."
            + (f" Not like for like: {unlike}." if unlike else ""))


# ---------------------------------------------------------------- the charts' tables as CSV

_KEYS = {label: key for key, label in report.LABELS.items()}


def chart_tables(piece: LeaSlice) -> dict[str, pd.DataFrame]:
    """The numbers each chart draws, as `report.write_csvs` writes them (`<stem>.levels_chart.csv`,
    `<stem>.trend_chart.csv`): the values shown under the chart ('*' where suppressed), with the column
    names of the page's other CSVs (report.LABELS keys; documented in columns.COLUMNS["lea_page"]), with
    their join keys (report.keyed: a trend row's own CDS code)."""
    renamed = _KEYS | {"Participation (%)": "participation", "Grades with scores": "grades_with_scores",
                       "Change not like for like": "change_flag"}
    return {name: report.keyed(frame.rename(columns=renamed), piece) for name, frame in
            (("levels_chart", levels_data(piece)), ("trend_chart", trend_data(piece)))}
