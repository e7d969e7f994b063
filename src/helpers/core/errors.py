"""Errors that point at the exact place in an input file."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input: names the file (its path as given), the 1-based line (when known) and the field (when known)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(self.render())

    def render(self) -> str:
        where = self.path  # as the user gave it (relative or absolute), so two files of one name differ
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"
