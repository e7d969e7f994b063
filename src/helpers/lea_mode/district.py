"""The analyst's path (`caaspp-book district CDS FILES…`): one district's public book from statewide files.

A scoped project of its own at data/interim/district/<cds>/ (helpers.core.paths.DistrictPaths): the book
sources, params and notebook are copied in (a file whose bytes are unchanged keeps its time, so builds stay
incremental), the research rows of the district's county and of the state are ingested (filtered as each
file is read), its tables computed, its notebook executed, its book built into _build/district/<cds>/.
The relative layout is the whole-state project's, so the district's notebook and CSVs are the same bytes as
there. Nothing of the whole-state project (store, tables, manifest, book/leas, _build/html) is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Sequence

from helpers import __version__
from helpers.core import stable_write
from helpers.core.paths import DistrictPaths, Paths
from helpers.ingest import build as ingesting
from helpers.run import backends, runner
from helpers.stats import chunked, contract
from helpers.synth import impact_example

COPIED = ("_config.yml", "book", "notebooks", "params")  # the project's inputs, copied into the scoped root
NOT_COPIED = ("leas", "_generated")  # made by the tool, per project
INPUTS_KEY = "inputs.json"  # what the scoped store and tables were made from


def district_paths(p: Paths, cds: str, out: Path | None = None) -> DistrictPaths:
    """The scoped project of `cds`; ValueError for a bad CDS code or a site overlapping the project's."""
    if not re.fullmatch(r"\d{14}", cds or "") or cds[:2] == "00":
        raise ValueError(f"the district must be a 14-digit CDS code of an LEA (county 01 to 58), not {cds!r}")
    dp = p.district(cds, out)
    public = p.html.resolve()
    if dp.build == public or dp.build.is_relative_to(public) or public.is_relative_to(dp.build):
        raise ValueError(f"{dp.build} would overlap the project's site {public}")
    return dp


def sync(source: Path, target: Path) -> None:
    """Copy the project's inputs into the scoped root: files whose bytes changed (with their times), and
    remove copies whose source is gone (only under the copied folders)."""
    for name in COPIED:
        src, dst = source / name, target / name
        if src.is_file():
            _copy(src, dst)
            continue
        wanted = {f.relative_to(src) for f in src.rglob("*") if f.is_file() and not _skipped(f.relative_to(src))}
        for rel in sorted(wanted):
            _copy(src / rel, dst / rel)
        for old in [f for f in dst.rglob("*") if f.is_file()] if dst.is_dir() else []:
            rel = old.relative_to(dst)
            if rel not in wanted and not _skipped(rel):
                old.unlink()


def _skipped(rel: Path) -> bool:
    return rel.parts[0] in NOT_COPIED or "__pycache__" in rel.parts


def _copy(src: Path, dst: Path) -> None:
    if dst.is_file() and dst.read_bytes() == src.read_bytes():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def inputs_key(files: Sequence[Path], county: str) -> str:
    """What the scoped store and tables depend on: the files given (path, size, time), the county, the
    package version and the code of the ingest and stats stages."""
    found = ingesting.expand(list(files))
    stages = (Path(m.__file__).parent for m in (ingesting, chunked))
    code = [f.read_bytes() for stage in stages for f in sorted(stage.glob("*.py"))]
    state = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in found]
    blob = json.dumps([state, county, __version__, [hashlib.sha256(c).hexdigest() for c in code]])
    return hashlib.sha256(blob.encode()).hexdigest()


def prepare_data(dp: DistrictPaths, cds: str, files: Sequence[Path], fresh: bool = False) -> bool:
    """Ingest the county's and the state's rows of `files` into the scoped store and compute its tables,
    unless they were made from the same inputs already; returns whether they were (re)made."""
    key_file = dp.root / INPUTS_KEY
    key = inputs_key(files, cds[:2])
    if (not fresh and key_file.is_file() and key_file.read_text(encoding="utf-8") == key
            and (dp.tables / "levels.parquet").exists()):
        return False
    key_file.unlink(missing_ok=True)
    ingesting.ingest(list(files), dp.store, county=cds[:2])
    contract.check_subset(dp.store, cds, None)
    chunked.build(dp.store, dp.tables, impact_example.inputs())
    stable_write.write_if_changed(key_file, key)
    return True


def run(dp: DistrictPaths, cds: str, timeout: float = 600) -> runner.RunResult:
    """Execute the district's notebook (when its inputs changed) into the scoped book; the manifest is the
    scoped project's."""
    settings = runner.Settings.from_paths(dp, only=(cds,), timeout=timeout)
    return runner.run(settings, backends.make("serial", 1, None, deadline=settings.deadline))
