"""A CDE file's bytes as UTF-8 text, its header and its rows as text columns; shared by every reader.

Encoding policy: gzip is unpacked; a UTF-8 byte-order mark is dropped; valid UTF-8 is read as UTF-8,
anything else as Windows-1252 (CDE files: ñ, the en dash in "Ever–EL"); UTF-16 is refused with a
message saying so; lines ended by CR alone (classic Mac) are read as lines.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from helpers.core.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = {codecs.BOM_UTF16_LE: "FF FE", codecs.BOM_UTF16_BE: "FE FF"}
ENCODING = "cp1252"  # what is not UTF-8: CDE files are Windows-1252 (ñ, the en dash in "Ever–EL")
TRANSCODE_BLOCK = 1 << 24
SNIFF = 4096  # bytes looked at for UTF-16 without a byte-order mark


@dataclass(frozen=True)
class FileText:
    """A file's text as UTF-8 bytes, the encoding it was in, and sha256 and size of its uncompressed bytes."""

    data: bytes
    encoding: str  # "utf-8" (ASCII too) or "cp1252"
    sha256: str
    size: int


def read_text(path: Path) -> FileText:
    """The file's text (gunzipped if gzip) under the encoding policy above."""
    raw = path.read_bytes()
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(path, f"cannot gunzip: {exc}") from None
    data, encoding = decode(path, raw)
    return FileText(data, encoding, hashlib.sha256(raw).hexdigest(), len(raw))


def decode(path: Path, raw: bytes) -> tuple[bytes, str]:
    """(UTF-8 bytes, encoding) of a file's bytes: UTF-16 is an error, a UTF-8 BOM is dropped, CR-only line
    ends become LF, valid UTF-8 stays as it is and anything else is read as cp1252."""
    reject_utf16(path, raw)
    raw = lf_line_ends(raw.removeprefix(UTF8_BOM))
    if raw.isascii() or is_utf8(raw):  # ASCII (most research files) is UTF-8 already
        return raw, "utf-8"
    return from_cp1252(path, raw), ENCODING


def reject_utf16(path: Path, raw: bytes) -> None:
    """UTF-16 (a byte-order mark, or a NUL byte beside every other character) is an error saying so."""
    bom = next((name for mark, name in UTF16_BOMS.items() if raw.startswith(mark)), None)
    head = raw[:SNIFF]
    nuls = sorted((head[0::2].count(0), head[1::2].count(0)))
    if bom is None and not (nuls[1] >= len(head) // 4 > 0 and nuls[0] * 10 <= nuls[1]):
        return
    how = f"byte-order mark {bom}" if bom else "a NUL byte beside every other character"
    raise InputError(path, f"the file is UTF-16 text ({how}): re-save it as UTF-8 or in its original "
                     f"encoding (Windows-1252)")


def lf_line_ends(raw: bytes) -> bytes:
    """Lines ended by CR alone (classic Mac) as lines ended by LF; other text as it is."""
    return raw.replace(b"\r", b"\n") if b"\n" not in raw and b"\r" in raw else raw


def is_utf8(raw: bytes) -> bool:
    """Whether the bytes are valid UTF-8, checked block by block to bound the copies."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(raw), TRANSCODE_BLOCK):
            decoder.decode(raw[start:start + TRANSCODE_BLOCK], final=start + TRANSCODE_BLOCK >= len(raw))
    except UnicodeDecodeError:
        return False
    return True


def from_cp1252(path: Path, raw: bytes) -> bytes:
    """cp1252 → UTF-8, block by block to bound the copies. A byte cp1252 leaves undefined names its line."""
    blocks = []
    for start in range(0, len(raw), TRANSCODE_BLOCK):
        try:
            blocks.append(raw[start:start + TRANSCODE_BLOCK].decode(ENCODING).encode("utf-8"))
        except UnicodeDecodeError as exc:
            at = start + exc.start
            raise InputError(path, f"byte 0x{raw[at]:02x} is not valid {ENCODING} text",
                             raw.count(b"\n", 0, at) + 1) from None
    return b"".join(blocks)


def header_line(data: bytes) -> str:
    """The first line of UTF-8 `data`."""
    end = data.find(b"\n")
    return data[: end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")


def split_header(path: Path, data: bytes) -> tuple[str, list[str]]:
    """Return (delimiter, header names) from the first line."""
    first = header_line(data)
    if not first.strip():
        raise InputError(path, "empty file or blank header row", 1)
    if "^" in first:
        delim = "^"
    elif "," in first:
        delim = ","
    else:
        raise InputError(path, "cannot tell the delimiter: the header has neither '^' nor ','", 1)
    return delim, [n.strip().strip('"').strip() for n in first.split(delim)]


def parse_rows(path: Path, data: bytes, delim: str, names: list[str], skip_header: bool = True) -> list[pa.ChunkedArray]:
    """Parse every row as text with pyarrow; a row with the wrong field count is an error naming its line and
    the first header field it lacks (or, for a row too long, the header's last field)."""
    width = len(names)
    try:
        return _parse(data, delim, width, skip_header, threads=True)
    except pa.ArrowInvalid:
        pass
    bad: list[pacsv.InvalidRow] = []  # again on one thread, which numbers the rows
    try:
        return _parse(data, delim, width, skip_header, threads=False,
                      on_invalid=lambda row: bad.append(row) or "error")
    except pa.ArrowInvalid as exc:
        if bad:
            found = bad[0].actual_columns
            field, what = (names[found], "missing") if found < width else (names[-1], "more fields after it")
            raise InputError(path, f"{what}: expected {bad[0].expected_columns} fields ('{delim}'-delimited, "
                             f"as the header), found {found}", bad[0].number, field) from None
        raise InputError(path, f"cannot parse: {exc}") from None


def _parse(data: bytes, delim: str, width: int, skip_header: bool, threads: bool,
           on_invalid: Callable | None = None) -> list[pa.ChunkedArray]:
    cols = [f"c{i}" for i in range(width)]
    read = pacsv.ReadOptions(column_names=cols, skip_rows=int(skip_header), use_threads=threads, block_size=1 << 26)
    quote = '"' if b'"' in data else False  # without quotes to honour, the parser is twice as fast
    parse = pacsv.ParseOptions(delimiter=delim, quote_char=quote, invalid_row_handler=on_invalid)
    # read as bytes: `data` is valid UTF-8 already, so the parser need not check it again
    conv = pacsv.ConvertOptions(column_types={c: pa.binary() for c in cols}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=conv)
    return [pa.chunked_array([c.view(pa.string()) for c in col.chunks], pa.string()) for col in table.columns]
