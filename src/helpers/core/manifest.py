"""The run manifest (book/leas/manifest.json): one record per LEA, merged across runs.

Stable fields (the book's "Run status" chapter reads them): cds, year, name, county_code, county_name,
type_id, notebook, data_sha256, status (ok | failed | skipped), duration, error, failed_cell. Added:
input_hash (what the page was made from), data_key (the county data fingerprint data_sha256 was
computed against) and failed_at (when a failed LEA failed, UTC; its page says so). No other wall-clock
times: the same inputs give the same manifest, apart from duration and failed_at.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Iterable

BUILT = ("ok", "skipped")  # statuses whose notebook is in the book


@dataclass(frozen=True)
class LeaJob:
    """One LEA to execute: who it is, where its page goes, and what it is made from."""

    cds: str
    year: int
    name: str
    county_code: str
    county_name: str
    type_id: int
    notebook: str  # output path relative to the project root
    data_sha256: str  # store.slice_sha256 of the LEA's slice
    lea_data: str = ""  # the notebook's `lea_data` parameter (the LEA's slice files), relative to the root
    input_hash: str = ""  # notebook + parameters + data + code (see helpers.run.lea_data.input_hash)
    data_key: str = ""


@dataclass
class LeaRecord:
    cds: str
    year: int
    name: str
    county_code: str
    county_name: str
    type_id: int
    notebook: str
    data_sha256: str
    status: str  # ok | failed | skipped
    duration: float
    error: str = ""
    failed_cell: int | None = None  # execution count (In [n]) of the cell that raised or timed out
    input_hash: str = ""
    data_key: str = ""
    failed_at: str = ""  # a failed run's time (UTC, to the minute); empty otherwise
    # Not in the manifest: seconds per phase of this run (kernel, execute, write, cells) for benchmarks.
    phases: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def built(self) -> bool:
        return self.status in BUILT

    def to_json(self) -> dict:
        """The stored fields in their order (each a str, number or None: nothing to copy deeply, as `asdict`
        would, at 0.2 ms a record of a statewide manifest written several times a run)."""
        return {name: getattr(self, name) for name in _STORED}


_STORED = tuple(f.name for f in fields(LeaRecord) if f.name != "phases")
_FIELDS = set(_STORED)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def record(job: LeaJob, status: str, duration: float, error: str = "", failed_cell: int | None = None,
           phases: dict | None = None) -> LeaRecord:
    return LeaRecord(job.cds, job.year, job.name, job.county_code, job.county_name, job.type_id, job.notebook,
                     job.data_sha256, status, round(duration, 2), error[:2000], failed_cell, job.input_hash,
                     job.data_key, now_utc() if status == "failed" else "", phases or {})


def skipped(previous: LeaRecord, job: LeaJob) -> LeaRecord:
    """The previous record of an unchanged LEA, marked skipped (its page is kept)."""
    return LeaRecord(**{**previous.to_json(), "status": "skipped", "data_key": job.data_key})


def merge(previous: Iterable[LeaRecord], new: Iterable[LeaRecord], universe: set[tuple[str, int]]) -> list[LeaRecord]:
    """New records over previous ones, keeping previous LEAs still in `universe` ((cds, year) of the store's
    LEAs); in county, CDS order."""
    merged = {r.cds: r for r in previous if (r.cds, r.year) in universe}
    merged.update((r.cds, r) for r in new)
    return sorted(merged.values(), key=lambda r: (r.county_code, r.cds))


def write(records: list[LeaRecord], path: Path) -> None:
    """Atomically; byte-identical for identical records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps([r.to_json() for r in records], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path) -> list[LeaRecord]:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `caaspp-book run` first")
    return [LeaRecord(**{k: v for k, v in r.items() if k in _FIELDS}) for r in json.loads(path.read_text("utf-8"))]


def read_if_exists(path: Path) -> list[LeaRecord]:
    try:
        return read(path)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return []
