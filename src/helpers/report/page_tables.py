"""The tables of one LEA's page, with suppression applied, as display text and CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterable, Mapping
from itertools import compress
from pathlib import Path

import pandas as pd

from helpers.core import params
from helpers.core.text import (
    md as md_text,  # input text as literal Markdown; pages import it from here
)
from helpers.core.text import csv_frame, formula_safe, plain
from helpers.ingest.store import LeaSlice
from helpers.stats import suppress

LEVEL_COLS = ("pct_level_4", "pct_level_3", "pct_met_and_above", "pct_level_2", "pct_level_1")
COUNT_COLS = ("enrolled", "tested", "with_scores")
SUPPRESSED = "*"
NO_DATA = "–"

LABELS = {
    "test": "Test", "entity": "Entity", "grade": "Grade", "school": "School", "cds": "CDS code",
    "type": "Type", "enrolled": "Enrolled", "tested": "Tested", "with_scores": "With scores",
    "mean_scale_score": "Mean scale score", "pct_level_4": "% Exceeded",
    "pct_level_3": "% Met", "pct_met_and_above": "% Met and Above",
    "pct_level_2": "% Nearly Met", "pct_level_1": "% Not Met", "year": "Year", "lea": "LEA",
    "county": "County", "state": "State", "change_from_prior_year": "LEA change from prior year",
    "note": "Note", "subject": "Subject", "level_name": "Level", "cut_a": "Official cut",
    "pct_at_and_above_a": "% at and above (official)", "cut_b": "Alternative cut",
    "pct_at_and_above_b": "% at and above (alternative)", "diff_pct_at_and_above": "Difference",
    "status": "Cut values", "county_pct_met_and_above": "County % Met and Above",
    "state_pct_met_and_above": "State % Met and Above", "student_group": "Student group",
    "prior_grade_prior_year_pct_met_and_above": "Grade below, prior year: % Met and Above",
    "matched_grade_change": "Matched-grade change", "participation": "LEA participation (% tested of enrolled)",
    "grades_with_scores": "LEA grades with scores", "change_flag": "Change not like for like",
    "like_for_like_change": "LEA change on grades tested in both years",
    "dfs": "DFS", "county_dfs": "County DFS", "state_dfs": "State DFS",
    "dfs_left_out": "Left out of All Grades DFS", "dfs_change_from_prior_year": "LEA DFS change",
}


# ---------------------------------------------------------------- suppression as published


def publish(rows: pd.DataFrame, result_cols: tuple[str, ...]) -> pd.DataFrame:
    """Counts and results as display text: '*' wherever the levels table hid a value (the research
    file's own '*', the year's primary rule and, under the complementary policy, complementary
    suppression: see helpers.stats.suppress)."""
    hidden_counts = _hidden_counts(rows["counts_hidden"].tolist())
    out = {col: _count_text(rows, col, hidden_counts) for col in COUNT_COLS}
    hidden = rows["suppressed"].fillna(False).astype(bool)
    for col in result_cols:
        out[col] = _text(rows[col], hidden, "{:.1f}" if col == "mean_scale_score" else "{:.2f}")
    return pd.DataFrame(out, index=rows.index)  # at once: a column added to a frame costs an index insert


def _hidden_counts(values: list) -> list[list[str]]:
    """Each row's counts the levels table hid, from its `counts_hidden` (names joined by `|`, or missing)."""
    return [("" if pd.isna(names) else str(names)).split("|") for names in values]


def _count_text(rows: pd.DataFrame, col: str, hidden_counts: list[list[str]] | None = None) -> pd.Series:
    """Count column `col` as display text, `*` where the row's `counts_hidden` names it."""
    hidden_counts = _hidden_counts(rows["counts_hidden"].tolist()) if hidden_counts is None else hidden_counts
    return _text(rows[col], pd.Series([col in names for names in hidden_counts], dtype=bool), "{:.0f}")


def _text(values: pd.Series, hide: pd.Series, fmt: str) -> pd.Series:
    # one pass over Python values: a fifth of the time of Series.map and a masked assignment
    text = _texts(values.tolist(), hide.to_numpy(dtype=bool), fmt)
    return pd.Series(text, index=values.index, dtype=object, name=values.name)


def _texts(values: list, hide: Iterable[bool], fmt: str) -> list[str]:
    """`_text` of lists."""
    return [SUPPRESSED if h else NO_DATA if pd.isna(v) else fmt.format(v) for v, h in zip(values, hide)]


def _by_role(keys: list[tuple], roles: list[str | None], values: list) -> dict[tuple, dict[str, object]]:
    """key → role → the value of the key's first row of that role (`groupby(...).first()` of text that is never
    missing), keys sorted; rows of no role (None) are left out. Plain dicts: a page's tables have tens of rows,
    and pandas' grouping, unstacking and reindexing of them cost ten times as much."""
    out: dict[tuple, dict[str, object]] = {}
    for key, role, value in zip(keys, roles, values):
        if role is not None:
            out.setdefault(key, {}).setdefault(role, value)
    return dict(sorted(out.items()))


def _row_of(keys: list[tuple], kept: list[bool] | None = None) -> dict[tuple, int]:
    """key → the position of its one row (of those `kept`); two rows of one key are an error."""
    out: dict[tuple, int] = {}
    for i, key in enumerate(keys):
        if kept is None or kept[i]:
            if key in out:
                raise ValueError(f"two rows for {key}")
            out[key] = i
    return out


def _pick(values: list, at: list[int | None], missing: str) -> list:
    """`values` at these positions, `missing` where there is no position or the value is missing."""
    return [missing if i is None or pd.isna(values[i]) else values[i] for i in at]


def _first_text(keys: list[tuple], values: list) -> dict[tuple, object]:
    """key → its first value that is not missing (`groupby(...).first()`)."""
    out: dict[tuple, object] = {}
    for key, value in zip(keys, values):
        if key not in out and not pd.isna(value):
            out[key] = value
    return out


def _roles(cds: list[str], piece: LeaSlice, names: tuple[str, str, str]) -> list[str | None]:
    """Each row's role by its CDS code: `names` of the LEA, its county and the state; None for another."""
    of = dict(zip((piece.cds, piece.cds[:2] + "0" * 12, "0" * 14), names))
    return [of.get(c) for c in cds]


def _yearly(t: pd.DataFrame, piece: LeaSlice, names: tuple[str, str, str],
            shown: pd.Series) -> tuple[list[tuple], dict[tuple, dict[str, object]], dict[tuple, int]]:
    """A trend's rows by (test, year): their keys, each key's `shown` text by role (`names` of the LEA, county
    and state; `_by_role`) and the position of the LEA's own row of each key."""
    keys = list(zip(t["test_id"].tolist(), t["year"].tolist()))
    roles = _roles(t["cds"].tolist(), piece, names)
    return keys, _by_role(keys, roles, shown.tolist()), _row_of(keys, [role == names[0] for role in roles])


def _column(values: list, dtype: str | None = None) -> pd.Series:
    """A table's column: `object` keeps text as Python objects, as `_text` makes them; None infers (`str`)."""
    return pd.Series(values, dtype=dtype)


def cells(values: pd.Series, hide: pd.Series, fmt: str) -> pd.Series:
    """Values as display text: `fmt` for numbers, `*` where `hide` is true, `–` where missing."""
    return _text(values, hide, fmt)


def footnote(year: int, policy: str = suppress.COMPLEMENTARY) -> str:
    """The note under a table: what `*` hides under the suppression `policy` the table's rows had."""
    rule = params.suppression_rule(year)
    if policy == suppress.PUBLISHED:
        return (f"`*` hidden by CDE in its research file, as CDE publishes no count below {rule.min_count} and "
                f"no result for fewer than {rule.min_results} students with scores (its rule for {year}); every "
                f"other value is shown exactly as CDE published it (see Methods). "
                f"`{NO_DATA}` no students tested or no data.")
    return (f"`*` suppressed to protect student privacy: counts below {rule.min_count} and results for "
            f"fewer than {rule.min_results} students with scores are not shown (CDE rule for {year}), nor "
            f"any value that would let a hidden one be worked out by subtraction from a total (a district, "
            f"county or the state; All Grades; All Students) (see Methods). "
            f"`{NO_DATA}` no students tested or no data.")


# ---------------------------------------------------------------- the page's tables


def _base(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=rows.index)
    out["test"] = rows["test_id"].map(params.test_label)
    return out


def summary(piece: LeaSlice) -> pd.DataFrame:
    """All Grades (grade 13) per test: the LEA, its county and the state."""
    rows = piece.rows[(piece.rows["grade"] == 13) & piece.rows["role"].isin(["lea", "county", "state"])]
    order = {"lea": 0, "county": 1, "state": 2}
    rows = rows.assign(_o=rows["role"].map(order)).sort_values(["test_id", "_o"])
    out = _base(rows)
    out["entity"] = rows["entity_name"]
    out = pd.concat([out, publish(rows, LEVEL_COLS)], axis=1).reset_index(drop=True)
    return keyed(out, piece, cds=list(rows["cds"]))


def by_grade(piece: LeaSlice) -> pd.DataFrame:
    """The LEA's results by test and grade (All Grades last)."""
    rows = piece.part("lea").sort_values(["test_id", "grade"])
    out = _base(rows)
    out["grade"] = rows["grade"].map(params.grade_label)
    out = pd.concat([out, publish(rows, ("mean_scale_score",) + LEVEL_COLS)], axis=1)
    for role in ("county", "state"):
        other = piece.part(role)
        shown = publish(other, ("pct_met_and_above",))["pct_met_and_above"]
        lookup = dict(zip(zip(other["test_id"], other["grade"]), shown))
        out[f"{role}_pct_met_and_above"] = [lookup.get(k, NO_DATA) for k in zip(rows["test_id"], rows["grade"])]
    return out.reset_index(drop=True)


def schools(piece: LeaSlice) -> pd.DataFrame:
    """Each school's All Grades results per test."""
    from helpers.ingest.store import TYPE_LABELS

    rows = piece.part("school")
    rows = rows[rows["grade"] == 13].sort_values(["entity_name", "cds", "test_id"])
    out = pd.DataFrame(index=rows.index)
    out["school"] = rows["entity_name"]
    out["cds"] = rows["cds"]
    out["type"] = rows["type_id"].map(TYPE_LABELS)
    out = pd.concat([out, _base(rows)], axis=1)
    return pd.concat([out, publish(rows, ("pct_met_and_above",))], axis=1).reset_index(drop=True)


TREND_COLS = ["test", "year", "lea", "county", "state", "participation", "grades_with_scores",
              "change_from_prior_year", "change_flag", "like_for_like_change", "note"]


def trend(piece: LeaSlice) -> pd.DataFrame:
    """All Grades % met and above by year: the LEA, its county and the state; the LEA's participation and
    grades with scores, its change from the prior year with a flag where the two years are not alike (other
    grades, participation under 95%) and the change on the grades tested in both; gaps and caveats noted."""
    t = piece.trend
    if t.empty:
        return pd.DataFrame(columns=TREND_COLS)
    hidden = t["suppressed"].fillna(False).astype(bool)
    shown = pd.Series(False, index=t.index)
    keys, wide, own = _yearly(t, piece, ("lea", "county", "state"), _text(t["pct_met_and_above"], hidden, "{:.2f}"))
    if not wide:
        return pd.DataFrame(columns=TREND_COLS)
    at = [own.get(key) for key in wide]
    notes = _first_text(keys, t["note"].tolist())
    return pd.DataFrame({
        "test": _column([params.test_label(test_id) for test_id, _ in wide]),
        "year": _column([int(year) for _, year in wide], "int64"),
        **{role: _column([cells.get(role, NO_DATA) for cells in wide.values()], "object")
           for role in ("lea", "county", "state")},
        "participation": _column(_pick(_text(t["participation"], shown, "{:.2f}").tolist(), at, NO_DATA), "object"),
        "grades_with_scores": _column(_pick(t["grades_with_scores"].tolist(), at, "")),
        "change_from_prior_year": _column(_pick(_text(t["change_from_prior_year"], hidden, "{:+.2f}").tolist(), at,
                                                NO_DATA), "object"),
        "change_flag": _column(_pick(t["change_flag"].tolist(), at, "")),
        "like_for_like_change": _column(_pick(_text(t["like_for_like_change"], shown, "{:+.2f}").tolist(), at,
                                              NO_DATA), "object"),
        "note": _column([notes.get(key, "") for key in wide]),
    })


def by_group(piece: LeaSlice) -> pd.DataFrame:
    """All Grades % Met and Above of every student group: the LEA (with its students with scores) beside its
    county and the state, for the same test and group."""
    g = piece.groups
    cols = ["test", "student_group", "with_scores", "pct_met_and_above", "county_pct_met_and_above",
            "state_pct_met_and_above"]
    if g.empty:
        return pd.DataFrame(columns=cols)
    shown = zip(_count_text(g, "with_scores").tolist(),
                _text(g["pct_met_and_above"], g["suppressed"].fillna(False).astype(bool), "{:.2f}").tolist())
    keys = list(zip(g["test_id"].tolist(), g["student_group_id"].tolist()))
    roles = _roles(g["cds"].tolist(), piece, ("lea", "county", "state"))
    wide = _by_role(keys, roles, list(shown))
    if "lea" not in roles:
        return pd.DataFrame(columns=cols)
    lea = [cells.get("lea", (NO_DATA, NO_DATA)) for cells in wide.values()]
    return pd.DataFrame({
        "test": _column([params.test_label(test_id) for test_id, _ in wide]),
        "student_group": _column([params.group_name(group) for _, group in wide]),
        "with_scores": _column([n for n, _ in lea], "object"),
        "pct_met_and_above": _column([pct for _, pct in lea], "object"),
        **{f"{role}_pct_met_and_above": _column([cells.get(role, (NO_DATA, NO_DATA))[1] for cells in wide.values()],
                                                "object") for role in ("county", "state")},
    })


def matched_grade(piece: LeaSlice) -> pd.DataFrame:
    """Grade g this year beside grade g−1 a year earlier (% Met and Above): entities' results a year apart,
    not the same students."""
    m = piece.matched
    cols = ["test", "grade", "pct_met_and_above", "prior_grade_prior_year_pct_met_and_above",
            "matched_grade_change"]
    m = m[m["prior_grade_prior_year_pct_met_and_above"].notna()]  # a grade with nothing to compare is no row
    if m.empty:
        return pd.DataFrame(columns=cols)
    hidden = m["suppressed"].fillna(False).astype(bool)
    out = pd.DataFrame({"test": m["test_id"].map(params.test_label),
                        "grade": m["grade"].map(params.grade_label),
                        "pct_met_and_above": _text(m["pct_met_and_above"], hidden, "{:.2f}"),
                        "prior_grade_prior_year_pct_met_and_above": _text(
                            m["prior_grade_prior_year_pct_met_and_above"], pd.Series(False, index=m.index), "{:.2f}"),
                        "matched_grade_change": _text(m["matched_grade_change"], hidden, "{:+.2f}")})
    return out.reset_index(drop=True)


def matched_grade_none(piece: LeaSlice) -> str:
    """The sentence shown instead of a matched-grade table with no comparable rows."""
    return (f"No grade of {md_text(piece.name)} has a published % Met and Above in spring {piece.year} and in "
            f"the grade below in spring {piece.year - 1}, so there is no matched-grade change to show.")


def impact_table(piece: LeaSlice) -> pd.DataFrame:
    """The LEA's cut-score impact rows (present only where student-level scores exist), tidy."""
    if piece.impact.empty:
        return piece.impact
    t = piece.impact.reset_index(drop=True)
    out = pd.DataFrame({"test": t["test_id"].map(params.test_label), "grade": t["grade"],
                        "level_name": t["level_name"]})
    for col in ("cut_a", "cut_b"):
        out[col] = t[col].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    for col in ("pct_at_and_above_a", "pct_at_and_above_b"):
        out[col] = t[col].map(lambda v: f"{v:.1f}")
    out["diff_pct_at_and_above"] = t["diff_pct_at_and_above"].map(lambda v: f"{v:+.1f}")
    out["status"] = t["status"]
    return out


def impact_note(piece: LeaSlice) -> str:
    if piece.impact.empty:
        return ("No student-level scores were used for this LEA, so the impact of alternative cut scores "
                "cannot be computed here: it needs scale scores (an LEA-mode build from the Student Score Data "
                "File). The book's *Cut-score impact* chapter shows how the tables read.")
    return ("**Illustrative.** % at and above each level under the official cuts and under the alternative "
            "cut file, on synthetic students drawn to reproduce this LEA's published level percentages: the "
            "official columns match the published results; the alternative columns are a what-if.")


def tables(piece: LeaSlice) -> dict[str, pd.DataFrame]:
    """The page's tables, each carrying its CSV's join keys (`keyed`)."""
    page = {"summary": summary(piece), "by_grade": by_grade(piece), "by_group": by_group(piece),
            "schools": schools(piece), "trend": trend(piece), "matched_grade": matched_grade(piece),
            "impact": impact_table(piece)}
    return {name: keyed(frame, piece) for name, frame in page.items()}


# ---------------------------------------------------------------- join keys of the CSVs

KEY_COLUMNS = {"cds": ("cds",), "entity_name": ("entity_name", "entity", "school"), "year": ("year",)}
# a join key and the columns that give it already (every table has its `test` column)


def keyed(frame: pd.DataFrame, piece: LeaSlice, **per_row: list) -> pd.DataFrame:
    """`frame` with the join keys its CSV gets in front of the columns it lacks (`frame.attrs["keys"]`): the
    row's CDS code (`per_row`, else the page's LEA), entity name and test year; the page shows `frame` as is."""
    own = frame.attrs.get("keys", {})  # keys set before (a table's own per-row CDS codes) stay
    frame.attrs["keys"] = {"cds": piece.cds, "entity_name": piece.name, "year": piece.year} | own | per_row
    return frame


def with_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV's frame: the join keys of `keyed` that no column gives already, first."""
    keys = _added_keys(frame)
    return pd.concat([pd.DataFrame(keys, index=frame.index), frame], axis=1) if keys else frame


def _added_keys(frame: pd.DataFrame) -> dict:
    """The join keys of `keyed` that no column of `frame` gives already."""
    return {k: v for k, v in frame.attrs.get("keys", {}).items()
            if not any(c in frame.columns for c in KEY_COLUMNS.get(k, (k,)))}


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The page's version of a table: thousands separators in counts, human column names."""
    shown = table.copy()
    for col in COUNT_COLS:
        if col in shown:
            shown[col] = shown[col].map(lambda v: f"{int(v):,}" if v.isdigit() else v)
    return shown.rename(columns=LABELS)


_LAYOUT = re.compile(r"\n *")  # to_html's line breaks and indentation


def table_html(frame: pd.DataFrame) -> str:
    """A table as HTML of literal text (escaped; control characters shown as spaces), no index column, a body
    row per line (readable diffs; a cell's text has no line break, and "<tr>" in it is "&lt;tr&gt;"). to_html's
    indentation was a fifth of an LEA page and a third of its notebook; one space stays between tags, as text
    taken from the tags (Sphinx's search index) would otherwise join the cells: "56", "46262211" → "5646262211".
    End tags stay, although HTML lets a table leave out those of cells and rows: Python's html.parser (under
    BeautifulSoup) then nests each cell in the one before it (tried: a reader of a school table never finished)."""
    columns = [plain(c) for c in frame.columns]
    cells = _text_cells(frame)
    if columns and cells is not None:
        return _written(columns, cells)
    shown = frame.map(lambda v: plain(v) if isinstance(v, str) else v)
    shown.columns = columns
    compact = _LAYOUT.sub(" ", shown.to_html(index=False, border=0, classes="caaspp-table", escape=True))
    return compact.replace(" <tr>", "\n<tr>")


_HEAD = '<table class="dataframe caaspp-table"> <thead> <tr style="text-align: right;"> '


def _text_cells(frame: pd.DataFrame) -> list[list[str | int]] | None:
    """The cells of a table of text and integers as shown (`plain`), which `table_html` writes as the compacted
    `to_html` does in a tenth of its time (a page has a dozen tables), each cell's text stripped and its `&`,
    `<` and `>` escaped, as pandas writes a cell; None for any other table (floats, missing values), which goes
    to `to_html`. tests/test_report.py compares the two."""
    rows = frame.to_numpy(dtype=object).tolist()
    if not all(type(v) in _CELL_TYPES for row in rows for v in row):
        return None
    return [[plain(v) if type(v) is str else v for v in row] for row in rows]


def _written(columns: list[str], rows: list[list[str | int]]) -> str:
    """The table's HTML as `_text_table_html` writes it, from its header and cells."""
    head = "".join(f"<th>{_cell(v)}</th> " for v in columns)
    body = "".join("\n<tr> " + "".join(f"<td>{_cell(v)}</td> " for v in row) + "</tr>" for row in rows)
    return f"{_HEAD}{head}</tr> </thead> <tbody>{body} </tbody> </table>"


_CELL_TYPES = (str, int)  # an integer (a year) as pandas writes it: its digits; never a bool, nor a float


def _cell(value: str | int) -> str:
    return html.escape(str(value).strip(), quote=False)


def html_table(table: pd.DataFrame):
    """The page's table as HTML (`display`'s text, literal)."""
    from IPython.display import HTML

    shown = _displayed_html(table)
    return HTML(shown if shown is not None else table_html(display(table)))


def _displayed_html(table: pd.DataFrame) -> str | None:
    """`table_html(display(table))` in one pass over the cells, for a table whose columns are text and whose
    cells are text or integers, its counts digits or other text (a page's tables): a fifth of the time of
    copying, relabelling and mapping the frame first. None for any other table, which takes that path."""
    columns = [LABELS.get(c, c) for c in table.columns]
    if not columns or not all(type(c) is str for c in columns):
        return None
    counts = [c in COUNT_COLS for c in table.columns]
    rows = table.to_numpy(dtype=object).tolist()
    cells = []
    for row in rows:
        shown = []
        for v, count in zip(row, counts):
            if count and type(v) is str and v.isdigit():
                v = f"{int(v):,}"
            elif count and type(v) is not str or type(v) not in _CELL_TYPES:
                return None
            shown.append(plain(v) if type(v) is str else v)
        cells.append(shown)
    return _written([plain(c) for c in columns], cells)


def write_csvs(tables_: dict[str, pd.DataFrame], out_dir: Path | str, stem: str) -> list[Path]:
    """Each table as `<stem>.<name>.csv` (UTF-8, '*' where suppressed) with its join keys (`with_keys`); an
    empty table is not shown on the page, so it gets no CSV."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables_.items():
        path = out_dir / f"{stem}.{name}.csv"
        if frame.empty:
            path.unlink(missing_ok=True)
            continue
        path.write_text(csv_text(frame), encoding="utf-8", newline="")
        written.append(path)
    return written


def csv_text(frame: pd.DataFrame) -> str:
    """A table's CSV: its join keys first (`with_keys`), formula-safe text (`csv_frame`), as pandas' `to_csv`
    writes it (no index, `\n` line ends)."""
    fast = _csv_cells(frame)
    if fast is None:
        return csv_frame(with_keys(frame)).to_csv(index=False, lineterminator="\n")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(fast)  # pandas' own writer and dialect
    return out.getvalue()


def _csv_cells(frame: pd.DataFrame) -> list[list] | None:
    """`csv_text`'s header and rows as pandas writes them, in a third of the time of joining the keys, checking
    for formulas and `to_csv` frame by frame (a page writes a dozen), for a table whose columns are text and
    whose cells are text, integers or missing: None for any other table, which takes that path."""
    keys = _added_keys(frame)
    columns = [*keys, *frame.columns]
    lists = [v for v in keys.values() if isinstance(v, list)]
    if (not all(type(c) is str for c in columns) or len(set(columns)) < len(columns)
            or any(len(v) != len(frame) for v in lists) or any(type(v) not in _CSV_TYPES for v in keys.values())):
        return None
    per_row = [v if isinstance(v, list) else [v] * len(frame) for v in keys.values()]
    body = frame.to_numpy(dtype=object).tolist()
    rows = [[*k, *row] for k, row in zip(zip(*per_row), body)] if per_row else body
    if not all(type(v) in _CSV_CELLS or (type(v) is float and v != v) for row in rows for v in row):  # NaN: missing
        return None
    return [columns] + [["" if v is None or type(v) is float else formula_safe(v) if type(v) is str else v
                         for v in row] for row in rows]


_CSV_TYPES = (str, int, list)  # a join key: one value, or one a row
_CSV_CELLS = (str, int, type(None))


def header_md(piece: LeaSlice, data_sha256: str) -> str:
    """Who the page is about, as a list (not a table: every table on a page has a CSV, these facts need none)."""
    return (f"- **LEA:** {md_text(piece.name)}\n- **CDS code:** {md_text(piece.cds)}\n"
            f"- **Type:** {md_text(piece.type_label)}\n"
            f"- **County:** {md_text(piece.county_name)}\n"
            f"- **Test year:** {piece.year - 1}–{str(piece.year)[2:]} (spring {piece.year})\n"
            f"- **Data SHA-256:** `{data_sha256}`\n")


# ---------------------------------------------------------------- Distance from Standard (helpers.stats.dfs)

def dfs_cells(rows: pd.DataFrame, col: str = "dfs") -> pd.Series:
    """DFS as signed text (one decimal): `*` where the row's results are hidden, `–` where there is none."""
    return _text(rows[col], rows["suppressed"].fillna(False).astype(bool), "{:+.1f}")


def left_out_text(row: Mapping) -> str:
    """What an All Grades DFS leaves out: 'none', or the grades and their students with scores."""
    grades = str(row.get("dfs_grades_left_out") or "")
    if int(row["grade"]) != 13 or bool(row["suppressed"]):
        return ""
    if not grades:
        return "" if pd.isna(row["dfs"]) else "none"
    named = ", ".join(params.grade_label(int(g)) for g in grades.split("|"))
    n = row["dfs_students_left_out"]
    return f"{named} ({'number of students not published' if pd.isna(n) else f'{int(n):,} students'})"


def dfs_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows DFS is defined for: SB ELA and math, grades 3–8, 11 and All Grades."""
    from helpers.stats import dfs

    return rows[rows["test_id"].isin(dfs.TESTS) & rows["grade"].isin((*dfs.GRADES, dfs.ALL_GRADES))]


_DFS_OWN = ["test_id", "grade", "student_group_id", "cds", "suppressed", "counts_hidden", "with_scores", "dfs",
            "dfs_grades_left_out", "dfs_students_left_out"]  # what a page's DFS tables read of the LEA's rows
_DFS_BESIDE = ["test_id", "grade", "student_group_id", "cds", "suppressed", "dfs"]  # … and of the county's, state's
Columns = dict[str, list]  # a few rows' columns as lists: a page's DFS tables are made from these


def _dfs_columns(rows: pd.DataFrame, columns: list[str]) -> Columns:
    """`columns` of `dfs_rows(rows)` as lists, and `hidden` (`suppressed`, missing as false): a frame's filter
    copies each of its forty columns, ten times the time of these few."""
    from helpers.stats import dfs

    grades = (*dfs.GRADES, dfs.ALL_GRADES)
    keep = [t in dfs.TESTS and g in grades for t, g in zip(rows["test_id"].tolist(), rows["grade"].tolist())]
    hidden = rows["suppressed"].fillna(False).astype(bool).tolist()
    return _where({c: rows[c].tolist() for c in columns} | {"hidden": hidden}, keep)


def _where(cols: Columns, keep: list[bool]) -> Columns:
    """The rows that `keep` marks."""
    return {c: list(compress(values, keep)) for c, values in cols.items()}


def _ordered(cols: Columns, keys: list[str], key: Callable[..., tuple] | None = None) -> Columns:
    """The rows sorted (stably) on `keys`, or on `key` of those keys' values."""
    order = key or (lambda *values: values)
    at = sorted(range(len(cols[keys[0]])), key=lambda i: order(*(cols[k][i] for k in keys)))
    return {c: [values[i] for i in at] for c, values in cols.items()}


def _dfs_table(first: dict[str, list], own: Columns, others: dict[str, Columns], keys: list[str]) -> pd.DataFrame:
    """The table: the `first` columns, then the LEA's students with scores, its DFS, the county's and state's
    beside it (matched on `keys`; the last of two rows of one key) and what its All Grades DFS leaves out."""
    hidden_n = ["with_scores" in names for names in _hidden_counts(own["counts_hidden"])]
    beside = {}
    for role, other in others.items():
        lookup = dict(zip(zip(*(other[k] for k in keys)), _texts(other["dfs"], other["hidden"], "{:+.1f}")))
        beside[f"{role}_dfs"] = [lookup.get(k, NO_DATA) for k in zip(*(own[k] for k in keys))]
    needed = ["grade", "suppressed", "dfs", "dfs_grades_left_out", "dfs_students_left_out"]
    return pd.DataFrame({
        **{col: _column(values) for col, values in first.items()},
        "with_scores": _column(_texts(own["with_scores"], hidden_n, "{:.0f}"), "object"),
        "dfs": _column(_texts(own["dfs"], own["hidden"], "{:+.1f}"), "object"),
        **{col: _column(values) for col, values in beside.items()},
        "dfs_left_out": _column([left_out_text(dict(zip(needed, r))) for r in zip(*(own[c] for c in needed))]),
    })


def dfs_by_grade(piece: LeaSlice) -> pd.DataFrame:
    """The LEA's DFS by test, All Grades first then each grade, beside the county and the state."""
    own = _ordered(_dfs_columns(piece.part("lea"), _DFS_OWN), ["test_id", "grade"],
                   lambda test_id, grade: (test_id, 0 if grade == 13 else grade))
    others = {r: _dfs_columns(piece.part(r), _DFS_BESIDE) for r in ("county", "state")}
    first = {"test": [params.test_label(t) for t in own["test_id"]],
             "grade": [params.grade_label(g) for g in own["grade"]]}
    return _dfs_table(first, own, others, ["test_id", "grade"])


def dfs_by_group(piece: LeaSlice) -> pd.DataFrame:
    """All Grades DFS of every student group in the data: the LEA beside its county and the state."""
    g = _dfs_columns(piece.groups, _DFS_OWN)
    cols = ["test", "student_group", "with_scores", "dfs", "county_dfs", "state_dfs", "dfs_left_out"]
    lea = _ordered(_where(g, [c == piece.cds for c in g["cds"]]), ["test_id", "student_group_id"])
    if not lea["cds"]:
        return pd.DataFrame(columns=cols)
    others = {role: _where(g, [c == cds for c in g["cds"]])
              for role, cds in (("county", piece.cds[:2] + "0" * 12), ("state", "0" * 14))}
    first = {"test": [params.test_label(t) for t in lea["test_id"]],
             "student_group": [params.group_name(s) for s in lea["student_group_id"]]}
    return _dfs_table(first, lea, others, ["test_id", "student_group_id"])


FLAG_COLS = ("participation", "grades_with_scores", "change_flag")  # the trend table's, beside the DFS trend too


def dfs_trend(piece: LeaSlice, trend_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """All Grades DFS by year: the LEA, its county and the state, the LEA's change with the same flags as the
    % Met and Above trend (participation, grades with scores, a change that is not like for like); gaps and
    caveats noted (the trends table's notes). `trend_table`: the page's `trend(piece)`, if made already."""
    cols = ["test", "year", "dfs", "county_dfs", "state_dfs", "dfs_change_from_prior_year", "participation",
            "grades_with_scores", "change_flag", "note"]
    t = piece.trend
    if t.empty or "dfs" not in t:
        return pd.DataFrame(columns=cols)
    t = dfs_rows(t)
    hidden = t["suppressed"].fillna(False).astype(bool)
    keys, wide, own = _yearly(t, piece, ("dfs", "county_dfs", "state_dfs"), _text(t["dfs"], hidden, "{:+.1f}"))
    if not wide:
        return pd.DataFrame(columns=cols)
    change = _text(t["dfs_change_from_prior_year"], hidden, "{:+.1f}").tolist()
    made = trend(piece) if trend_table is None else trend_table
    labels = [(params.test_label(test_id), int(year)) for test_id, year in wide]
    flag_of = _row_of(list(zip(made["test"].tolist(), made["year"].tolist())))
    notes = _first_text(keys, t["note"].tolist())
    return pd.DataFrame({
        "test": _column([test for test, _ in labels]),
        "year": _column([year for _, year in labels], "int64"),
        **{role: _column([cells.get(role, NO_DATA) for cells in wide.values()], "object")
           for role in ("dfs", "county_dfs", "state_dfs")},
        "dfs_change_from_prior_year": _column(_pick(change, [own.get(key) for key in wide], NO_DATA), "object"),
        **{col: _column(_pick(made[col].tolist(), [flag_of.get(label) for label in labels], ""))
           for col in FLAG_COLS},
        "note": _column([notes.get(key, "") for key in wide]),
    })


def dfs_tables(piece: LeaSlice, trend_table: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The page's DFS tables (their CSVs: `<stem>.dfs_*.csv`), each carrying its CSV's join keys (`keyed`);
    `trend_table`: the page's trend table (`tables(piece)["trend"]`), else made again."""
    tables_ = {"dfs_by_grade": dfs_by_grade(piece), "dfs_by_group": dfs_by_group(piece),
               "dfs_trend": dfs_trend(piece, trend_table)}
    return {name: keyed(frame, piece) for name, frame in tables_.items()}


def dfs_note() -> str:
    """What DFS is and the population it is computed from (helpers.stats.dfs.LABEL)."""
    from helpers.stats import dfs

    return (f"{dfs.LABEL} A grade whose mean scale score is suppressed is left out of the All Grades value; "
            f"the table says which grades and how many students that leaves out. See Methods.")
