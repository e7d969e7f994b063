"""The chunked `tables` stage (helpers.stats.chunked) writes the same bytes as computing every table whole."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from helpers.stats import chunked, contract
from helpers.synth import impact_example

from .conftest import DNCUSD


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def whole(sample_tables: Path) -> dict[str, str]:
    return digests(sample_tables)


@pytest.mark.parametrize("target", [chunked.TARGET_ROWS, 1])
def test_chunks_write_the_same_bytes_as_the_whole_table(sample_store, whole, tmp_path, target):
    chunks = chunked.plan(sample_store, target)
    assert chunks is not None and len(chunks) > 1  # one per year, and per district code with target=1
    rows = chunked.build(sample_store, tmp_path / "t", impact_example.inputs(), target=target)
    assert digests(tmp_path / "t") == whole
    assert rows["levels"] == len(contract.read_results(sample_store))


@pytest.mark.parametrize("target", [chunked.TARGET_ROWS, 1])
def test_worker_processes_write_the_same_bytes(sample_store, whole, tmp_path, target):
    assert chunked.default_jobs(sample_store) == 1  # a small store: no workers unless asked
    rows = chunked.build(sample_store, tmp_path / "t", impact_example.inputs(), target=target, jobs=2)
    assert digests(tmp_path / "t") == whole
    assert rows["levels"] == len(contract.read_results(sample_store))


def test_one_lea_and_year_in_workers(sample_store, tmp_path):
    contract.write(contract.compute(sample_store, impact_example.inputs()), tmp_path / "whole", DNCUSD, 2022)
    chunked.build(sample_store, tmp_path / "chunked", impact_example.inputs(), lea=DNCUSD, year=2022, target=1,
                  jobs=2)
    assert digests(tmp_path / "chunked") == digests(tmp_path / "whole")


def test_one_lea_and_year_as_contract_select(sample_store, tmp_path):
    contract.write(contract.compute(sample_store, impact_example.inputs()), tmp_path / "whole", DNCUSD, 2022)
    chunked.build(sample_store, tmp_path / "chunked", impact_example.inputs(), lea=DNCUSD, year=2022, target=1)
    assert digests(tmp_path / "chunked") == digests(tmp_path / "whole")


def test_a_store_not_in_year_and_cds_order_is_computed_whole(sample_store, tmp_path):
    import pyarrow.parquet as pq

    store = tmp_path / "store"
    store.mkdir()
    for path in sample_store.iterdir():
        (store / path.name).write_bytes(path.read_bytes())
    table = pq.read_table(store / "results.parquet")
    pq.write_table(table.take(list(reversed(range(table.num_rows)))), store / "results.parquet")
    assert chunked.plan(store) is None


def test_read_where_gives_what_a_filtered_read_parquet_gives(sample_tables):
    import pandas as pd

    from helpers.ingest import store as stores

    path = sample_tables / "levels.parquet"
    found = stores.read_where(path, "type_id = 5 AND student_group_id = 1")
    whole = pd.read_parquet(path, filters=[("type_id", "==", 5), ("student_group_id", "==", 1)])
    assert len(found) > 16 and found.equals(whole) and (found.dtypes == whole.dtypes).all()
    none = stores.read_where(path, "type_id = 99")
    assert none.empty and none.columns.equals(whole.columns) and (none.dtypes == whole.dtypes).all()


def test_both_paths_write_row_groups_of_row_group_rows(sample_store, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(contract, "ROW_GROUP", 500)
    contract.write(contract.compute(sample_store, impact_example.inputs()), tmp_path / "whole")
    chunked.build(sample_store, tmp_path / "chunked", impact_example.inputs(), target=1)
    assert digests(tmp_path / "chunked") == digests(tmp_path / "whole")
    meta = pq.read_metadata(tmp_path / "whole" / "levels.parquet")
    assert meta.num_row_groups == -(-meta.num_rows // 500) > 1


def test_trends_are_computed_by_runs_of_whole_entities():
    # A run ends before it would pass the target, except one entity alone over it (a district such as Los
    # Angeles Unified is one group of chunks; its schools' trends are computed a run at a time).
    codes = pd.Series(["02", "01", "01", "03", "03", "03", "04"])
    assert chunked._entity_runs(codes, 3) == [("01", "02"), ("03", "03"), ("04", "04")]
    assert chunked._entity_runs(codes, 2) == [("01", "01"), ("02", "02"), ("03", "03"), ("04", "04")]
    assert chunked._entity_runs(codes, 100) == [("01", "04")]
    assert chunked._entity_runs(codes.iloc[:0], 3) == []
