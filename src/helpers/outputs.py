"""HTML outputs of the LEA notebook: tables with their CSV download link, charts with alt text, a caption
and a collapsible table of the numbers they draw."""

from __future__ import annotations

import base64
import html
import struct

import pandas as pd
from matplotlib.figure import Figure

from . import charts, params, report
from .store import LeaSlice


def csv_name(stem: str, table: str) -> str:
    """The CSV written beside the notebook (report.write_csvs) and copied beside the built page."""
    return f"{stem}.{table}.csv"


def csv_link(stem: str, table: str) -> str:
    href = html.escape(csv_name(stem, table), quote=True)
    return f'<p class="caaspp-csv"><a href="{href}" download>Download this table (CSV)</a></p>'


def table(frame: pd.DataFrame, stem: str, name: str):
    """The page's table (escaped text) followed by the link to its CSV."""
    from IPython.display import HTML

    return HTML(report.html_table(frame).data + csv_link(stem, name))


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", png[16:24])


def figure_html(png: bytes, alt: str, caption: str, data: pd.DataFrame) -> str:
    width, height = png_size(png)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    esc = lambda s: html.escape(" ".join(str(s).split()), quote=True)  # noqa: E731
    numbers = data.to_html(index=False, border=0, classes="caaspp-table", escape=True)
    return (f'<figure class="caaspp-figure"><img src="{src}" alt="{esc(alt)}" width="{width}" height="{height}" '
            f'style="max-width: 100%; height: auto;"><figcaption>{esc(caption)}</figcaption></figure>'
            f'<details class="caaspp-data"><summary>Data for this chart</summary>{numbers}</details>')


def chart(fig: Figure, alt: str, caption: str, data: pd.DataFrame):
    from IPython.display import HTML

    return HTML(figure_html(charts.png(fig), alt, caption, data))


# ---------------------------------------------------------------- the page's two charts


def levels_data(piece: LeaSlice) -> pd.DataFrame:
    rows = charts.level_shares(piece).sort_values(["test_id", "grade"])
    out = pd.DataFrame({"Test": rows["test_id"].map(lambda t: params.test_info(int(t)).label),
                        "Grade": rows["grade"].map(params.grade_label)})
    for k in (4, 3, 2, 1):
        out[report.LABELS[f"pct_level_{k}"]] = rows[f"pct_level_{k}"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out.reset_index(drop=True)


def levels_alt(piece: LeaSlice) -> str:
    rows = charts.level_shares(piece)
    parts = []
    for test_id, part in rows.groupby("test_id", sort=True):
        met = part.set_index("grade")["pct_met_and_above"].astype(float)
        parts.append(f"{params.test_info(int(test_id)).label}: grades {', '.join(str(int(g)) for g in met.index)}, "
                     f"% Met and Above from {met.min():.2f} (grade {int(met.idxmin())}) to {met.max():.2f} "
                     f"(grade {int(met.idxmax())})")
    drawn = "; ".join(parts) if parts else "no grade has published results"
    return (f"Stacked bar chart of the percentage of students with scores at each performance level by grade, "
            f"{piece.name}, spring {piece.year}, one panel per test. {drawn}. Suppressed grades are not drawn.")


def trend_data(piece: LeaSlice) -> pd.DataFrame:
    t = piece.trend
    names = {piece.cds: piece.name, piece.cds[:2] + "0" * 12: piece.county_name, "0" * 14: "State"}
    hidden = t["suppressed"].fillna(False).astype(bool)
    return pd.DataFrame({
        "Test": t["test_id"].map(lambda x: params.test_info(int(x)).label), "Year": t["year"].astype(int),
        "Entity": t["cds"].map(names), "% Met and Above": report.cells(t["pct_met_and_above"], hidden, "{:.2f}"),
        "Note": t["note"].fillna(""),
    }).sort_values(["Test", "Entity", "Year"], kind="stable").reset_index(drop=True)


def trend_alt(piece: LeaSlice) -> str:
    t = piece.trend
    if t.empty:
        return f"Line chart of All Grades % Met and Above by year for {piece.name}: no years in the data."
    own = t[(t["cds"] == piece.cds) & ~t["suppressed"].fillna(False).astype(bool) & t["pct_met_and_above"].notna()]
    parts = [f"{params.test_info(int(k)).label}: " + ", ".join(f"{int(r.year)} {r.pct_met_and_above:.2f}"
                                                               for r in part.itertuples())
             for k, part in own.groupby("test_id", sort=True)]
    years = sorted(int(y) for y in t["year"].unique())
    return (f"Line chart of All Grades % Met and Above by year, {years[0]}–{years[-1]}, for {piece.name} "
            f"beside {piece.county_name} and the state, one panel per test; years without results are gaps. "
            f"{piece.name}: " + ("; ".join(parts) or "no published values") + ".")
