"""Errors that point at the exact place in an input file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class InputError(ValueError):
    """Bad input: names the file, the 1-based line (when known) and the field (when known). The file is
    named by its base name, or (`as_given`: data files read by ingest) by its path as the user gave it."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None,
                 as_given: bool = False):
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        self.as_given = as_given
        super().__init__(self.render())

    def render(self) -> str:
        where = self.path if self.as_given else Path(self.path).name
        if self.line is not None:
            where += f", line {self.line}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"


class Refusal(Exception):
    """The tool refused to act: it would delete or overwrite files it did not make, or replace the
    project's state with a part of it. The message names the file or folder and what to do instead."""


@contextmanager
def paths_as_given() -> Iterator[None]:
    """An InputError raised inside names its file by the path as given (relative or absolute, so that two
    files of one name in different folders, or a member of a zip archive, are told apart)."""
    try:
        yield
    except InputError as exc:
        exc.as_given = True
        exc.args = (exc.render(),)
        raise
