"""Entities: their names, their LEA, and each research row's entity (checked against its Type ID)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.core.errors import InputError
from helpers.ingest.fields import first_true
from helpers.ingest.research import ResultPart
from helpers.ingest.schema import (
    CODE_WIDTHS,
    ENTITY_COLUMNS,
    RESULT_DTYPES,
    arrow_table,
)


def entity_name(type_id: int, county: str, district: str, school: str) -> str:
    if type_id == 4:
        return "State of California"
    if type_id == 5:
        return f"{county} County"
    if type_id == 6:
        return district
    return school


def entity_names(frame: pd.DataFrame) -> pd.Series:
    """`entity_name` of every row, vectorised."""
    t = frame["type_id"].to_numpy(dtype=float, na_value=np.nan)
    names = np.select([t == 4, t == 5, t == 6], [
        np.full(len(frame), "State of California", dtype=object),
        (frame["county_name"] + " County").to_numpy(dtype=object), frame["district_name"].to_numpy(dtype=object)],
        frame["school_name"].to_numpy(dtype=object))
    return pd.Series(names, index=frame.index, dtype="string")


def lea_of(frame: pd.DataFrame) -> pd.Series:
    """The LEA a row belongs to: districts and charters are their own; schools belong to their district."""
    district = frame["county_code"] + frame["district_code"] + "0000000"
    lea = frame["cds"].where(frame["type_id"].isin([6, 9, 10]), district)
    return lea.where(frame["type_id"].isin([6, 7, 9, 10]), pd.NA).astype("string")


def entities_of(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The entities files' rows as one table, one row per (year, cds)."""
    if not frames:
        return pd.DataFrame(columns=["year", "cds", "type_id", "county_name", "district_name", "school_name"])
    ent = pd.concat(frames, ignore_index=True)
    # SB and CAST entity files of one year overlap; the first (by file name) names an entity
    return ent.drop_duplicates(["year", "cds"], keep="first").reset_index(drop=True)


@dataclass
class Entities:
    """What a result row takes from its entity, one row per entity, and the (year, cds) keys to find it."""

    frame: pd.DataFrame
    table: pa.Table
    keys: pa.Array

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Entities:
        cols = [*CODE_WIDTHS, "cds", "type_id", *ENTITY_COLUMNS]
        if frame.empty:
            return cls(frame, arrow_table({c: pa.array([], pa.null()) for c in cols},
                                          {c: RESULT_DTYPES[c] for c in cols}), pa.array([], pa.string()))
        attrs = frame.assign(entity_name=entity_names(frame), lea_cds=lea_of(frame))[cols]
        table = arrow_table({c: pa.array(attrs[c].array) for c in cols}, {c: RESULT_DTYPES[c] for c in cols})
        return cls(frame, table, join_key(pa.array(frame["year"].array), table["cds"]))

    def find(self, part: ResultPart) -> pa.ChunkedArray:
        """Each row's entity (its row in `table`); a row without one, or whose Type ID disagrees, is an error."""
        year, cds = part.columns["year"], part.columns["cds"]
        index = pc.index_in(join_key(year, cds), value_set=self.keys)
        type_id = self.table["type_id"].take(index)
        i = first_true(pc.is_null(type_id))
        if i is not None:
            y = year[i].as_py()
            have = sorted(set(self.frame["year"].astype(int))) if len(self.frame) else []
            why = (f"entity {dashed(cds[i].as_py())} is not in the {y} entities file"
                   if y in have else f"no entities file for test year {y} was given")
            raise InputError(part.path, why, part.line(i), "School Code" if y in have else "Test Year")
        own = part.columns.get("type_id")
        if own is not None:
            i = first_true(pc.and_(pc.is_valid(own), pc.not_equal(own, type_id)))
            if i is not None:
                raise InputError(part.path, f"Type ID {own[i].as_py()} disagrees with the entities file "
                                 f"({type_id[i].as_py()}) for {dashed(cds[i].as_py())}", part.line(i),
                                 "Type ID")
        return index


def join_key(year, cds) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(pc.cast(year, pa.string()), pc.cast(cds, pa.string()), "|")


def dashed(cds: str) -> str:
    """A CDS code as people write it: 08-61820-0000000."""
    return f"{cds[:2]}-{cds[2:7]}-{cds[7:]}"
