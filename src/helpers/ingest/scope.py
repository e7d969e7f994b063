"""Reading statewide research files for one county (`ingest --county`, `caaspp-book district`).

A file is parsed block by block (text.parse_rows_where), and a block's rows are dropped before they are
typed unless their text says they may be the county's, the state's, or an All Students row of a Smarter
Balanced test (of any county). That test keeps a superset: a code or ID that is not plain digits is kept,
to be checked as a whole-state read checks it. The typed rows are then split exactly:

- the county's and the state's rows are the scoped store's results (`in_county`);
- every county's All Students Smarter Balanced rows are the impact store (`impact_rows`). The scoped tables
  choose the cut-score impact example from them and draw its students from them, as the whole-state tables
  do from the whole store (stats.contract.example_lea), so scoping never changes the impact tables.

Other counties' other rows are never typed, so a fault in them is for a whole-state ingest to report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from helpers.ingest.research import ResultPart

STATE_CDS = "00000000000000"
ALL_STUDENTS = 1
SB_TESTS = (1, 2)  # ELA and mathematics: the tests of the Smarter Balanced impact example


@dataclass(frozen=True)
class County:
    """What a scoped read keeps: county `code`'s rows, the state's and the impact example's candidates."""

    code: str  # two digits, 01 to 58

    def block_filter(self, columns: dict[str, int]) -> Callable[[list[pa.Array]], pa.Array]:
        """The text test of a block's rows, for a file whose canonical columns are at these indexes."""
        def keep(block: list[pa.Array]) -> pa.Array:
            ours = _one_of(block, columns.get("county_code"), {int(self.code), 0})
            candidate = pc.and_(_one_of(block, columns.get("student_group_id"), {ALL_STUDENTS}),
                                _one_of(block, columns.get("test_id"), set(SB_TESTS)))
            return pc.or_(ours, candidate)
        return keep


def _one_of(block: list[pa.Array], index: int | None, values: set[int]) -> pa.Array:
    """Whether each row's text in column `index` is one of `values` in plain digits, or is not plain digits
    (blank, signs, words: kept for the typed check); every row when the file has no such column."""
    if index is None:
        return pa.array([True] * len(block[0]), pa.bool_()) if block else pa.array([], pa.bool_())
    text = pc.utf8_trim_whitespace(block[index])
    plain = pc.match_substring_regex(text, r"^[0-9]+$")
    value = pc.utf8_ltrim(text, characters="0")  # "" for zero
    return pc.or_(pc.invert(plain), pc.is_in(value, pa.array([str(v) if v else "" for v in values])))


def in_county(part: ResultPart, county: str) -> ResultPart:
    """Only the rows of county `county` (CDS codes starting with it) and the state's, each keeping its line
    number in the file."""
    cds = part.columns["cds"]
    return part.filter(_flat(pc.or_(pc.starts_with(cds, county), pc.equal(cds, STATE_CDS))))


def impact_rows(part: ResultPart) -> ResultPart:
    """Every county's All Students rows of the Smarter Balanced tests (the impact example's candidates)."""
    cols = part.columns
    keep = pc.and_(pc.equal(cols["student_group_id"], ALL_STUDENTS),
                   pc.is_in(cols["test_id"], pa.array(SB_TESTS, pa.int64())))
    return part.filter(_flat(keep))


def _flat(mask: pa.Array | pa.ChunkedArray) -> pa.Array:
    mask = pc.fill_null(mask, False)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
