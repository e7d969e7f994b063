"""What an LEA page is made from: the in-memory slice and its hash equal store.lea_slice's, the slice files
give the same slice back (and refuse another LEA's or changed data), and data keys change exactly where the data
change."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.core import atomic
from helpers.core.errors import Refusal
from helpers.core.paths import default_paths
from helpers.ingest import build as ingest
from helpers.ingest import slice_files
from helpers.ingest import store as stores
from helpers.run import lea_data
from helpers.stats import contract
from helpers.synth import impact_example
from helpers.synth import statewide as sw

from .conftest import DNCUSD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def synthetic_tables(tmp_path_factory) -> Path:
    """~150 synthetic LEAs in 7 counties (the first 700 entities of the 2023 entities file)."""
    work = tmp_path_factory.mktemp("synthetic")
    sw.generate(default_paths().reference_entities, work / "raw", 2023, 0, [1], max_entities=700)
    ingest.ingest([work / "raw"], work / "store")
    contract.write(contract.compute(work / "store", impact_example.inputs()), work / "tables")
    return work / "tables"


def lea_codes(tables: Path) -> list[tuple[str, str]]:
    table = stores.leas(tables)
    return list(zip(table["cds"], table["county_code"]))


def representative(leas: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each county's first and last LEA and one of each entity type (reading every slice of ~150 LEAs took
    100 s and checked nothing these do not)."""
    by_county: dict[str, list[tuple[str, str]]] = {}
    for cds, county in leas:
        by_county.setdefault(county, []).append((cds, county))
    chosen = {x for group in by_county.values() for x in (group[0], group[-1])}
    kinds = {}
    for cds, county in leas:
        kinds.setdefault((cds[7:] == "0000000", cds[2:7] == "10000"), (cds, county))
    return sorted(chosen | set(kinds.values()))


FRAMES = ("rows", "trend", "impact", "groups", "matched")


def same_slice(a: stores.LeaSlice, b: stores.LeaSlice) -> None:
    """Frame for frame (values, dtypes, index) and every field equal."""
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    fields = ("cds", "year", "name", "type_id", "county_code", "county_name")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_hashes_and_slice_files_reproduce_the_slice(which, sample_tables, synthetic_tables, tmp_path):
    tables = sample_tables if which == "sample" else synthetic_tables
    year = stores.years(tables)[-1]
    leas = lea_codes(tables)
    checked = leas if which == "sample" else representative(leas)
    hasher = lea_data.SliceHasher(tables, year)
    for cds, _ in checked:
        expected = stores.lea_slice(tables, cds, year)
        sha = stores.slice_sha256(expected)
        piece = hasher.lea_slice(cds)
        assert stores.slice_sha256(piece) == sha == hasher.sha256(cds), cds
        folder = slice_files.folder(tmp_path, cds, year)
        slice_files.write(piece, folder)
        same_slice(slice_files.read(folder, cds, year, expect_sha256=sha), expected)
        same_slice(slice_files.load(tables, folder, cds, year, sha), expected)
        same_slice(slice_files.load(tables, "", cds, year, sha), expected)
    hasher.close()
    assert len({c for _, c in leas}) == (1 if which == "sample" else 7)
    assert len(checked) == (len(leas) if which == "sample" else 15)
    assert sorted(p.name for p in slice_files.folder(tmp_path, checked[0][0], year).iterdir()) == \
        sorted([atomic.MARKER, *(f"{name}.arrow" for name in FRAMES)])


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_a_countys_slices_in_one_batch_equal_each_leas_own(which, sample_tables, synthetic_tables):
    """Five queries for a county's LEAs give each LEA the frames, dtypes and hash its own queries give, although
    DuckDB's dtypes depend on the rows (a nullable integer only where a value is missing)."""
    tables = sample_tables if which == "sample" else synthetic_tables
    year = stores.years(tables)[-1]
    by_county: dict[str, list[str]] = {}
    for cds, county in lea_codes(tables):
        by_county.setdefault(county, []).append(cds)
    hasher = lea_data.SliceHasher(tables, year)
    varied = set()
    for leas in by_county.values():
        batch = hasher.slices(leas)
        assert list(batch) == leas
        for cds in leas:
            alone = hasher.lea_slice(cds)
            same_slice(batch[cds], alone)
            assert stores.slice_sha256(batch[cds]) == hasher.sha256(cds)
        for name in FRAMES:  # the dtypes the batch had to give back differ between LEAs of the county
            dtypes = {tuple(map(str, getattr(batch[c], name).dtypes)) for c in leas}
            varied |= {name} if len(dtypes) > 1 else set()
    assert hasher.slices(leas[-1:])[leas[-1]].cds == leas[-1]
    with pytest.raises(ValueError, match="LEAs of more than one county in one batch"):
        hasher.slices([leas[0], "99" + leas[0][2:]])
    hasher.close()
    assert varied == (set(FRAMES) if which == "synthetic" else {"rows", "impact"})


def test_slice_files_refuse_a_missing_other_or_changed_slice(sample_tables, tmp_path):
    coe, dncusd = "08100820000000", DNCUSD
    piece = stores.lea_slice(sample_tables, coe, 2022)
    sha = stores.slice_sha256(piece)
    folder = slice_files.folder(tmp_path, coe, 2022)
    with pytest.raises(FileNotFoundError, match=f"no slice of LEA {coe} for 2022 there: run `caaspp-book run`"):
        slice_files.read(folder, coe, 2022)
    slice_files.write(piece, folder)
    assert sorted(tmp_path.joinpath("08").iterdir()) == [folder]  # no temporary folder left
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask  # readable as other folders are, not 0700
    with pytest.raises(ValueError, match=f"is not LEA {dncusd}'s of 2022: it holds \\[\\('{coe}', 2022\\)\\]"):
        slice_files.read(folder, dncusd, 2022)
    with pytest.raises(ValueError, match=f"is not LEA {coe}'s of 2021"):
        slice_files.read(folder, coe, 2021)
    other = stores.lea_slice(sample_tables, coe, 2021)
    (folder / "trend.arrow").unlink()
    with pytest.raises(FileNotFoundError, match="no slice of LEA"):
        slice_files.read(folder, coe, 2022)
    slice_files.write(piece, folder)
    changed = stores.LeaSlice(**{**vars(piece), "groups": other.groups})  # another year's group rows
    slice_files.write(changed, folder)
    with pytest.raises(ValueError, match=f"the data of LEA {coe} in {folder} changed since the run was planned"):
        slice_files.read(folder, coe, 2022, expect_sha256=sha)
    assert stores.slice_sha256(slice_files.read(folder, coe, 2022)) != sha

    mine = slice_files.folder(tmp_path, DNCUSD, 2022)
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(Refusal, match="not made by caaspp-book"):
        slice_files.write(piece, mine)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_sealed_slice_is_read_without_hashing_its_frames_and_a_broken_seal_falls_back(sample_tables, tmp_path,
                                                                                       monkeypatch):
    """The planner's seal (the slice hash and each file's SHA-256) spares the reader the CSV hash only while every
    file has the sealed bytes and the hash is the one expected; otherwise the frames are hashed as before."""
    coe = "08100820000000"
    piece = stores.lea_slice(sample_tables, coe, 2022)
    sha = stores.slice_sha256(piece)
    folder = slice_files.folder(tmp_path, coe, 2022)
    slice_files.write(piece, folder, sha)
    seal = json.loads((folder / slice_files.SEAL).read_text())
    assert seal == {"sha256": sha, "files": {f: hashlib.sha256((folder / f).read_bytes()).hexdigest()
                                             for f in slice_files.FILES}}
    hashed = []
    real = stores.slice_sha256
    monkeypatch.setattr(stores, "slice_sha256", lambda p: hashed.append(p.cds) or real(p))
    same_slice(slice_files.read(folder, coe, 2022, expect_sha256=sha), piece)
    assert hashed == []  # sealed: no CSV hash
    with pytest.raises(ValueError, match="changed since the run was planned"):
        slice_files.read(folder, coe, 2022, expect_sha256="0" * 64)  # another hash: the frames are hashed
    assert hashed == [coe]

    other = stores.lea_slice(sample_tables, coe, 2021)
    changed = stores.LeaSlice(**{**vars(piece), "groups": other.groups})
    slice_files.write(changed, tmp_path / "changed")
    seal_text = (folder / slice_files.SEAL).read_text()
    shutil.copyfile(tmp_path / "changed" / "groups.arrow", folder / "groups.arrow")  # the seal no longer holds
    assert not slice_files.sealed(folder, {f: (folder / f).read_bytes() for f in slice_files.FILES}, sha)
    with pytest.raises(ValueError, match=f"the data of LEA {coe} in {folder} changed since the run was planned"):
        slice_files.read(folder, coe, 2022, expect_sha256=sha)
    assert hashed == [coe, coe]

    slice_files.write(piece, folder)  # no seal: hashed, and right
    assert not (folder / slice_files.SEAL).exists()
    same_slice(slice_files.read(folder, coe, 2022, expect_sha256=sha), piece)
    for broken in ("not json", "[]", json.dumps({"sha256": sha}), seal_text.replace(sha, "f" * 64)):
        (folder / slice_files.SEAL).write_text(broken)  # unreadable or another slice's: hashed, and right
        same_slice(slice_files.read(folder, coe, 2022, expect_sha256=sha), piece)
    assert hashed == [coe] * 7


def edit(tables: Path, where: str) -> None:
    """Bump `enrolled` on the levels rows matching `where` (a data correction)."""
    path = tables / "levels.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN {where} THEN enrolled + 1 ELSE enrolled END AS enrolled) "
                    f"FROM read_parquet('{path}')) TO '{path}.new' (FORMAT parquet)")
    Path(f"{path}.new").replace(path)


def test_data_keys_change_only_for_the_leas_that_read_the_change(sample_tables, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(sample_tables, tables)
    leas = [c for c, _ in lea_codes(tables)]
    before = {c: lea_data.Fingerprints(tables).lea_key(c) for c in leas}
    edit(tables, f"cds = '{DNCUSD}'")  # the district's own rows
    after = {c: lea_data.Fingerprints(tables).lea_key(c) for c in leas}
    changed = {c for c in leas if before[c] != after[c]}
    assert changed == {DNCUSD, "08618200137729"}  # the district and the charter sharing its 7-digit code
    edit(tables, "type_id = 4")  # the state's rows: every page shows them
    prints = lea_data.Fingerprints(tables)
    final = {c: prints.lea_key(c) for c in leas}
    assert all(final[c] != after[c] for c in leas)
    assert prints.lea_key(DNCUSD, "other slice code") != final[DNCUSD]  # a change to what makes slices
