"""`caaspp-book run --backend dask --scheduler ADDRESS` on a cluster started the way an operator starts one:
`dask scheduler` and two `dask worker` processes from the command line (loopback only, torn down by the
test). A worker killed mid-run fails only the LEAs it held; a rerun completes them and skips the others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

from .site_build import cli, scratch_project

pytestmark = pytest.mark.slow
CASTLE_ROCK = "08100820830059"
DASK = Path(sys.executable).with_name("dask")


def operator_env(root: Path) -> dict[str, str]:
    """What README tells an operator to set on the scheduler and workers."""
    src = Path(__file__).resolve().parents[1] / "src"
    return {**os.environ, "PYTHONPATH": str(src), "CAASPP_BOOK_ROOT": str(root),
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}


def wait_for(path: Path, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < end, f"{path} did not appear"
        time.sleep(0.2)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    (tmp_path / "project").mkdir()
    root = scratch_project(tmp_path / "project")
    env, info = operator_env(root), tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        wait_for(info)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [str(DASK), "worker", "--scheduler-file", str(info), "--host", "127.0.0.1", "--nthreads", "1",
                 "--no-dashboard", "--death-timeout", "60", "--memory-limit", "1GiB"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        address = json.loads(info.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        yield root, address
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def kill_once(root: Path) -> Path:
    """The LEA notebook, with a first cell that kills its dask worker for Castle Rock while a marker exists."""
    marker = root / "kill-the-worker"
    marker.write_text("once", encoding="utf-8")
    path = root / "notebooks" / "lea_report.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = ("import os, signal, pathlib\n"
            f"if cds == {CASTLE_ROCK!r} and pathlib.Path({str(marker)!r}).exists():\n"
            f"    pathlib.Path({str(marker)!r}).unlink()\n"
            "    os.kill(os.getppid(), signal.SIGKILL)  # the kernel's parent: the dask worker process\n")
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, path)
    return marker


def records(root: Path) -> dict[str, dict]:
    return {r["cds"]: r for r in json.loads((root / "book" / "leas" / "manifest.json").read_text())}


def test_a_killed_worker_fails_only_its_leas_and_a_rerun_completes_them(cluster, sample_store, sample_tables):
    root, address = cluster
    marker = kill_once(root)
    args = ("run", "--backend", "dask", "--scheduler", address, "--store", str(sample_store),
            "--tables", str(sample_tables))
    first = cli(root, *args)
    assert first.returncode == 1, first.stderr
    assert not marker.exists()
    after = records(root)
    failed = {cds for cds, r in after.items() if r["status"] == "failed"}
    assert CASTLE_ROCK in failed and len(failed) < len(after)  # the LEAs the killed worker held, no others
    assert all(after[cds]["error"].startswith("WorkerDied: ") for cds in failed)
    assert {r["status"] for cds, r in after.items() if cds not in failed} == {"ok"}

    second = cli(root, *args)
    assert second.returncode == 0, second.stderr
    again = records(root)
    assert {cds: r["status"] for cds, r in again.items()} == \
        {cds: "ok" if cds in failed else "skipped" for cds in after}
