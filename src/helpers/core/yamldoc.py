"""params/ YAML files validated into pydantic models; every problem is an InputError naming file, line and key.

:func:`read` parses a file keeping its node tree (so every key has a line) and rejects duplicate keys;
:func:`validate` checks the data against a :class:`ParamsModel` (strict types, no unknown keys) and turns
the first pydantic error into an :class:`InputError` with the line of the offending key (of its parent
mapping when the key is missing) and a key path such as ``rules[1].min_results``; a list item with a string
``id`` is named by it (``tables[sb_ela_2021plus].grades.5.cuts``). A validator raises :class:`At` to point at
keys below the value it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from yaml.nodes import MappingNode, Node, SequenceNode

from helpers.core.errors import InputError

Keys = tuple[Any, ...]  # mapping keys and list positions, from the document's root
M = TypeVar("M", bound=BaseModel)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]  # non-empty, stripped


class At(ValueError):
    """A validator's complaint about the keys ``keys`` below the value it checks."""

    def __init__(self, keys: Keys, message: str):
        super().__init__(message)
        self.keys = tuple(keys)
        self.message = message


class ParamsModel(BaseModel):
    """Base of every params/ model: strict types, unknown keys forbidden, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        """An unknown key is named with the allowed ones (pydantic's extra="forbid" message lists neither)."""
        if isinstance(data, dict):
            allowed = sorted(f.alias or name for name, f in cls.model_fields.items())
            unknown = [k for k in data if k not in allowed]
            if unknown:
                raise At((unknown[0],), f"unknown key '{unknown[0]}' (allowed: {', '.join(allowed)})")
        return data


@dataclass(frozen=True)
class Doc:
    """A parsed YAML file: its path, node tree (for lines) and data."""

    path: Path
    root: Node | None
    data: Any

    def line(self, keys: Keys) -> int | None:
        """1-based line of the last key of ``keys`` the file has (of a list item: its first line)."""
        node, line = self.root, None
        for key in keys:
            if isinstance(node, MappingNode):
                hit = next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line + 1, hit[1]
            elif isinstance(node, SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        if line is None and node is not None:
            line = node.start_mark.line + 1
        return line

    def label(self, keys: Keys) -> str | None:
        """The key path: ``rules[1].min_results``; a list item with a string ``id`` is named by it."""
        parts: list[str] = []
        data = self.data
        for key in keys:
            if isinstance(data, list) and isinstance(key, int) and parts:
                item = data[key] if 0 <= key < len(data) else None
                name = item.get("id") if isinstance(item, dict) else None
                parts[-1] += f"[{name if isinstance(name, str) else key}]"
            else:
                parts.append(str(key))
            data = _child(data, key)
        return ".".join(parts) or None

    def fail(self, keys: Keys, message: str) -> NoReturn:
        raise InputError(self.path, message, line=self.line(keys), field=self.label(keys))


def _child(data: Any, key: Any) -> Any:
    if isinstance(data, dict):
        return data.get(key)
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return None


def read(path: str | Path) -> Doc:
    """Parse one YAML file; InputError (file, line) for a syntax error or a duplicate key."""
    path = Path(path)
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(path, f"YAML syntax error: {problem}", line=mark.line + 1 if mark else None) from None
    doc = Doc(path, root, data)
    _check_duplicate_keys(doc, root, ())
    return doc


def _check_duplicate_keys(doc: Doc, node: Node | None, keys: Keys) -> None:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            if key in seen:
                raise InputError(doc.path, f"duplicate key '{key}'", line=k.start_mark.line + 1,
                                 field=doc.label(keys + (key,)))
            seen.add(key)
            _check_duplicate_keys(doc, v, keys + (key,))
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(doc, item, keys + (i,))


def validate(doc: Doc, model: type[M]) -> M:
    """The document as ``model``; InputError naming file, line and key for the first problem."""
    if doc.root is None:
        raise InputError(doc.path, "the file is empty")
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise _input_error(doc, exc.errors(include_url=False)[0]) from None


def load(path: str | Path, model: type[M]) -> M:
    """Read and validate one file."""
    return validate(read(path), model)


def _input_error(doc: Doc, error: dict) -> InputError:
    keys = _data_keys(doc.data, error["loc"], missing=error["type"] == "missing")
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, At):
        keys, message = keys + cause.keys, cause.message
    elif error["type"] == "missing":
        message = f"missing required key '{keys[-1]}'"
    elif isinstance(cause, ValueError):  # a validator's own words, without pydantic's "Value error, "
        message = str(cause)
    elif error["type"] in ("model_type", "dict_type"):  # pydantic names the model class: say what the file needs
        message = f"expected a mapping, got {type(error['input']).__name__}"
    else:
        message = error["msg"]
    if "[key]" in error["loc"]:
        message = f"invalid key: {message}"
    return InputError(doc.path, message, line=doc.line(keys), field=doc.label(keys))


def _data_keys(data: Any, loc: tuple, missing: bool) -> Keys:
    """The document keys of a pydantic error location, without its union tags ('int', 'list[int]', '[key]');
    a missing key (the last part) is kept."""
    keys: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(data, dict):
            hit = [k for k in data if str(k) == str(part)]
            if hit:
                keys.append(hit[0])
                data = data[hit[0]]
            elif missing and i == len(loc) - 1:
                keys.append(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            keys.append(part)
            data = data[part]
    return tuple(keys)
