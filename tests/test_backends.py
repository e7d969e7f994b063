"""Backends without notebooks: a worker killed mid-task, a task past its deadline and a raising task cost
only their own task; a worker prepares before the first task is known, one never used is not waited for, and
used ones leave without the interpreter's teardown; a kernel start that loses a port race is retried; and a
runner's kernel, whose streams skip empty flushes, gives a stock kernel's outputs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager

import nbformat
import papermill as pm

from helpers.run import backends, execute, kernels

from .conftest import ROOT


def task(x: int) -> int:
    """Squares x, except: 3 SIGKILLs its worker, 5 hangs, 7 raises."""
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    if x == 5:
        time.sleep(120)
    if x == 7:
        raise ValueError("seven")
    return x * x


@pytest.mark.slow
def test_processes_lose_only_the_task_whose_worker_died():
    start = time.monotonic()
    results = dict(backends.Processes(2, deadline=4).map(task, range(10)))
    assert {x: r for x, r in results.items() if not isinstance(r, backends.Lost)} == \
        {x: x * x for x in (0, 1, 2, 4, 6, 8, 9)}
    assert results[3].reason == "WorkerDied: the worker process running this LEA died (SIGKILL)"
    assert results[5].reason == "Timeout: the worker was killed after 4 s" and results[5].seconds >= 4
    assert results[7] == backends.Lost("ValueError: seven")
    assert time.monotonic() - start < 60


def mark(folder: str, hang: float = 0) -> None:
    """A worker's `prepare`: leaves a file named after its process, then takes `hang` seconds."""
    (Path(folder) / f"{os.getpid()}.prepared").touch()
    time.sleep(hang)


def prepared(folder: str, x: int) -> tuple[int, bool]:
    return x, (Path(folder) / f"{os.getpid()}.prepared").exists()


def after_a_worker_prepared(folder: Path, n: int):
    """Tasks from a planner that yields nothing until a worker has prepared (it has to have started first)."""
    deadline = time.monotonic() + 60
    while not list(folder.glob("*.prepared")):
        assert time.monotonic() < deadline, "no worker prepared before the first task was known"
        time.sleep(0.05)
    yield from range(n)


@pytest.mark.slow
def test_a_worker_prepares_before_the_first_task_is_known(tmp_path):
    results = dict(backends.Processes(2).map(partial(prepared, str(tmp_path)), after_a_worker_prepared(tmp_path, 6),
                                             prepare=partial(mark, str(tmp_path))))
    assert results == {x: (x, True) for x in range(6)}  # each worker prepared before its first task


def done(folder: str, x: int) -> int:
    (Path(folder) / f"{x}.done").touch()
    return x


def planning_on_while_the_first_task_runs(folder: Path, n: int):
    """A planner that finds its first task once a worker is up, then has more to plan: the first task has to
    run meanwhile (a warm run's one changed LEA, found in county 19 of 58)."""
    deadline = time.monotonic() + 60
    while not list(folder.glob("*.prepared")):
        assert time.monotonic() < deadline, "no worker prepared before the first task was known"
        time.sleep(0.05)
    yield 0
    while not (folder / "0.done").exists():
        assert time.monotonic() < deadline, "the first task waited for the planner to find more"
        time.sleep(0.05)
    yield from range(1, n)


@pytest.mark.slow
def test_the_first_task_runs_while_planning_goes_on(tmp_path):
    results = dict(backends.Processes(2).map(partial(done, str(tmp_path)),
                                             planning_on_while_the_first_task_runs(tmp_path, 4),
                                             prepare=partial(mark, str(tmp_path))))
    assert results == {x: x for x in range(4)}


@pytest.mark.slow
def test_a_worker_that_got_no_task_is_killed_not_waited_for(tmp_path):
    """A worker still preparing when the tasks are done (none at all here) is killed; a gentle close would wait
    10 s for it, then kill it."""
    start = time.monotonic()
    assert list(backends.Processes(2).map(partial(prepared, str(tmp_path)), iter(()),
                                          prepare=partial(mark, str(tmp_path), hang=300))) == []
    assert time.monotonic() - start < 8


def with_teardown(folder: str, x: int) -> int:
    """A task that leaves work for its worker's interpreter teardown (an atexit handler writing a file)."""
    import atexit

    atexit.register((Path(folder) / f"{os.getpid()}.teardown").touch)
    return x


@pytest.mark.slow
def test_workers_leave_without_the_interpreters_teardown(tmp_path):
    """At the end each worker closes its kernel and leaves as a forked child does (`os._exit`): the teardown of
    a spawned interpreter (about 0.4 s a worker, once waited for one after the other) does not run."""
    results = dict(backends.Processes(2).map(partial(with_teardown, str(tmp_path)), range(6)))
    assert results == {x: x for x in range(6)}
    assert list(tmp_path.glob("*.teardown")) == []


def test_serial_runs_in_order():
    assert list(backends.Serial().map(lambda x: x + 1, [1, 2])) == [(1, 2), (2, 3)]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown backend 'cloud'"):
        backends.make("cloud", 2)


@pytest.mark.slow
def test_kernel_start_is_retried_after_a_port_collision():
    """papermill#511: two kernels pick the same free port; the loser dies at start. Here the first
    kernel's shell port is already taken (TCP transport), so its start fails and the retry succeeds."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    made: list[AsyncKernelManager] = []

    def manager() -> AsyncKernelManager:
        km = AsyncKernelManager(kernel_name="python3", cache_ports=False)
        if not made:
            km.shell_port = taken.getsockname()[1]
        made.append(km)
        return km

    kernel = kernels.Kernel(ROOT, manager=manager, start_timeout=15).start()
    try:
        assert len(made) == 2 and len(kernel.start_failures) == 1
        assert kernel.alive()
    finally:
        kernel.shutdown()
        taken.close()


def test_kernel_sockets_go_where_their_path_fits():
    """A Unix socket's path has about 100 bytes: a long temp folder gives way to /tmp, not a failed start."""
    assert kernels.fitting("/tmp/run") == "/tmp/run"
    assert kernels.fitting("/tmp/" + "d" * 70) == "/tmp"
    assert kernels.fitting("/tmp/" + "d" * 40) == "/tmp/" + "d" * 40
    assert kernels.fitting("/tmp/" + "d" * 40, extra=30) == "/tmp"


def test_a_kernels_connection_file_is_in_its_socket_folder():
    """Removed with the folder, also when the worker was killed (not left in the system's temp folder)."""
    folder = Path(tempfile.mkdtemp(prefix="s-", dir="/tmp"))  # short: a socket path must fit
    kernels.keep_sockets_in(str(folder))
    try:
        km = kernels.ipc_manager("python3")
        assert Path(km.connection_file).parent == Path(km.ip).parent
        assert Path(km.ip).parent.parent == folder
    finally:
        kernels.keep_sockets_in(None)
        shutil.rmtree(folder)


def test_a_kernel_is_prepared_with_the_notebooks_top_level_imports(tmp_path):
    assert execute.imports_of(ROOT / "notebooks" / "lea_report.ipynb").splitlines() == [
        "from IPython.display import Markdown, display", "from helpers.ingest import slice_files",
        "from helpers.report import charts, outputs", "from helpers.report import page_tables as report"]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("import not_code"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport skipped_cell_with_a_magic"),
        nbformat.v4.new_code_cell("import json, os.path as p\nx = 1\ndef f():\n    import inside_a_function"),
        nbformat.v4.new_code_cell("if x:\n    import under_a_condition\nfrom . import relative")])
    nbformat.write(nb, tmp_path / "nb.ipynb")
    assert execute.imports_of(tmp_path / "nb.ipynb") == "import json, os.path as p\nfrom . import relative"


def test_a_reset_kernel_has_pandas_defaults_but_text_in_python_objects():
    kernel = kernels.Kernel(ROOT, start_timeout=30).start()
    try:
        kernel.preload("import pandas as pd\npd.set_option('display.max_rows', 5)")
        kernel.ready()  # a reset
        kernel.preload("import numpy as np, pandas as pd\nassert pd.get_option('display.max_rows') == 60\n"
                       "assert pd.get_option('mode.string_storage') == 'python'\n"
                       "assert pd.Series(['a']).dtype == pd.StringDtype('python', na_value=np.nan)")
        with pytest.raises(RuntimeError, match="kernel set-up code failed"):
            kernel.preload("assert pd.get_option('mode.string_storage') == 'pyarrow'")
    finally:
        kernel.shutdown()


STREAM_CELLS = [
    'print("a", end="")\nprint("b")',
    'import sys\nsys.stderr.write("to stderr\\n")\nprint("to stdout")\nsys.stderr.flush()\nsys.stdout.flush()',
    'from IPython.display import Markdown, display\nprint("before")\ndisplay(Markdown("**shown**"))\nprint("after")',
    'sys.stdout.flush()\ndisplay(Markdown("nothing printed"))\nsys.stderr.flush()',
    'import threading\nt = threading.Thread(target=lambda: print("from a thread"))\n'
    't.start()\nt.join()\nprint("joined")',
    'for i in range(3):\n    print(i)\n    sys.stdout.flush()',
    '1 + 1',
]


def notebook_and_stock_run(path: Path, cells: list[str]):
    """A notebook of these code cells written to `path`, and its run by papermill on a stock kernel."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return pm.execute_notebook(str(path), None, kernel_name="python3", progress_bar=False, cwd=str(ROOT))


def test_a_runners_kernel_skips_empty_flushes_and_gives_a_stock_kernels_outputs(tmp_path):
    stock = notebook_and_stock_run(tmp_path / "streams.ipynb", STREAM_CELLS)
    kernel = kernels.Kernel(ROOT, start_timeout=30).start()
    try:
        kernel.preload("from ipykernel.iostream import OutStream\n"
                       "assert OutStream.flush.__name__ == 'quiet_flush' and OutStream._caaspp_flush")
        kernel.ready()
        ours = kernel.execute(tmp_path / "streams.ipynb", {}, 60)
    finally:
        kernel.shutdown()
    outputs = [[dict(o) for o in cell.outputs] for cell in ours.cells]
    assert outputs == [[dict(o) for o in cell.outputs] for cell in stock.cells]
    assert outputs[0] == [{"output_type": "stream", "name": "stdout", "text": "ab\n"}]
    assert [o.get("text") for o in outputs[2]] == ["before\n", None, "after\n"]
    assert [o["output_type"] for o in outputs[3]] == ["display_data"]
    assert outputs[6][0]["data"] == {"text/plain": "2"}


SYNTAX_CELLS = [  # IPython's own syntax, top-level await, and automagic, which depends on the namespace
    "pwd",
    "pwd = 5",
    "pwd",
    "!echo shell",
    "import asyncio\nawait asyncio.sleep(0)\n'awaited'",
    "%precision 3\n1/3",
]


def test_a_runners_kernel_caches_what_it_derives_from_cell_text_and_gives_a_stock_kernels_outputs(tmp_path):
    """The static transformations and the top-level-await check are kept per cell text; the namespace-dependent
    prefilter is not (`pwd` is a magic until a variable takes the name). ipykernel's logger builds no debug
    records its handler would drop."""
    stock = notebook_and_stock_run(tmp_path / "syntax.ipynb", SYNTAX_CELLS)
    kernel = kernels.Kernel(ROOT, start_timeout=30).start()
    runs = []
    try:
        kernel.preload("import logging\nip = get_ipython()\n"
                       "assert ip.input_transformer_manager.transform_cell.cache_info()\n"
                       "assert ip.kernel.log.level == logging.WARNING == ip.kernel.log.handlers[0].level")
        for _ in range(2):  # the second run finds every cell's text in the caches
            kernel.ready()
            runs.append(kernel.execute(tmp_path / "syntax.ipynb", {}, 60))
    finally:
        kernel.shutdown()
    expected = [[dict(o) for o in cell.outputs] for cell in stock.cells]
    for ours in runs:
        assert [[dict(o) for o in cell.outputs] for cell in ours.cells] == expected
    assert expected[0][0]["data"]["text/plain"] == repr(str(ROOT))
    assert [expected[2][0]["data"]["text/plain"], expected[3][0]["text"]] == ["5", "shell\r\n"]  # a pty's line end
    assert [expected[4][0]["data"]["text/plain"], expected[5][0]["data"]["text/plain"]] == ["'awaited'", "0.333"]


def test_a_warning_shown_in_one_notebook_is_shown_again_in_the_next(tmp_path):
    """Python shows a warning once per place; a reset kernel's next notebook is a new place."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import warnings\nfrom helpers.core import text\n"
        "warnings.warn_explicit('seen once a place', UserWarning, 'text.py', 1,\n"
        "                      registry=text.__dict__.setdefault('__warningregistry__', {}))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "warns.ipynb")
    kernel = kernels.Kernel(ROOT, start_timeout=30).start()
    try:
        shown = []
        for _ in range(2):
            kernel.ready()
            shown.append([o.get("text", "") for o in kernel.execute(tmp_path / "warns.ipynb", {}, 60).cells[0].outputs])
    finally:
        kernel.shutdown()
    assert shown == [["text.py:1: UserWarning: seen once a place\n"]] * 2


def test_close_all_closes_the_event_loop_of_every_thread_that_ran_a_kernel_but_a_running_one():
    """A loop left open outlives its thread (a Dask worker's) and is finalized by the garbage collector inside
    whatever runs then; under pytest that once broke an `ast.parse` in the next test (CPython gh-106905)."""
    import asyncio

    from jupyter_core.utils import run_sync

    made, running, stop = [], [], threading.Event()

    def worker() -> None:
        kernels.own_event_loop()
        made.append(asyncio.get_event_loop())

    def busy() -> None:  # a loop still running when close_all comes
        kernels.own_event_loop()
        running.append(asyncio.get_event_loop())
        running[0].run_until_complete(asyncio.to_thread(stop.wait))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    kernels.own_event_loop()
    made.append(asyncio.get_event_loop())
    threading.Thread(target=busy, daemon=True).start()
    deadline = time.monotonic() + 30  # a thread that failed to start its loop fails the test, not hangs it
    while not (running and running[0].is_running()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        kernels.close_all()
    finally:
        stop.set()
    assert [loop.is_closed() for loop in made] == [True] * 4 and not running[0].is_closed()
    with pytest.raises(RuntimeError, match="no current event loop"):
        asyncio.get_event_loop()  # this thread is left without one, as asyncio.run leaves it

    async def answer() -> int:
        return 42

    assert run_sync(answer)() == 42  # jupyter_core makes a new loop for the next kernel
    asyncio.get_event_loop().close()
    asyncio.set_event_loop(None)
    while running[0].is_running():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    kernels.close_all()
    assert running[0].is_closed() and kernels._loops == []


def test_a_kernel_call_in_a_thread_whose_loop_runs_leaves_that_loop_the_threads_own():
    """`Client.run(close_all)` runs in a Dask worker's loop thread: no loop of ours is made or set there."""
    import asyncio

    async def answer() -> int:
        return 42

    async def in_a_running_loop() -> tuple:
        made = list(kernels._loops)
        return kernels._sync(answer)(), kernels._loops == made, asyncio.get_event_loop() is asyncio.get_running_loop()

    assert asyncio.run(in_a_running_loop()) == (42, True, True)
