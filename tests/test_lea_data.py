"""What an LEA page is made from: the in-memory slice hash equals store.slice_sha256, a county shard gives
the same slice as the statewide tables, and data keys change exactly where the data change."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from helpers.core.paths import default_paths
from helpers.ingest import build as ingest
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


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_hashes_and_shards_reproduce_the_slice(which, sample_tables, synthetic_tables, tmp_path):
    tables = sample_tables if which == "sample" else synthetic_tables
    year = stores.years(tables)[-1]
    leas = lea_codes(tables)
    checked = leas if which == "sample" else representative(leas)
    prints = lea_data.Fingerprints(tables)
    counties = sorted({c for _, c in leas})
    assert lea_data.write_shards(tables, tmp_path, {c: prints.county_key(c) for c in counties}) == counties
    hasher = lea_data.SliceHasher(tables, year)
    for cds, county in checked:
        expected = stores.slice_sha256(stores.lea_slice(tables, cds, year))
        assert hasher.sha256(cds) == expected, cds
        assert stores.slice_sha256(stores.lea_slice(tmp_path / county, cds, year)) == expected, cds
    hasher.close()
    assert len(counties) == (1 if which == "sample" else 7)
    assert len(checked) == (len(leas) if which == "sample" else 15)


def test_shards_are_rewritten_only_when_their_county_changes(synthetic_tables, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(synthetic_tables, tables)
    keys = lambda: {c: lea_data.Fingerprints(tables).county_key(c) for c in ("01", "04", "07")}  # noqa: E731
    assert lea_data.write_shards(tables, tmp_path / "shards", keys()) == ["01", "04", "07"]
    marker = (tmp_path / "shards" / "04" / "levels.parquet").stat().st_mtime_ns
    assert lea_data.write_shards(tables, tmp_path / "shards", keys()) == []
    edit(tables, "substr(cds, 1, 2) = '01' AND type_id = 7")  # schools of county 01 only
    assert lea_data.write_shards(tables, tmp_path / "shards", keys()) == ["01"]
    assert (tmp_path / "shards" / "04" / "levels.parquet").stat().st_mtime_ns == marker


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
    final = {c: lea_data.Fingerprints(tables).lea_key(c) for c in leas}
    assert all(final[c] != after[c] for c in leas)
