"""A CDE file's bytes as UTF-8 text, its header and its rows as text columns; shared by every reader.

Encoding policy: gzip and zip members are unpacked as a stream, refused when they expand more than
MAX_RATIO times or beyond $CAASPP_BOOK_MAX_UNPACKED bytes (a compression bomb); a UTF-8 byte-order mark
is dropped; valid UTF-8 is read as UTF-8, anything else as Windows-1252 (CDE files: ñ, the en dash in
"Ever–EL"); UTF-16 is refused with a message saying so; lines ended by CR alone (classic Mac) are read as
lines. Empty lines are skipped but counted: line numbers in messages are the file's.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from helpers.core.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = {codecs.BOM_UTF16_LE: "FF FE", codecs.BOM_UTF16_BE: "FE FF"}
ENCODING = "cp1252"  # what is not UTF-8: CDE files are Windows-1252 (ñ, the en dash in "Ever–EL")
TRANSCODE_BLOCK = 1 << 24
SNIFF = 4096  # bytes looked at for UTF-16 without a byte-order mark
MEMBER = "!"  # a zip member's path: archive.zip!member.txt
MAX_RATIO = 200  # an archive may expand at most this many times ...
RATIO_FLOOR = 1 << 20  # ... unless it unpacks to at most this many bytes
MAX_UNPACKED_ENV = "CAASPP_BOOK_MAX_UNPACKED"  # bytes a compressed file may unpack to (default 8 GiB)
UNPACK_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileText:
    """A file's text as UTF-8 bytes, the encoding it was in, and sha256 and size of its uncompressed bytes."""

    data: bytes
    encoding: str  # "utf-8" (ASCII too) or "cp1252"
    sha256: str
    size: int


def read_text(path: Path) -> FileText:
    """The file's text (gunzipped if gzip; a zip member if `path` is archive.zip!member) under the encoding
    policy above."""
    raw = read_raw(path)
    data, encoding = decode(path, raw)
    return FileText(data, encoding, hashlib.sha256(raw).hexdigest(), len(raw))


def split_member(path: Path | str) -> tuple[Path, str | None]:
    """(archive, member) of archive.zip!member; (path, None) for any other path."""
    text = str(path)
    at = text.lower().find(".zip" + MEMBER)
    return (Path(text), None) if at < 0 else (Path(text[:at + 4]), text[at + 5:])


def source_name(path: Path | str) -> str:
    """The name a file goes by in the store: its base name, or archive.zip!member for a zip member."""
    archive, member = split_member(path)
    return archive.name if member is None else f"{archive.name}{MEMBER}{member}"


def zip_members(path: Path) -> list[str]:
    """The names of a zip archive's files (not its folders), in the archive's order."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [i.filename for i in archive.infolist() if not i.is_dir()]
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"cannot read the zip archive: {exc}") from None


def read_raw(path: Path) -> bytes:
    """A file's bytes: a zip member's or a gzip's unpacked as a bounded stream, any other file's as they are."""
    archive, member = split_member(path)
    raw = path.read_bytes() if member is None else unzip(path, archive, member)
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
            return unpack(path, stream, len(raw))
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(path, f"cannot gunzip: {exc}") from None


def unzip(path: Path, archive: Path, member: str) -> bytes:
    """One member of a zip archive, unpacked as a bounded stream."""
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as stream:
            return unpack(path, stream, zf.getinfo(member).compress_size)
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(path, f"cannot unzip: {exc}") from None


def max_unpacked() -> int:
    """Bytes a compressed file may unpack to: $CAASPP_BOOK_MAX_UNPACKED, else 8 GiB."""
    value = os.environ.get(MAX_UNPACKED_ENV, "")
    return int(value) if value.isdigit() else 8 << 30


def unpack(path: Path, stream: BinaryIO, packed: int) -> bytes:
    """Read a decompressing stream block by block; stop with an error once it passes either bound."""
    cap = max_unpacked()
    limit = min(cap, max(MAX_RATIO * packed, RATIO_FLOOR))
    blocks, size = [], 0
    while block := stream.read(UNPACK_BLOCK):
        size += len(block)
        if size > limit:
            why = (f"more than {cap:,} bytes (${MAX_UNPACKED_ENV})" if limit == cap
                   else f"more than {MAX_RATIO}× its {packed:,} compressed bytes")
            raise InputError(path, f"refused: it unpacks to {why}; a compression bomb or a damaged archive")
        blocks.append(block)
    return b"".join(blocks)


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


NO_BLANKS = np.zeros(0, dtype=np.int64)


def blank_lines(data: bytes) -> np.ndarray:
    """The 1-based numbers of the empty lines after the first (the parser skips them), in order."""
    if b"\n\n" not in data and b"\n\r\n" not in data:
        return NO_BLANKS
    raw = np.frombuffer(data, dtype=np.uint8)
    starts = np.flatnonzero(raw == 10)[:-1] + 1  # where lines 2, 3, … begin (the last \n ends the file)
    starts = starts[starts < len(raw)]
    first = raw[starts]
    second = raw[np.minimum(starts + 1, len(raw) - 1)]
    empty = (first == 10) | ((first == 13) & (second == 10))
    return np.flatnonzero(empty).astype(np.int64) + 2


def real_lines(lines, blanks: np.ndarray):
    """Line numbers counted without the blank lines (as the parser counts) → the file's line numbers."""
    if not len(blanks):
        return lines
    shifted = np.asarray(lines) + np.searchsorted(blanks - np.arange(len(blanks)), lines, side="right")
    return int(shifted) if np.ndim(shifted) == 0 else shifted


def parse_rows(path: Path, data: bytes, delim: str, names: list[str], skip_header: bool = True) -> list[pa.ChunkedArray]:
    """Parse every row as text with pyarrow; a row with the wrong field count is an error naming its line and
    the first header field it lacks (or, for a row too long, the header's last field). A quoted file that ends
    inside a quoted value (cut short) is an error naming its last line."""
    width = len(names)
    check_closed_quotes(path, data)
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
                             f"as the header), found {found}", real_lines(bad[0].number, blank_lines(data)),
                             field) from None
        raise InputError(path, f"cannot parse: {exc}") from None


def check_closed_quotes(path: Path, data: bytes) -> None:
    """A file whose quotes do not pair up was cut inside a quoted value (the parser would read the rest as
    that value, or stop early): an error naming the line of the quote left open."""
    if b'"' not in data or data.count(b'"') % 2 == 0:
        return
    line = next(n for n, text in enumerate(data.split(b"\n"), 1) if text.count(b'"') % 2)
    last = line == data.rstrip(b"\r\n").count(b"\n") + 1
    cut = ": the file ends inside it (cut short?)" if last and not data.endswith(b"\n") else ""
    raise InputError(path, f"a quoted value is not closed{cut}", line)


def parse_rows_where(path: Path, data: bytes, delim: str, names: list[str],
                     keep: Callable[[list[pa.Array]], pa.Array]) -> tuple[list[pa.ChunkedArray], np.ndarray, int]:
    """As `parse_rows`, but block by block, keeping only the rows `keep` selects (given a block's text
    columns, a boolean mask): the rows it drops are never held beyond their block. Returns the kept
    columns, each kept row's number as the parser counts rows (0-based, blank lines skipped) and the
    number of rows parsed. A malformed file is parsed whole again for `parse_rows`'s error."""
    width = len(names)
    check_closed_quotes(path, data)
    kept: list[list[pa.Array]] = [[] for _ in range(width)]
    at, start = [], 0
    try:
        for batch in pacsv.open_csv(pa.BufferReader(data), **_options(data, delim, width, True, True, None,
                                                                      STREAM_BLOCK)):
            cols = [c.view(pa.string()) for c in batch.columns]
            rows = np.flatnonzero(keep(cols).to_numpy(zero_copy_only=False))
            for j, col in enumerate(cols):
                kept[j].append(col.take(rows))
            at.append(rows + start)
            start += batch.num_rows
    except pa.ArrowInvalid:
        columns = parse_rows(path, data, delim, names)  # names the bad line; a file it reads is filtered whole
        rows = np.flatnonzero(keep([c.combine_chunks() for c in columns]).to_numpy(zero_copy_only=False))
        return [c.take(rows) for c in columns], rows, len(columns[0])
    at_all = np.concatenate(at) if at else np.zeros(0, dtype=np.int64)
    return [pa.chunked_array(c, pa.string()) for c in kept], at_all.astype(np.int64), start


STREAM_BLOCK = 1 << 24  # bytes per block of a filtered read: its text columns are what is held at once


def _options(data: bytes, delim: str, width: int, skip_header: bool, threads: bool,
             on_invalid: Callable | None, block: int = 1 << 26) -> dict:
    cols = [f"c{i}" for i in range(width)]
    read = pacsv.ReadOptions(column_names=cols, skip_rows=int(skip_header), use_threads=threads, block_size=block)
    quote = '"' if b'"' in data else False  # without quotes to honour, the parser is twice as fast
    parse = pacsv.ParseOptions(delimiter=delim, quote_char=quote, invalid_row_handler=on_invalid)
    # read as bytes: `data` is valid UTF-8 already, so the parser need not check it again
    conv = pacsv.ConvertOptions(column_types={c: pa.binary() for c in cols}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    return {"read_options": read, "parse_options": parse, "convert_options": conv}


def _parse(data: bytes, delim: str, width: int, skip_header: bool, threads: bool,
           on_invalid: Callable | None = None) -> list[pa.ChunkedArray]:
    table = pacsv.read_csv(pa.BufferReader(data), **_options(data, delim, width, skip_header, threads, on_invalid))
    return [pa.chunked_array([c.view(pa.string()) for c in col.chunks], pa.string()) for col in table.columns]
