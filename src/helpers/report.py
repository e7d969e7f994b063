"""The tables of one LEA's page, with suppression applied, as display text and CSV."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from . import params
from .store import LeaSlice

LEVEL_COLS = ("pct_level_4", "pct_level_3", "pct_met_and_above", "pct_level_2", "pct_level_1")
COUNT_COLS = ("enrolled", "tested", "with_scores")
SUPPRESSED = "*"
NO_DATA = "–"

LABELS = {
    "test": "Test", "entity": "Entity", "grade": "Grade", "school": "School", "cds": "CDS code",
    "type": "Type", "enrolled": "Enrolled", "tested": "Tested", "with_scores": "With scores",
    "mean_scale_score": "Mean scale score", "pct_level_4": "% Exceeded",
    "pct_level_3": "% Met", "pct_met_and_above": "% Met and Above",
    "pct_level_2": "% Nearly Met", "pct_level_1": "% Not Met",
}


# ---------------------------------------------------------------- suppression as published


def publish(rows: pd.DataFrame, result_cols: tuple[str, ...]) -> pd.DataFrame:
    """Counts and results as display text; every cell the year's rule hides is '*'.

    The research file's own '*' is kept; on top, counts below `min_count` (zero is shown) and results
    for fewer than `min_results` students with scores are hidden, so nothing below the threshold
    is ever published even where a file showed it.
    """
    out = pd.DataFrame(index=rows.index)
    rule = {y: params.suppression_rule(int(y)) for y in rows["year"].unique()}
    min_count = rows["year"].map(lambda y: rule[y].min_count)
    min_results = rows["year"].map(lambda y: rule[y].min_results)
    for col in COUNT_COLS:
        n = rows[col]
        hide = (n.isna() & rows["counts_suppressed"]) | ((n > 0) & (n < min_count)).fillna(False)
        out[col] = _text(n, hide, "{:.0f}")
    n = rows["with_scores"]
    few = ((n > 0) & (n < min_results)).fillna(False) | (n.isna() & rows["counts_suppressed"])
    starred_fields = rows["suppressed_fields"].fillna("").str.split("|")
    for col in result_cols:
        v = rows[col]
        starred = v.isna() & starred_fields.map(lambda names: col in names)
        out[col] = _text(v, starred | (few & v.notna()), "{:.1f}" if col == "mean_scale_score" else "{:.2f}")
    return out


def _text(values: pd.Series, hide: pd.Series, fmt: str) -> pd.Series:
    text = values.map(lambda v: NO_DATA if pd.isna(v) else fmt.format(v)).astype(object)
    text[hide.to_numpy(dtype=bool)] = SUPPRESSED
    return text


def footnote(year: int) -> str:
    rule = params.suppression_rule(year)
    return (f"`*` suppressed to protect student privacy: counts below {rule.min_count} and results for "
            f"fewer than {rule.min_results} students with scores are not shown (CDE rule for {year}). "
            f"`{NO_DATA}` no students tested or no data.")


# ---------------------------------------------------------------- the page's tables


def _base(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=rows.index)
    out["test"] = rows["test_id"].map(lambda t: params.test_info(t).label)
    return out


def summary(piece: LeaSlice) -> pd.DataFrame:
    """All Grades (grade 13) per test: the LEA, its county and the state."""
    rows = piece.rows[(piece.rows["grade"] == 13) & piece.rows["role"].isin(["lea", "county", "state"])]
    order = {"lea": 0, "county": 1, "state": 2}
    rows = rows.assign(_o=rows["role"].map(order)).sort_values(["test_id", "_o"])
    out = _base(rows)
    out["entity"] = rows["entity_name"]
    return pd.concat([out, publish(rows, LEVEL_COLS)], axis=1).reset_index(drop=True)


def by_grade(piece: LeaSlice) -> pd.DataFrame:
    """The LEA's results by test and grade (All Grades last)."""
    rows = piece.part("lea").sort_values(["test_id", "grade"])
    out = _base(rows)
    out["grade"] = rows["grade"].map(params.grade_label)
    return pd.concat([out, publish(rows, ("mean_scale_score",) + LEVEL_COLS)], axis=1).reset_index(drop=True)


def schools(piece: LeaSlice) -> pd.DataFrame:
    """Each school's All Grades results per test."""
    from .store import TYPE_LABELS

    rows = piece.part("school")
    rows = rows[rows["grade"] == 13].sort_values(["entity_name", "cds", "test_id"])
    out = pd.DataFrame(index=rows.index)
    out["school"] = rows["entity_name"]
    out["cds"] = rows["cds"]
    out["type"] = rows["type_id"].map(TYPE_LABELS)
    out = pd.concat([out, _base(rows)], axis=1)
    return pd.concat([out, publish(rows, ("pct_met_and_above",))], axis=1).reset_index(drop=True)


def tables(piece: LeaSlice) -> dict[str, pd.DataFrame]:
    return {"summary": summary(piece), "by_grade": by_grade(piece), "schools": schools(piece)}


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The page's version of a table: thousands separators in counts, human column names."""
    shown = table.copy()
    for col in COUNT_COLS:
        if col in shown:
            shown[col] = shown[col].map(lambda v: f"{int(v):,}" if v.isdigit() else v)
    return shown.rename(columns=LABELS)


def html_table(table: pd.DataFrame):
    """The page's table as HTML (escaped text, no index column)."""
    from IPython.display import HTML

    return HTML(display(table).to_html(index=False, border=0, classes="caaspp-table", escape=True))


def write_csvs(tables_: dict[str, pd.DataFrame], out_dir: Path | str, stem: str) -> list[Path]:
    """Each table as `<stem>.<name>.csv` (UTF-8, '*' where suppressed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables_.items():
        path = out_dir / f"{stem}.{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def md_text(text: str) -> str:
    """Entity names as literal text in Markdown (no HTML, no table breaks)."""
    return html.escape(str(text)).replace("|", "&#124;").replace("*", "&#42;").replace("_", "&#95;")


def header_md(piece: LeaSlice, data_sha256: str) -> str:
    return (f"| | |\n|---|---|\n| LEA | {md_text(piece.name)} |\n| CDS code | {piece.cds} |\n"
            f"| Type | {piece.type_label} |\n| County | {md_text(piece.county_name)} |\n"
            f"| Test year | {piece.year - 1}–{str(piece.year)[2:]} (spring {piece.year}) |\n"
            f"| Data SHA-256 | `{data_sha256}` |\n")
