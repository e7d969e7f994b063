"""Backends without notebooks: a worker killed mid-task, a task past its deadline and a raising task cost
only their own task; and a kernel start that loses a port race is retried."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest
from jupyter_client.manager import AsyncKernelManager

from helpers.run import backends, kernels

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
