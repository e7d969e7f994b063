"""Where LEA runs execute: `serial` (this process), `processes` (supervised worker processes on this
machine) or `dask` (a dask.distributed cluster: a scheduler address, or a LocalCluster).

Every backend maps a picklable function over tasks and yields `(task, result)` as each finishes, in
completion order. A task whose worker died or overran its deadline yields a `Lost` instead of a result;
the other tasks go on. `prepare`, if given, is what a worker may do before its first task (start a kernel);
only `processes` uses it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterable, Iterator, Protocol

NAMES = ("processes", "serial", "dask")
READY = "ready"


@dataclass(frozen=True)
class Lost:
    """A task whose worker died (e.g. SIGKILL, out of memory) or was killed at its deadline."""

    reason: str
    seconds: float = 0.0  # how long the task had run, where known


class Backend(Protocol):
    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
            prepare: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]: ...


class Serial:
    """One task after another in this process (no isolation: for debugging and small runs)."""

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
            prepare: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            yield task, fn(task)


def _worker(conn: Connection, fn: Callable[[Any], Any], sockets: str, prepare: Callable[[], None] | None) -> None:
    from helpers.run import kernels

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides when workers stop
    kernels.keep_sockets_in(sockets)  # the supervisor removes them, also a killed worker's
    conn.send(READY)  # start-up (imports) done: deadlines count from here
    try:
        if prepare is not None:
            try:
                prepare()
            except Exception:  # noqa: BLE001 - the tasks run without it
                pass
        while True:
            try:
                task = conn.recv()
            except EOFError:
                break
            if task is None:
                break
            try:
                result: Any = fn(task)
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                result = Lost(f"{type(exc).__name__}: {exc}")
            conn.send(result)
    finally:
        kernels.close_all()  # the worker's reused kernel
    # Done: leave without the interpreter's teardown (freeing every module's objects took about 0.4 s, which
    # the supervisor waited for), as a forked multiprocessing child leaves. Its results are sent already.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Slot:
    """One worker process and the task it holds."""

    def __init__(self, ctx: Any, fn: Callable[[Any], Any], sockets: str,
                 prepare: Callable[[], None] | None = None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, fn, sockets, prepare), daemon=True)
        self.process.start()
        child.close()
        self.task: Any = None
        self.since = 0.0
        self.ready = False
        self.used = False  # given a task: closed gently at the end, else killed (it may still be preparing)

    def give(self, task: Any) -> None:
        self.task, self.since, self.used = task, time.monotonic(), True
        self.conn.send(task)

    def check_ready(self) -> bool:
        """Ready for a task (its start-up message read, without waiting for it)."""
        if not self.ready and self.conn.poll():
            try:
                self.ready = self.conn.recv() == READY
            except (EOFError, OSError):
                self.process.join(5)
        return self.ready

    def waiting(self) -> bool:
        return self.task is None and self.check_ready()

    def kill(self) -> None:
        """SIGKILL the worker and whatever it started (its kernel)."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        for proc in [*children]:
            try:
                proc.kill()
            except psutil.Error:
                pass
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(5)

    def stop(self) -> None:
        """Ask the worker to close its kernel and leave (`close` waits for it)."""
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass

    def close(self) -> None:
        self.process.join(10)
        if self.process.is_alive():
            self.kill()


class Processes:
    """`jobs` worker processes (spawned, so no fork of a threaded parent), each running one task at a time
    and keeping its warm kernel. The supervisor knows which task each worker holds, so a worker killed
    mid-task (SIGKILL, OOM) costs exactly that task: it is reported `Lost` and a fresh worker takes the
    slot. A task still running `deadline` seconds after it started has its worker killed (a last resort
    behind the in-worker timeout). With `prepare`, one worker starts before the first task is known and runs
    it (each worker does, before its first task), so a lazy planner's first task finds it ready. At the end the
    workers that ran tasks are all asked to stop at once (each closes its kernel and leaves); a worker that never
    got a task is killed, not waited for."""

    def __init__(self, jobs: int, deadline: float | None = None, start_method: str = "spawn") -> None:
        self.jobs, self.deadline = max(1, jobs), deadline
        self.ctx = mp.get_context(start_method)

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
            prepare: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
        todo = iter(tasks)
        queue: deque = deque()
        failed_starts = 0
        sockets = self._sockets()
        slots = [_Slot(self.ctx, fn, sockets, prepare)] if prepare is not None else []
        exhausted = False
        try:
            while True:
                exhausted = exhausted or self._fill(queue, todo, slots)
                slots = [s for s in slots if s.task is not None or s.process.is_alive()]  # refill dead slots
                while len(slots) < self.jobs and len(queue) > sum(s.task is None for s in slots):
                    slots.append(_Slot(self.ctx, fn, sockets, prepare))  # a worker for each task no other takes
                for slot in slots:
                    if slot.ready and slot.task is None and queue:
                        try:
                            slot.give(queue[0])
                            queue.popleft()
                        except OSError:  # died while idle: the task waits for a new worker
                            slot.task = None
                busy = [s for s in slots if s.task is not None]
                if not busy and not queue:  # _fill leaves the queue empty only when no task is left
                    return
                starting = [s for s in slots if not s.ready and s.process.is_alive()]
                if not busy and not starting:
                    continue
                watched = busy + starting
                planning = not exhausted and len(queue) < self.jobs  # then only look, and plan on
                ready = wait([s.conn for s in watched] + [s.process.sentinel for s in watched],
                             timeout=0 if planning else 1.0)
                for slot in starting:
                    if slot.conn in ready:
                        slot.check_ready()
                    if not slot.ready and not slot.process.is_alive():
                        failed_starts += 1
                        if failed_starts > 3 * self.jobs:
                            raise RuntimeError(f"worker processes die at start (exit code {slot.process.exitcode})")
                for slot in busy:
                    outcome = self._outcome(slot, ready)
                    if outcome is not None:
                        task, slot.task = slot.task, None
                        yield task, outcome
        finally:
            gentle = [s for s in slots if s.task is None and s.used]
            for slot in gentle:  # every worker closes its kernel at once, not one after the other
                slot.stop()
            for slot in slots:
                if slot in gentle:
                    slot.close()
                else:
                    slot.kill()
            shutil.rmtree(sockets, ignore_errors=True)

    @staticmethod
    def _sockets() -> str:
        """A folder for the workers' kernel sockets, removed when the tasks are done (also a killed worker's)."""
        from helpers.run import kernels

        return tempfile.mkdtemp(prefix="caaspp-kernels-", dir=kernels.fitting(None, len("/caaspp-kernels-12345678")))

    def _fill(self, queue: deque, todo: Iterator[Any], slots: list[_Slot]) -> bool:
        """Keep one task ready per worker (tasks may come from a lazy planner), but hand a task out as soon as a
        worker waits for one: planning goes on while it runs. True when the tasks are exhausted."""
        while len(queue) < self.jobs and not (queue and any(s.waiting() for s in slots)):
            try:
                queue.append(next(todo))
            except StopIteration:
                return True
        return False

    def _outcome(self, slot: _Slot, ready: list) -> Any:
        """The slot's result, a `Lost` if its worker died or overran, or None while it still runs."""
        if slot.conn in ready:
            try:
                return slot.conn.recv()
            except (EOFError, OSError):
                pass
        if slot.conn in ready or slot.process.sentinel in ready:
            slot.process.join(5)
            code = slot.process.exitcode
            name = signal.Signals(-code).name if code is not None and code < 0 else f"exit code {code}"
            return Lost(f"WorkerDied: the worker process running this LEA died ({name})",
                        time.monotonic() - slot.since)
        if self.deadline is not None and time.monotonic() - slot.since > self.deadline:
            slot.kill()
            return Lost(f"Timeout: the worker was killed after {self.deadline:g} s", time.monotonic() - slot.since)
        return None


class Dask:
    """Tasks on a dask.distributed cluster: the scheduler at `address`, or a LocalCluster of `jobs`
    single-threaded worker processes (`processes=False`: threads of this process). Workers need the
    project at the same path (a shared file system) and `helpers` importable. A task whose worker dies
    is not retried (its LEA is recorded failed): the LocalCluster sets `allowed-failures` to 0; an
    external scheduler's own setting applies there."""

    def __init__(self, jobs: int, address: str | None = None, processes: bool = True) -> None:
        self.jobs, self.address, self.processes = max(1, jobs), address, processes

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
            prepare: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
        import dask
        from distributed import Client, LocalCluster, as_completed

        from helpers.run import kernels

        cluster = None
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            if self.address is None:
                cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=self.processes,
                                       dashboard_address=None, silence_logs=40)
            client = Client(self.address or cluster, set_as_default=False)
            try:
                futures = {}
                for i, task in enumerate(tasks):
                    futures[client.submit(fn, task, key=f"lea-{i}-{os.getpid()}-{time.monotonic_ns()}",
                                          pure=False, retries=0)] = task
                for future in as_completed(futures, loop=client.loop):
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001 - KilledWorker, CommClosedError, …
                        result = Lost(f"WorkerDied: {type(exc).__name__}: {exc}")
                    yield futures[future], result
            finally:
                try:
                    client.run(kernels.close_all)
                except Exception:  # noqa: BLE001 - best effort on a broken cluster
                    pass
                client.close()
                if cluster is not None:
                    cluster.close()


def make(name: str, jobs: int, address: str | None = None, deadline: float | None = None) -> Backend:
    if name == "serial":
        return Serial()
    if name == "processes":
        return Processes(jobs, deadline)
    if name == "dask":
        return Dask(jobs, address)
    raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(NAMES)}")
