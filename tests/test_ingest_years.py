"""Several years' research files: once a second year is read, each file's typed rows wait in a scratch
folder and the store is written one year at a time (helpers.ingest.spill), giving the same store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers.core.errors import InputError
from helpers.ingest import build as ingest
from helpers.ingest import results as combining
from helpers.ingest.results import Results
from helpers.ingest.spill import Yearly

from .conftest import ROOT, SAMPLE

BAD = ROOT / "tests" / "fixtures" / "bad"
ENT2017 = SAMPLE / "entities" / "sb_ca2017entities_csv__county08_DelNorte_plus_state.txt"
SB2017 = SAMPLE / "research" / "sb_ca2017_1_csv_v2__county08_DelNorte_plus_state.txt"
ENT2022 = SAMPLE / "entities" / "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt"


def test_years_written_one_at_a_time_are_the_all_years_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(combining, "ROW_GROUP", 100)  # several row groups, some across a change of year
    (tmp_path / "scratch").mkdir()
    whole = ingest.read_store([SAMPLE])
    yearly = ingest.read_store([SAMPLE], scratch=tmp_path / "scratch")
    assert isinstance(whole.results, Results) and isinstance(yearly.results, Yearly)
    assert yearly.results.years == [2017, 2018, 2021, 2022] and len(yearly.results) == len(whole.results)
    ingest.write(whole, tmp_path / "a")
    ingest.write(yearly, tmp_path / "b")
    a, b = (tmp_path / s / "results.parquet" for s in "ab")
    assert pq.read_metadata(a).num_row_groups == -(-len(whole.results) // 100) > 4
    assert a.read_bytes() == b.read_bytes()


def test_one_year_stays_in_memory(tmp_path: Path) -> None:
    (tmp_path / "scratch").mkdir()
    store = ingest.read_store([SB2017, ENT2017], scratch=tmp_path / "scratch")
    assert isinstance(store.results, Results) and not list((tmp_path / "scratch").iterdir())


@pytest.mark.parametrize("name, line, field, reason", [
    ("duplicate_result_row.txt", 4, "Grade", "duplicate key (year 2022, 08-61820-0000000, test 1, group 1, "
                                             "grade 13) already on line 2 of duplicate_result_row.txt"),
    ("entity_not_in_entities_file.txt", 3, "School Code", "entity 08-61820-0106666 is not in the 2022 entities file"),
])
def test_a_fault_found_as_a_year_is_written_names_its_file_and_line(tmp_path: Path, name, line, field, reason):
    good = tmp_path / "store"
    ingest.ingest([SB2017, ENT2017], good)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in good.iterdir()}
    with pytest.raises(InputError) as caught:
        ingest.ingest([SB2017, ENT2017, BAD / name, ENT2022], good)
    assert str(caught.value) == f"{BAD / name}, line {line}, field '{field}': {reason}"
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in good.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]  # no scratch folder left behind
