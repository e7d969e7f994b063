"""A rich progress bar for `caaspp-book run` (done / failed / skipped, ETA) and the summary table."""

from __future__ import annotations

import time
from collections import Counter
from statistics import mean

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from helpers.core.manifest import LeaRecord


class RunProgress:
    """Counts records as they arrive; the ETA extrapolates the pace of executed (not skipped) LEAs."""

    def __init__(self, console: Console, total: int) -> None:
        self.total, self.counts = total, Counter()
        self.started = time.monotonic()
        self.first_run: float | None = None
        self.progress = Progress(TextColumn("[bold]LEAs"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/] "
                                            "[dim]{task.fields[skipped]} skipped[/]"),
                                 TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
                                 console=console, transient=False)
        self.task = self.progress.add_task("run", total=total, ok=0, failed=0, skipped=0, eta="–")
        self.console, self.logged = console, 0.0  # without a terminal (CI logs): a line now and then

    def __enter__(self) -> "RunProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def eta(self) -> str:
        ran = self.counts["ok"] + self.counts["failed"]
        left = self.total - sum(self.counts.values())
        if not ran or self.first_run is None:
            return "–"
        seconds = (time.monotonic() - self.started) / ran * left
        return time.strftime("%H:%M:%S", time.gmtime(seconds))

    def update(self, record: LeaRecord) -> None:
        self.counts[record.status] += 1
        if record.status != "skipped" and self.first_run is None:
            self.first_run = time.monotonic()
        if record.status == "failed":
            self.progress.console.print(f"[red]failed[/] {record.cds} {record.name}: {record.error}"
                                        + (f" (In [{record.failed_cell}])" if record.failed_cell else ""),
                                        highlight=False, markup=True)
        self.progress.update(self.task, advance=1, eta=self.eta(),
                             **{k: self.counts[k] for k in ("ok", "failed", "skipped")})
        done = sum(self.counts.values())
        if not self.console.is_terminal and (time.monotonic() - self.logged > 30 or done == self.total):
            self.logged = time.monotonic()
            self.console.print(f"{done}/{self.total} LEAs: {self.counts['ok']} ok, {self.counts['failed']} failed, "
                               f"{self.counts['skipped']} skipped; ETA {self.eta()}", highlight=False)


def summary(records: list[LeaRecord], seconds: float, jobs: int) -> Table:
    """Statuses, pace, mean time per phase of the executed LEAs, the slowest ones and every failure."""
    counts = Counter(r.status for r in records)
    ran = [r for r in records if r.status != "skipped"]
    table = Table(title=f"caaspp-book run: {len(records)} LEAs in {seconds:.1f} s", show_header=False,
                  title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("status", ", ".join(f"{counts[s]} {s}" for s in ("ok", "failed", "skipped")))
    if ran:
        table.add_row("pace", f"{seconds / len(ran):.2f} s per executed LEA with {jobs} worker(s); "
                              f"{mean(r.duration for r in ran):.2f} s each")
        phases = [r.phases for r in ran if r.phases]
        if phases:
            parts = [f"{name} {mean(p.get(name, 0.0) for p in phases):.2f} s" for name in ("kernel", "execute", "write")]
            table.add_row("per LEA", " · ".join(parts) + " (kernel = start, or reset of a reused kernel)")
        slow = sorted(ran, key=lambda r: -r.duration)[:3]
        table.add_row("slowest", ", ".join(f"{r.cds} {r.duration:.1f} s" for r in slow))
    for r in records:
        if r.status == "failed":
            cell = f" In [{r.failed_cell}]" if r.failed_cell else ""
            table.add_row(f"[red]failed {r.cds}", f"{r.name}{cell}: {r.error}")
    return table
