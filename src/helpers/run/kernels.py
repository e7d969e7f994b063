"""IPython kernels for the runner: started with retries, reused with a cheap reset, killed on a deadline.

A kernel start and the imports of the LEA notebook cost more than its analysis (bench/run.py), so each
worker keeps one kernel and resets it between notebooks: a new IPython session (empty namespace,
execution count 1) in the start folder, with the start-up `sys.path`, environment and warning filters,
Matplotlib's rc file defaults, pyplot figures closed and pandas options at their defaults but one: text
columns are kept in Python objects (`mode.string_storage`), not in Arrow arrays, as the page's many small
frames are cut, joined and formatted about a fifth faster so (docs/benchmarks.md, run Q). Imported modules
stay imported (and out of the garbage collector's way: `gc.freeze`), which is the saving. tests/test_runner.py
checks that notebooks and CSVs from a reused kernel are byte-identical to those of a fresh kernel with
pandas' defaults; `caaspp-book run --fresh-kernels` opts out.

A kernel's stdout and stderr flush only when something was written since their last flush. ipykernel flushes
both streams about seven times a cell and twice a `display` call, 90 times an LEA page, and each flush, even of
nothing, hands a callback to the IOPub thread and waits for it: 16–29 ms of CPU an LEA and more of wall time,
for streams our notebooks rarely write (docs/benchmarks.md, run W). An empty flush skipped leaves every output
in place and in order: all IOPub messages go through the one IOPub thread in the order they were sent, and the
client reads a cell's outputs until the kernel's "idle", sent after them (tests/test_backends.py compares the
outputs of printing, partly written and displaying cells with a stock kernel's).

A kernel also keeps what IPython derives from a cell's text alone: its static input transformations (magics,
`!` and `?` syntax; `TransformerManager.transform_cell`, not the prefilter, which reads the namespace) and whether
it awaits at top level (`_should_be_async`). Every LEA runs the same cells, and tokenizing and compiling them
again was about a tenth of a reused kernel's CPU on a notebook of small cells. ipykernel's own logger is
set to DEBUG while its one handler shows WARNING and up, so each of its debug calls built a log record for
nothing; the logger now starts at its handlers' least level (docs/benchmarks.md, run X).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

log = logging.getLogger(__name__)
ENGINE = "caaspp-kernel"

# Run silently (no history, no execution count) in the kernel before each notebook.
_SNAPSHOT = """
import os as _os, sys as _sys, warnings as _warnings
get_ipython()._caaspp_start = {"cwd": _os.getcwd(), "path": list(_sys.path), "environ": dict(_os.environ),
                               "filters": list(_warnings.filters)}
del _os, _sys, _warnings

def _caaspp_quiet_flush():
    from ipykernel.iostream import OutStream
    if getattr(OutStream, "_caaspp_flush", None) is not None:
        return
    flush = OutStream._caaspp_flush = OutStream.flush

    def quiet_flush(self):  # see helpers.run.kernels: no round trip to the IOPub thread for nothing
        if (getattr(self, "_buffers", True) or getattr(self, "_flush_pending", True)
                or getattr(self, "_subprocess_flush_pending", True) or getattr(self, "echo", None) is not None):
            flush(self)
    OutStream.flush = quiet_flush
_caaspp_quiet_flush()
del _caaspp_quiet_flush

def _caaspp_text_caches(ip):
    import functools, logging
    from IPython.core import interactiveshell
    manager = ip.input_transformer_manager  # see helpers.run.kernels: the same text, the same result
    manager.transform_cell = functools.lru_cache(maxsize=256)(manager.transform_cell)
    interactiveshell._should_be_async = functools.lru_cache(maxsize=256)(interactiveshell._should_be_async)
    log = ip.kernel.log
    if not log.propagate and log.handlers:  # no record below its handlers' least level is shown anywhere
        log.setLevel(max(log.level, min(h.level for h in log.handlers)))
_caaspp_text_caches(get_ipython())
del _caaspp_text_caches
"""
_RESET = """
def _caaspp_reset(ip):
    import gc, os, sys, warnings
    start = ip._caaspp_start
    ip.reset(new_session=True)
    os.chdir(start["cwd"])
    sys.path[:] = start["path"]
    os.environ.clear()
    os.environ.update(start["environ"])
    warnings.filters[:] = start["filters"]
    warnings._filters_mutated()  # every module's __warningregistry__ is stale now: cleared at its next warning
    warnings.onceregistry.clear()
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].rc_file_defaults()
    if "pandas" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sys.modules["pandas"].reset_option("all")
            sys.modules["pandas"].set_option("mode.string_storage", "python")  # see the module docstring
    gc.freeze()  # what survives a reset (modules, caches) is left out of later collections: ip.reset's own
                 # full collection then costs milliseconds, not a tenth of a second
_caaspp_reset(get_ipython())
"""


class KernelStartError(RuntimeError):
    """The kernel did not start after every attempt."""


class KernelDied(RuntimeError):
    """The kernel died or was killed while a notebook ran."""


# Where a kernel's socket folder goes when the process running the kernel is not the one that cleans up after a
# killed worker: the supervisor's run folder (backends.Processes), else a Dask worker's own local directory (Dask
# removes a dead worker's on the next start), else the system's temp folder.
_sockets_in: str | None = None
SOCKET_PATH_MAX = 100  # bytes of a Unix socket's path (107 on Linux, 103 on macOS)
SOCKET_NAME = len("/caaspp-kernel-12345678/kernel-12")


def keep_sockets_in(folder: str | None) -> None:
    global _sockets_in
    _sockets_in = folder


def fitting(folder: str | None, extra: int = 0) -> str:
    """`folder` (default: the system's temp folder) if a kernel's sockets, `extra` bytes deeper, fit a socket
    path; else /tmp."""
    folder = folder or tempfile.gettempdir()
    return folder if len(folder) + extra + SOCKET_NAME <= SOCKET_PATH_MAX else "/tmp"


def _dask_worker_folder() -> str | None:
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker().local_directory
    except ValueError:  # not in a Dask worker
        return None


def ipc_manager(kernel_name: str) -> AsyncKernelManager:
    """A kernel manager on Unix-domain sockets in a private folder: no TCP ports to race for (papermill#511)
    and no unencrypted-TCP warning."""
    folder = tempfile.mkdtemp(prefix="caaspp-kernel-", dir=fitting(_sockets_in or _dask_worker_folder()))
    return AsyncKernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(folder, "kernel"),
                              connection_file=os.path.join(folder, "kernel.json"))  # gone with the folder


class Kernel:
    """One IPython kernel in `cwd`; `start` retries a failed start (a port race, papermill#511, if a TCP
    manager is used; any other start failure too)."""

    def __init__(self, cwd: Path, kernel_name: str = "python3", start_timeout: float = 60, attempts: int = 3,
                 manager: Callable[[], AsyncKernelManager] | None = None) -> None:
        self.cwd, self.kernel_name, self.start_timeout, self.attempts = Path(cwd), kernel_name, start_timeout, attempts
        self._manager = manager or (lambda: ipc_manager(kernel_name))
        self.km: AsyncKernelManager | None = None
        self.kc: Any = None
        self.notebooks = 0  # executed since the start
        self.start_failures: list[str] = []  # errors of failed start attempts (retried)
        self.last_nb: Any = None  # the notebook of the last execution, also when it raised
        self.killed = False

    @property
    def pid(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return process.pid if process is not None else None

    def start(self) -> "Kernel":
        for attempt in range(1, self.attempts + 1):
            if self.killed:
                raise KernelStartError("kernel start cancelled (the LEA's time is up)")
            try:
                _sync(self._start)()
                return self
            except Exception as exc:  # noqa: BLE001 - any start failure is retried with new ports
                self.start_failures.append(f"{type(exc).__name__}: {exc}")
                log.warning("kernel start failed (attempt %d of %d): %s", attempt, self.attempts, exc)
                self.shutdown()
        raise KernelStartError(f"kernel did not start in {self.attempts} attempts: {self.start_failures[-1]}")

    def ready(self) -> "Kernel":
        """Started if new, reset if it ran a notebook before (restarted if the reset fails)."""
        if self.km is None:
            return self.start()
        if self.notebooks:
            try:
                self.reset()
            except Exception as exc:  # noqa: BLE001 - a kernel that cannot be reset is replaced
                log.warning("kernel reset failed, starting a new one: %s", exc)
                self.shutdown()
                return self.start()
        return self

    async def _start(self) -> None:
        self.km = self._manager()
        await self.km.start_kernel(cwd=str(self.cwd), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=self.start_timeout)
        await self._silent(_SNAPSHOT)
        self.notebooks = 0

    async def _silent(self, code: str) -> None:
        reply = await self.kc.execute_interactive(code, silent=True, store_history=False, timeout=self.start_timeout)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel set-up code failed: {reply['content'].get('evalue', '')}")

    def preload(self, code: str) -> None:
        """Run `code` (imports) silently before the first notebook; the next `ready()` then resets the session."""
        self.notebooks += 1
        _sync(self._silent)(code)

    def reset(self) -> None:
        """A clean session in the same process (see the module docstring)."""
        _sync(self._silent)(_RESET)

    def alive(self) -> bool:
        return self.km is not None and bool(_sync(self.km.is_alive)())

    def kill(self) -> None:
        """SIGKILL the kernel process and cancel start retries; safe from any thread (the watchdog's)."""
        self.killed = True
        pid = self.pid
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def shutdown(self) -> None:
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on a broken client
                pass
        if self.km is not None:
            try:
                _sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001
                self.kill()
            if self.km.transport == "ipc":
                shutil.rmtree(os.path.dirname(self.km.ip), ignore_errors=True)
        self.km, self.kc = None, None

    def execute(self, input_path: Path, parameters: dict, timeout: float) -> Any:
        """Run a notebook with papermill on this kernel; return the executed notebook node. On error the
        (partial) notebook is in `self.last_nb`. The steps of `papermill.execute_notebook` for a notebook
        file, parameters and no output path, but its last one: serialising the executed notebook to write it
        nowhere (nbformat's copy, validation and JSON text: 2–3 ms an LEA, while the kernel waits)."""
        from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors, remove_error_markers
        from papermill.iorw import load_notebook_node, local_file_io_cwd
        from papermill.parameterize import parameterize_notebook

        self.notebooks += 1
        path = str(input_path)
        with local_file_io_cwd():
            nb = load_notebook_node(path)
            if parameters:
                nb = parameterize_notebook(nb, parameters, kernel_name=self.kernel_name, engine_name=ENGINE)
            nb = remove_error_markers(prepare_notebook_metadata(nb, path, None))
            nb = papermill_engines.execute_notebook_with_engine(
                ENGINE, nb, input_path=path, output_path=None, kernel_name=self.kernel_name, progress_bar=False,
                log_output=False, start_timeout=60, stdout_file=None, stderr_file=None,
                execution_timeout=timeout, kernel=self)
            raise_for_execution_errors(nb, None)
        return nb


class KernelEngine(NBClientEngine):
    """papermill's nbclient engine on a running `Kernel` (kept alive afterwards), without timing metadata."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, kernel: Kernel | None = None,
                                 **kwargs):
        assert kernel is not None and kernel.km is not None
        kernel.last_nb = nb_man.nb
        timeout = math.ceil(execution_timeout) if execution_timeout else None  # nbclient takes whole seconds
        client = PapermillNotebookClient(nb_man, km=kernel.km, timeout=timeout, kernel_name=kernel_name,
                                         startup_timeout=start_timeout, log=logging.getLogger("papermill"),
                                         log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                                         record_timing=False)
        client.kc = kernel.kc
        try:
            return client.execute(cleanup_kc=False)
        except DeadKernelError as exc:
            raise KernelDied(str(exc) or "kernel died") from exc


papermill_engines.register(ENGINE, KernelEngine)

# One kernel per thread of a worker process, reused across notebooks.
_local = threading.local()
_all: dict[int, Kernel] = {}
_loops: list[asyncio.AbstractEventLoop] = []  # every thread's loop (own_event_loop), closed by close_all
_lock = threading.Lock()


def own_event_loop() -> None:
    """Run this thread's coroutines (nbclient's, the kernel client's) on one loop of its own, the same for
    every notebook of the thread: Dask runs tasks in threads whose context still points at the cluster's
    running loop (jupyter_core keeps the loop in a context variable)."""
    from jupyter_core import utils as jupyter_utils

    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
        with _lock:
            _loops.append(loop)
    asyncio.set_event_loop(loop)
    jupyter_utils._loop.set(loop)


def _sync(coro: Callable[..., Any]) -> Callable[..., Any]:
    """jupyter_core's `run_sync` on this thread's own loop, so that every loop a kernel ran on is one
    `close_loops` closes. In a thread whose loop is running (a Dask worker's, running `close_all` for
    `Client.run`) jupyter_core runs the call on a helper thread and the running loop stays this thread's."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        own_event_loop()
    return run_sync(coro)


def acquire(cwd: Path, kernel_name: str = "python3", fresh: bool = False, start_timeout: float = 60) -> Kernel:
    """A new kernel (`fresh`), or this thread's reusable one in `cwd`; call `ready()` on it before use."""
    own_event_loop()
    if fresh:
        return Kernel(cwd, kernel_name, start_timeout=start_timeout)
    kernel: Kernel | None = getattr(_local, "kernel", None)
    if kernel is not None and (kernel.cwd != Path(cwd) or kernel.kernel_name != kernel_name
                               or (kernel.km is not None and not kernel.alive())):
        discard(kernel)
        kernel = None
    if kernel is None:
        kernel = Kernel(cwd, kernel_name, start_timeout=start_timeout)
        _local.kernel = kernel
        with _lock:
            _all[threading.get_ident()] = kernel
    kernel.start_failures = []
    return kernel


def discard(kernel: Kernel) -> None:
    """Shut a kernel down and forget it (after any failure: its state is unknown)."""
    kernel.shutdown()
    if getattr(_local, "kernel", None) is kernel:
        _local.kernel = None
    with _lock:
        for key, value in list(_all.items()):
            if value is kernel:
                del _all[key]


def close_all() -> int:
    """Shut down every kernel this process started (the Dask backend calls it on each worker), then close
    the threads' event loops."""
    with _lock:
        kernels = list(_all.values())
        _all.clear()
    for kernel in kernels:
        kernel.shutdown()
    _local.kernel = None
    close_loops()
    return len(kernels)


def close_loops() -> None:
    """Close every event loop `own_event_loop` made that is not running, and leave this thread without one,
    as `asyncio.run` does. A loop left open outlives its thread (a Dask worker's) and is closed by the
    garbage collector at any later moment, in whatever code is running then; in a test process its error
    report (pytest formats the traceback, which parses source) can land inside another `ast.parse` and
    make that fail (CPython's AST builder keeps one recursion counter per interpreter, gh-106905)."""
    from jupyter_core import utils as jupyter_utils

    with _lock:
        idle = [loop for loop in _loops if not loop.is_running()]
        _loops[:] = [loop for loop in _loops if loop not in idle]
    for loop in idle:
        loop.close()
    if getattr(_local, "loop", None) in idle:
        _local.loop = None
        asyncio.set_event_loop(None)
        jupyter_utils._loop.set(None)
