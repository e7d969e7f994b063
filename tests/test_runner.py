"""The LEA runner: backends give identical outputs; failures, timeouts and killed workers are recorded
while the other LEAs go on; unchanged LEAs are skipped; a rerun redoes only failed and changed LEAs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest

from helpers.core import manifest
from helpers.ingest import slice_files
from helpers.run import backends, kernels, runner

from .conftest import DNCUSD, ROOT

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "lea_report.ipynb"
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
COE, CASTLE_ROCK, CHARTER = "08100820000000", "08100820830059", "08618200137729"
ALL = [COE, CASTLE_ROCK, DNCUSD, CHARTER]


def settings(root: Path, store: Path, tables: Path, notebook: Path = NOTEBOOK, **kw) -> runner.Settings:
    leas = root / "book" / "leas"
    return runner.Settings(root=root, notebook=notebook, store=store, tables=tables, leas_dir=leas,
                           manifest=leas / "manifest.json", slices=root / "data" / "interim" / "lea_slices", **kw)


def outputs(root: Path) -> dict[str, str]:
    """sha256 of every file the run wrote into the book (notebooks, CSVs; not the manifest)."""
    leas = root / "book" / "leas"
    return {p.relative_to(leas).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(leas.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def statuses(result: runner.RunResult) -> dict[str, str]:
    return {r.cds: r.status for r in result.records}


def stable(records: list[manifest.LeaRecord]) -> list[dict]:
    return [{k: v for k, v in r.to_json().items() if k != "duration"} for r in records]


@pytest.fixture(scope="module")
def serial_run(sample_store, sample_tables, tmp_path_factory) -> tuple[Path, runner.RunResult]:
    root = tmp_path_factory.mktemp("serial")
    result = runner.run(settings(root, sample_store, sample_tables), backends.Serial())
    kernels.close_all()
    return root, result


def test_serial_run_builds_every_lea(serial_run):
    root, result = serial_run
    assert statuses(result) == dict.fromkeys(ALL, "ok")
    saved = json.loads((root / "book" / "leas" / "manifest.json").read_text())
    assert [r["cds"] for r in saved] == ALL
    assert set(saved[0]) >= {"cds", "year", "name", "county_code", "county_name", "type_id", "notebook",
                              "data_sha256", "status", "duration", "error", "failed_cell", "input_hash"}
    nb = json.loads((root / result.records[2].notebook).read_text())
    assert "".join(nb["cells"][0]["source"]) == "# Del Norte County Unified (08618200000000)"
    assert not list((root / "book").rglob(".*.out"))  # staging folders removed


def test_backends_and_fresh_kernels_give_identical_outputs(serial_run, sample_store, sample_tables, tmp_path):
    """Processes and Dask (LocalCluster in this process) vs serial, and a fresh kernel per LEA vs one reset
    kernel: byte-identical notebooks and CSVs, same manifest apart from durations."""
    root, serial = serial_run
    runs = {
        "processes": (backends.Processes(2), {}),
        "dask": (backends.Dask(2, processes=False), {}),
        "fresh": (backends.Serial(), {"fresh_kernels": True}),
    }
    for name, (backend, extra) in runs.items():
        other = tmp_path / name
        result = runner.run(settings(other, sample_store, sample_tables, **extra), backend)
        assert outputs(other) == outputs(root), name
        assert stable(result.records) == stable(serial.records), (name, [(r.cds, r.status, r.error)
                                                                         for r in result.records])
    kernels.close_all()


def test_dask_with_a_scheduler_address(sample_store, sample_tables, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        result = runner.run(settings(tmp_path, sample_store, sample_tables, only=(DNCUSD, CHARTER)),
                            backends.Dask(2, address=cluster.scheduler_address))
    assert statuses(result) == {DNCUSD: "ok", CHARTER: "ok"}
    kernels.close_all()


def test_failing_lea_is_recorded_and_the_others_go_on(sample_store, sample_tables, tmp_path):
    s = settings(tmp_path, sample_store, sample_tables, FIXTURES / "fails_for_castle_rock.ipynb")
    result = runner.run(s, backends.Processes(2))
    assert statuses(result) == {**dict.fromkeys(ALL, "ok"), CASTLE_ROCK: "failed"}
    [failed] = result.failed
    assert failed.error == f"ValueError: deliberate failure for {CASTLE_ROCK}"
    assert failed.failed_cell == 3  # In [3]: after the parameters and the injected parameters
    assert failed.duration > 0
    assert not (tmp_path / failed.notebook).exists()  # never a broken page in the book
    assert (tmp_path / "book" / "leas" / "08" / f".{CASTLE_ROCK}-castle-rock.failed.ipynb").exists()
    # a rerun with nothing changed redoes only the failed LEA
    again = runner.run(s, backends.Serial())
    assert statuses(again) == {**dict.fromkeys(ALL, "skipped"), CASTLE_ROCK: "failed"}
    kernels.close_all()


def test_timeouts_per_cell_and_wall_clock(sample_store, sample_tables, tmp_path):
    """Castle Rock: one cell sleeps past --timeout (nbclient stops it). The COE: every cell is short but
    together they pass timeout + grace (the watchdog kills the kernel). The others are unaffected."""
    s = settings(tmp_path, sample_store, sample_tables, FIXTURES / "sleeps_past_timeout.ipynb", timeout=3,
                 grace=0.5)
    result = runner.run(s, backends.Serial())
    by = {r.cds: r for r in result.records}
    assert {c: r.status for c, r in by.items()} == {COE: "failed", CASTLE_ROCK: "failed", DNCUSD: "ok", CHARTER: "ok"}
    assert by[CASTLE_ROCK].error == "Timeout: a cell ran longer than 3 s" and by[CASTLE_ROCK].failed_cell == 3
    assert 3 < by[CASTLE_ROCK].duration < 10
    assert by[COE].error == "Timeout: the LEA ran longer than 3.5 s (wall clock); its kernel was killed"
    assert by[COE].failed_cell in (5, 6)  # the second or (usually) third 1.5 s cell
    assert 3.5 < by[COE].duration < 10
    kernels.close_all()


def test_killed_worker_costs_only_its_lea(sample_store, sample_tables, tmp_path, monkeypatch):
    """…and leaves no kernel socket folder behind, also the killed worker's (the supervisor removes them)."""
    temp = Path(tempfile.mkdtemp(dir="/tmp"))  # short enough for socket paths
    monkeypatch.setenv("TMPDIR", str(temp))  # the spawned workers' temp folder
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    s = settings(tmp_path, sample_store, sample_tables, FIXTURES / "kills_its_worker_for_castle_rock.ipynb")
    result = runner.run(s, backends.Processes(2))
    assert statuses(result) == {**dict.fromkeys(ALL, "ok"), CASTLE_ROCK: "failed"}
    [failed] = result.failed
    assert failed.error == "WorkerDied: the worker process running this LEA died (SIGKILL)"
    assert not list((tmp_path / "book").rglob(".*.out"))
    left = [p.name for p in temp.rglob("caaspp-kernel*")]
    shutil.rmtree(temp)
    assert left == []


def test_unchanged_leas_are_skipped_and_changed_ones_rerun(sample_store, sample_tables, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(sample_tables, tables)
    root = tmp_path / "project"
    s = settings(root, sample_store, tables)
    first = runner.run(s, backends.Serial())
    assert statuses(first) == dict.fromkeys(ALL, "ok")
    before = {p: p.stat().st_mtime_ns for p in (root / "book" / "leas").rglob("*") if p.is_file()}
    slices = {cds: root / "data" / "interim" / "lea_slices" / "08" / f"{cds}-2022" / "rows.arrow" for cds in ALL}
    written = {cds: path.stat().st_mtime_ns for cds, path in slices.items()}
    manifest_before = stable(first.manifest)
    seals = {cds: json.loads(path.with_name(slice_files.SEAL).read_text())["sha256"] for cds, path in slices.items()}
    assert seals == {r.cds: r.data_sha256 for r in first.records}  # the planner seals what it hashed

    second = runner.run(s, backends.Serial())
    assert statuses(second) == dict.fromkeys(ALL, "skipped")
    assert {p: p.stat().st_mtime_ns for p in before if p.name != "manifest.json"} == \
        {p: t for p, t in before.items() if p.name != "manifest.json"}
    assert [dict(r, status="ok") for r in stable(second.manifest)] == manifest_before
    assert {cds: path.stat().st_mtime_ns for cds, path in slices.items()} == written  # no slice written again

    # a correction to one district's own rows: only that LEA runs again (its charter shares the
    # district code but not those rows, so its exact slice hash is unchanged and it is skipped)
    levels = tables / "levels.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN cds = '{DNCUSD}' AND grade = 13 AND test_id = 1 "
                    f"THEN entity_name || ' (corrected)' ELSE entity_name END AS entity_name) "
                    f"FROM read_parquet('{levels}')) TO '{tmp_path / 'levels.parquet'}' (FORMAT parquet)")
    shutil.move(tmp_path / "levels.parquet", levels)
    third = runner.run(s, backends.Serial())
    assert statuses(third) == {**dict.fromkeys(ALL, "skipped"), DNCUSD: "ok"}
    assert third.records[2].data_sha256 != first.records[2].data_sha256
    rewritten = {cds for cds, path in slices.items() if path.stat().st_mtime_ns != written[cds]}
    assert rewritten == {DNCUSD, CHARTER}  # the slices whose data key changed (the charter's bytes did not)

    shutil.rmtree(slices[COE].parent)  # a slice lost: written again, and its unchanged page still skipped
    assert statuses(runner.run(s, backends.Serial())) == dict.fromkeys(ALL, "skipped")
    assert slices[COE].is_file()

    changed = outputs(root)
    forced = runner.run(dataclasses.replace(s, force=True), backends.Serial())
    assert statuses(forced) == dict.fromkeys(ALL, "ok")
    assert outputs(root) == changed
    unchanged = [p for p in before if p.name != "manifest.json" and DNCUSD not in p.name]
    assert all(p.stat().st_mtime_ns == before[p] for p in unchanged)  # same bytes: not rewritten
    kernels.close_all()


def rewrite(table: Path, select: str, scratch: Path) -> None:
    """Replace a tables-stage Parquet file by `select` over it (FROM t)."""
    with duckdb.connect() as con:
        con.execute(f"COPY ({select.replace('FROM t', f'FROM read_parquet({str(table)!r})')}) TO '{scratch}' "
                    "(FORMAT parquet)")
    shutil.move(scratch, table)


def test_a_page_keeps_only_this_runs_csvs_and_a_renamed_lea_leaves_no_old_page(sample_store, sample_tables,
                                                                             tmp_path):
    """The page's download zips every `<stem>.*.csv` beside it (site.book.offer_csvs): a CSV of an earlier
    run that this one did not write (the LEA's impact rows withdrawn) would be offered with the new page."""
    tables = tmp_path / "tables"
    shutil.copytree(sample_tables, tables)
    root = tmp_path / "project"
    s = settings(root, sample_store, tables)
    assert statuses(runner.run(s, backends.Serial())) == dict.fromkeys(ALL, "ok")
    folder = root / "book" / "leas" / "08"
    stem = f"{DNCUSD}-del-norte-county-unified"
    before = outputs(root)
    assert f"08/{stem}.impact.csv" in before

    rewrite(tables / "impact.parquet", f"SELECT * FROM t WHERE cds IS DISTINCT FROM '{DNCUSD}'", tmp_path / "i.pq")
    assert statuses(runner.run(s, backends.Serial())) == {**dict.fromkeys(ALL, "skipped"), DNCUSD: "ok"}
    after = outputs(root)
    assert set(before) - set(after) == {f"08/{stem}.impact.csv"} and set(after) <= set(before)
    assert {k: v for k, v in after.items() if DNCUSD not in k} == {k: v for k, v in before.items() if DNCUSD not in k}

    rewrite(tables / "levels.parquet", f"SELECT * REPLACE (CASE WHEN cds = '{DNCUSD}' THEN 'Del Norte Renamed' "
            "ELSE entity_name END AS entity_name) FROM t", tmp_path / "l.pq")
    (folder / f".{stem}.failed.ipynb").write_text("{}")  # a partial notebook of an earlier failed run
    (folder / f"{stem}-notes.csv").write_text("not the tool's\n")  # another stem: not the LEA's CSV
    assert statuses(runner.run(s, backends.Serial())) == {**dict.fromkeys(ALL, "skipped"), DNCUSD: "ok"}
    renamed = outputs(root)
    moved = {k.replace("del-norte-county-unified", "del-norte-renamed") for k in after if DNCUSD in k}
    assert {k for k in renamed if DNCUSD in k} == moved | {f"08/{stem}-notes.csv"}
    assert not (folder / f".{stem}.failed.ipynb").exists()
    assert [r.notebook for r in manifest.read(s.manifest) if r.cds == DNCUSD] == \
        [f"book/leas/08/{DNCUSD}-del-norte-renamed.ipynb"]
    kernels.close_all()


def test_an_old_page_goes_only_when_the_new_one_is_written_and_only_from_the_lea_folders(tmp_path):
    """drop_moved trusts no manifest path: a record pointing elsewhere, or at another LEA's page, is left; a
    failed run keeps the old page (which the book does not show)."""
    s = settings(tmp_path, tmp_path / "store", tmp_path / "tables")
    elsewhere, other = tmp_path / "notes" / f"{DNCUSD}-x.ipynb", s.leas_dir / "08" / f"{COE}-coe.ipynb"
    old = s.leas_dir / "08" / f"{DNCUSD}-old.ipynb"
    for path in (elsewhere, other, old, old.with_suffix(".summary.csv")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    rec = manifest.LeaRecord(cds=DNCUSD, year=2022, name="D", county_code="08", county_name="Del Norte",
                             type_id=6, notebook=f"book/leas/08/{DNCUSD}-d.ipynb", data_sha256="", status="ok",
                             duration=1.0)
    for path in (elsewhere, other):
        runner.drop_moved(rec, dataclasses.replace(rec, notebook=path.relative_to(tmp_path).as_posix()), s)
        assert path.exists()
    was = dataclasses.replace(rec, notebook=old.relative_to(tmp_path).as_posix())
    runner.drop_moved(dataclasses.replace(rec, status="failed"), was, s)
    assert old.exists() and old.with_suffix(".summary.csv").exists()
    runner.drop_moved(rec, was, s)
    assert not old.exists() and not old.with_suffix(".summary.csv").exists()


def test_partial_run_keeps_every_lea_in_the_manifest(serial_run, sample_store, sample_tables):
    root, _ = serial_run
    s = settings(root, sample_store, sample_tables, only=(DNCUSD,), force=True)
    result = runner.run(s, backends.Serial())
    assert statuses(result) == {DNCUSD: "ok"}
    assert [r.cds for r in manifest.read(s.manifest)] == ALL
    kernels.close_all()


def test_unknown_lea_is_refused(sample_store, sample_tables, tmp_path):
    with pytest.raises(KeyError, match="99999999999999"):
        runner.Plan(settings(tmp_path, sample_store, sample_tables, only=("99999999999999",)))


def test_cli_exits_nonzero_on_failures_unless_allowed(sample_store, sample_tables, tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "notebooks").mkdir()
    shutil.copy(FIXTURES / "fails_for_castle_rock.ipynb", tmp_path / "notebooks" / "lea_report.ipynb")
    shutil.copytree(ROOT / "params", tmp_path / "params")
    env = {**os.environ, "CAASPP_BOOK_ROOT": str(tmp_path), "PYTHONPATH": str(ROOT / "src")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "helpers.cli", "run", "--store", str(sample_store), "--tables",
                               str(sample_tables), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)

    first = cli("--jobs", "2")
    assert first.returncode == 1, first.stderr
    assert f"failed {CASTLE_ROCK} Castle Rock: ValueError: deliberate failure for {CASTLE_ROCK} (In [3])" in first.stderr
    assert "3 ok, 1 failed, 0 skipped" in first.stderr  # the summary table
    again = cli("--backend", "serial", "--allow-failures", "1")
    assert again.returncode == 0, again.stderr
    assert "0 ok, 1 failed, 3 skipped" in again.stderr


def test_paths_relative_to_the_root_resolve_each_folder_once_as_rel_does(tmp_path):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    (root / "book" / "leas" / "19").mkdir(parents=True)
    (elsewhere / "07").mkdir(parents=True)
    (root / "book" / "leas" / "07").symlink_to(elsewhere / "07", target_is_directory=True)
    (root / "book" / "leas" / "01").symlink_to(root / "book" / "leas" / "19", target_is_directory=True)
    (root / "book" / "leas" / "19" / "linked.ipynb").symlink_to(root / "book" / "x.ipynb")
    folders: dict = {}
    for county, name in [("19", "a.ipynb"), ("19", "b.ipynb"), ("07", "c.ipynb"), ("01", "d.ipynb"),
                         ("19", "linked.ipynb")]:
        path = root / "book" / "leas" / county / name
        assert runner._rel_in(path, root, folders) == runner.rel(path, root)
    assert runner._rel_in(root / "book" / "leas" / "01" / "d.ipynb", root, folders) == "book/leas/19/d.ipynb"
    assert runner._rel_in(root / "book" / "leas" / "19" / "linked.ipynb", root, folders) == "book/x.ipynb"
    assert runner._rel_in(root / "top.ipynb", root, folders) == "top.ipynb"
    assert len(folders) == 4  # 19, 07, 01 and the root, each resolved once


def test_a_stored_record_is_every_field_but_the_phases_in_order():
    job = runner.LeaJob(COE, 2022, "Colusa COE", "08", "Colusa", 6, "book/leas/08/x.ipynb", "ab" * 32, "data/slices/08/x",
                        input_hash="cd" * 32, data_key="ef" * 32)
    rec = manifest.record(job, "failed", 1.234, "KeyError: 'x'", 3, phases={"cells": [0.1]})
    expected = dataclasses.asdict(rec)
    del expected["phases"]
    assert list(rec.to_json().items()) == list(expected.items())
