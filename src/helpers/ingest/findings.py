"""Data-quality findings in research files that do not stop ingest: level percentages that do not add up,
and Test or Student Group IDs the book has no name for. Each names the file and line; the store keeps them
in its `findings` table and the data-quality page lists them."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from helpers.core import params
from helpers.ingest.research import ResultPart
from helpers.ingest.text import source_name

COLUMNS = ["file", "line", "field", "check", "message"]
# (Exceeded + Met vs Met and Above, the four levels vs 100) beyond rounding, by decimals published:
# two decimals from 2016–17 (facts §4a), whole numbers before
TOLERANCE = {2: (0.02, 0.06), 0: (1.5, 2.0)}
LEVELS = ["pct_level_1", "pct_level_2", "pct_level_3", "pct_level_4"]
UNKNOWN = {
    "test_id": ("Test Id", "unknown_test",
                "Test ID {} is not in params/tests.yml: its rows get no test name or level names"),
    "student_group_id": ("Student Group ID", "unknown_student_group",
                         "Student Group ID {} is in no student-group lookup nor params/student_groups.yml"),
}


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _values(part: ResultPart, col: str) -> np.ndarray | None:
    """A numeric column as float64 (missing → nan), or None when the file has no such column."""
    values = part.columns.get(col)
    return None if values is None else values.to_numpy(zero_copy_only=False).astype(float)


def level_sums(part: ResultPart) -> pd.DataFrame:
    """Rows whose Exceeded + Met is not Met and Above, or whose four levels do not sum to 100, beyond the
    rounding of the published percentages (rows with any of them missing are not checked)."""
    exceeded, met, above = (_values(part, c) for c in ("pct_level_4", "pct_level_3", "pct_met_and_above"))
    levels = [_values(part, c) for c in LEVELS]
    if exceeded is None or met is None:
        return empty()
    years = part.columns["year"].to_numpy(zero_copy_only=False)
    decimals = {int(y): params.pct_decimals(int(y)) for y in np.unique(years)}
    two = pd.Series(years).map(decimals).to_numpy()
    pair = np.where(two >= 2, TOLERANCE[2][0], TOLERANCE[0][0]) + 1e-9
    four = np.where(two >= 2, TOLERANCE[2][1], TOLERANCE[0][1]) + 1e-9
    out = []
    if above is not None:
        gap = exceeded + met - above
        out.append(_rows(part, np.abs(gap) > pair, "Percentage Standard Met and Above", "met_and_above",
                         lambda i: f"Exceeded {exceeded[i]:g} + Met {met[i]:g} = {exceeded[i] + met[i]:.2f}, but "
                                   f"Met and Above is {above[i]:g}"))
    if all(v is not None for v in levels):
        total = sum(levels)
        out.append(_rows(part, np.abs(total - 100) > four, "Percentage Standard Not Met", "levels_sum",
                         lambda i: f"the four level percentages sum to {total[i]:.2f}, not 100"))
    return pd.concat(out, ignore_index=True) if out else empty()


def _rows(part: ResultPart, mask: np.ndarray, field: str, check: str, message) -> pd.DataFrame:
    hits = np.flatnonzero(np.nan_to_num(mask, nan=0).astype(bool))
    lines = part.lines()
    return pd.DataFrame({"file": source_name(part.path), "line": lines[hits].astype("int64"), "field": field,
                         "check": check, "message": [message(i) for i in hits]}, columns=COLUMNS)


def ids_seen(part: ResultPart) -> pd.DataFrame:
    """Each Test ID and Student Group ID of a file, at its first line (for `unknown_ids`, once every lookup
    is read)."""
    lines, out = part.lines(), []
    for col in UNKNOWN:
        values, first = np.unique(part.columns[col].to_numpy(zero_copy_only=False), return_index=True)
        out += [{"file": source_name(part.path), "line": int(lines[i]), "column": col, "value": int(v)}
                for v, i in zip(values, first)]
    return pd.DataFrame(out, columns=["file", "line", "column", "value"])


def unknown_ids(seen: Iterable[pd.DataFrame], groups: Iterable[int] = ()) -> pd.DataFrame:
    """Each Test ID not in params/tests.yml and each Student Group ID in no lookup given nor in
    params/student_groups.yml, once per file, at its first line (`seen`: `ids_seen` of each file)."""
    known = {"test_id": set(params.tests()), "student_group_id": set(params.group_names()) | set(groups)}
    out = []
    for frame in seen:
        for r in frame.itertuples(index=False):
            if r.value not in known[r.column]:
                field, check, message = UNKNOWN[r.column]
                out.append({"file": r.file, "line": r.line, "field": field, "check": check,
                            "message": message.format(r.value)})
    return pd.DataFrame(out, columns=COLUMNS)


def warnings(findings: pd.DataFrame) -> list[str]:
    """One line per unknown ID (file, first line), and a count of the level-sum findings per file."""
    unknown = findings[findings["check"].str.startswith("unknown")]
    lines = [f"{r.file}, line {r.line}, field '{r.field}': {r.message}" for r in unknown.itertuples()]
    sums = findings[~findings["check"].str.startswith("unknown")]
    for file, rows in sums.groupby("file", sort=True):
        lines.append(f"{file}: {len(rows)} rows whose level percentages do not add up (first on line "
                     f"{int(rows['line'].min())}); listed on the data-quality page")
    return lines
