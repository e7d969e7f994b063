"""Errors that point at the exact place in an input file."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input: names the file, the 1-based line (when known) and the field (when known)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self.render())

    def render(self) -> str:
        where = Path(self.path).name
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"


class Refusal(Exception):
    """The tool refused to act: it would delete or overwrite files it did not make, or replace the
    project's state with a part of it. The message names the file or folder and what to do instead."""
