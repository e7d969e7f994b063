"""Privacy scan of built output: small counts and results in published tables, student-ID shapes, paths of
the build machine and secrets from the environment. Used by `build`, `pdf`, `publish`, `scan` and tests.

Every file is read: PDFs as their text, zips as the files inside them, any other file without NUL bytes as
text whatever its extension, and its tables (HTML, notebook outputs, delimited text with a header row) are
judged under the book's column names, its labels and CDE's own (helpers.ingest.layouts). A file that cannot
be read is a finding too."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator, Mapping

from helpers.core import params
from helpers.ingest import layouts
from helpers.publish import checked, html_tables
from helpers.report import page_tables as report

# column name → kind of count: the book's names, its labels and CDE's (entity-level totals count the same)
CDE_COUNTS = {"total_enrollment_entity": "enrolled", "total_tested_entity": "tested",
              "total_with_scores_entity": "with_scores", "enrolled": "enrolled", "tested": "tested",
              "with_scores": "with_scores"}
RESULT_KEYS = set(report.LEVEL_COLS + ("mean_scale_score", "mean_percent_correct")) | {
    f"pct_level_{k}" for k in range(1, 6)}
KINDS = ("enrolled", "tested", "with_scores")
COUNTS = {k: k for k in KINDS} | {report.LABELS[k]: k for k in KINDS}
COUNTS |= {cde: CDE_COUNTS[key] for cde, key in layouts.RESULTS_ALIASES.items() if key in CDE_COUNTS}
RESULTS = RESULT_KEYS | {report.LABELS[c] for c in report.LEVEL_COLS + ("mean_scale_score",)}
RESULTS |= {cde for cde, key in layouts.RESULTS_ALIASES.items() if key in RESULT_KEYS}
ENTITY_TOTALS = {cde for cde, key in layouts.RESULTS_ALIASES.items() if key.endswith("_entity")}
YEARS = {"year", "Year", "Test Year"}


def _key(name: str) -> str:
    """A column name as matched: case and runs of white space do not matter."""
    return " ".join(name.split()).casefold()


_COUNTS = {_key(n): kind for n, kind in COUNTS.items()}
_RESULTS, _ENTITY_TOTALS, _YEARS = ({_key(n) for n in names} for names in (RESULTS, ENTITY_TOTALS, YEARS))
DELIMITERS = (",", "\t", "^", "|", ";")
# ten digits not inside a longer run of digits or letters, nor a decimal's part ("0.1234567890"): a CSV cell,
# a word, followed by punctuation or not. Each pattern starts with what it matches and looks behind from there:
# a pattern that starts with a look-behind is tried at every character of a text (2 and 14 times slower here).
SSID = re.compile(r"\d{10}(?<=(?<![\w])(?<!\d\.)\d{10})(?![\w])(?!\.\d)")
SNIFF = 8192  # bytes read to tell text from binary (a NUL byte)
HEADER_CHARS = 65536  # a header row is shorter
CODE = {".js", ".css", ".map"}  # scripts, styles and their source maps
MACHINE_PATHS = re.compile(r"/(?<=(?<![\w.:/~-])/)(?:tmp|root|home|Users|var/folders|private/var)/[\w.-]+")
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL", re.I)
MIN_SECRET = 8
ZIP_ENTRY_MAX = 256 * 2**20  # bytes of one file unzipped: a site's files are far smaller; a zip bomb is not read
ZIP_DEPTH = 3  # zips inside zips read this deep (a zip can contain itself)


@dataclass(frozen=True)
class Finding:
    path: str
    kind: str  # small-count | small-results | ssid | machine-path | secret
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.detail}"


# ---------------------------------------------------------------- table cells


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def table_findings(header: list[str], rows: Iterable[list[str]], year: int | None) -> list[str]:
    """Counts in 1..min_count−1 and results shown for fewer than min_results students with scores.
    The row's year column decides the rule, else `year`; without either nothing is judged."""
    names = [h.strip() for h in header]
    counts = {i: _COUNTS[_key(n)] for i, n in enumerate(names) if _key(n) in _COUNTS}
    results = [i for i, n in enumerate(names) if _key(n) in _RESULTS]
    year_col = next((i for i, n in enumerate(names) if _key(n) in _YEARS), None)
    scored = [i for i, c in counts.items() if c == "with_scores"]  # the row's own count judges its results
    with_scores = next((i for i in scored if _key(names[i]) not in _ENTITY_TOTALS), scored[0] if scored else None)
    out = []
    if not counts and not results:
        return out
    for row in rows:
        if len(row) < len(names):
            continue
        y = _number(row[year_col]) if year_col is not None else year
        if y is None:
            continue
        try:
            rule = params.suppression_rule(int(y))
        except KeyError:
            continue
        for i, col in counts.items():
            v = _number(row[i])
            if v is not None and 0 < v < rule.min_count:
                out.append(f"{col} {row[i].strip()} < {rule.min_count} (year {int(y)}) in row {row[:3]}")
        n = _number(row[with_scores]) if with_scores is not None else None
        if n is not None and 0 < n < rule.min_results:
            shown = [names[i] for i in results if _number(row[i]) is not None]
            if shown:
                out.append(f"results {shown} shown for {row[with_scores].strip()} students with scores "
                           f"< {rule.min_results} (year {int(y)}) in row {row[:3]}")
    return out


def csv_table(text: str, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return (rows[0], rows[1:]) if rows else ([], [])


def delimited_table(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Text whose first line is a header row (`,`, tab, `^`, `|` or `;`) naming a count or result column,
    as a table; else None."""
    first = text[:HEADER_CHARS].split("\n", 1)[0].rstrip("\r")
    if len(first) == HEADER_CHARS:  # no header row (a minified file, one long line)
        return None
    for delimiter in DELIMITERS:
        header = next(csv.reader([first], delimiter=delimiter), [])
        if len(header) > 1 and any(_key(h) in _COUNTS or _key(h) in _RESULTS for h in header):
            return csv_table(text, delimiter)
    return None


# ---------------------------------------------------------------- text


def secrets(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Values of environment variables whose names say they are secret (long enough to be meaningful)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET}


def machine_paths(root: Path) -> list[str]:
    """Absolute paths of this machine that must not appear in output."""
    paths = {str(root.resolve()), str(Path.home()), sys.prefix, str(Path(sys.executable).parent)}
    return sorted((p for p in paths if len(p) > 1), key=lambda p: (-len(p), p))  # longest first, then A–Z


def text_findings(text: str, known_codes: set[str], paths: list[str], secret: dict[str, str],
                  ids: bool = True) -> list[tuple[str, str]]:
    out = []
    if ids:
        for m in SSID.finditer(text):
            if m.group(0) not in known_codes:
                out.append(("ssid", f"10-digit number {m.group(0)} (student ID shape)"))
    for p in paths:
        if p in text:
            out.append(("machine-path", f"build-machine path {p}"))
    for m in MACHINE_PATHS.finditer(text):
        out.append(("machine-path", f"absolute path {m.group(0)}"))
    for name, value in secret.items():
        if value in text:
            out.append(("secret", f"value of ${name}"))
    return out


def code_fragments(codes: Iterable[str]) -> set[str]:
    """Every 10-digit run inside the known 14-digit CDS codes (not student IDs)."""
    return {c[i:i + 10] for c in codes for i in range(len(c) - 9)}


class Unreadable(Exception):
    """A file the scan cannot read (a malformed PDF or notebook, an over-long CSV field)."""


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Unreadable(f"not a readable PDF: {(done.stderr.strip().splitlines() or ['pdftotext failed'])[0]}")
    return done.stdout


# ---------------------------------------------------------------- scan


def scan(folders: Iterable[Path], root: Path, year: int | None, known_codes: Iterable[str] = (),
         environ: dict[str, str] | None = None, record: Path | None = None, jobs: int = 1,
         shas: Mapping[str, str] | None = None) -> list[Finding]:
    """Every file under `folders` (or a file given itself): tables (HTML, CSV and other delimited text,
    notebook outputs) and text (also PDF text)."""
    files = []
    for folder in map(Path, folders):
        found = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        files += [(path, path.relative_to(folder.parent).as_posix()) for path in found]
    return scan_files(files, root, year, known_codes, environ, record, jobs, shas)


def scan_files(files: Iterable[tuple[Path, str]], root: Path, year: int | None, known_codes: Iterable[str] = (),
               environ: dict[str, str] | None = None, record: Path | None = None, jobs: int = 1,
               shas: Mapping[str, str] | None = None) -> list[Finding]:
    """`scan` of these (file, name in the findings) pairs; an unreadable file is a finding, not an error.
    `record`: where clean files are remembered by content (helpers.publish.checked): a file clean under the
    same year, codes, paths and secrets is not read again. `jobs`: processes reading files at once; `shas`: see
    `checked.Record`."""
    known = code_fragments(known_codes)
    paths, secret = machine_paths(root), secrets(environ)
    memo = checked.Record(record, _scan_key(year, known, paths, secret), shas)
    done = memo.check(list(files), _findings, jobs, keep=lambda here: not here, initializer=_settings,
                      initargs=(year, known, paths, secret))
    return [finding for here in done for finding in here]  # a remembered file was clean: []


_SETTINGS: dict = {}  # this process's scan settings (set in each worker of a pooled scan)


def _settings(year: int | None, known: set[str], paths: list[str], secret: dict[str, str]) -> None:
    _SETTINGS.update(year=year, known=known, paths=paths, secret=secret)


def _findings(item: tuple[Path, str]) -> list[Finding]:
    path, rel = item
    s = _SETTINGS
    try:
        return [Finding(rel, k, d) for k, d in file_findings(path, s["year"], s["known"], s["paths"], s["secret"])]
    except Unreadable as exc:
        return [Finding(rel, "unreadable", str(exc))]


def _scan_key(year: int | None, known: set[str], paths: list[str], secret: dict[str, str]) -> str:
    """Everything a file's verdict depends on besides its bytes: this scanner's code and column names, the
    suppression rules, the year, the codes, the paths and the secret values."""
    return checked.source_key(sys.modules[__name__], html_tables, layouts, report, extra=[
        year, sorted(known), paths, sorted(secret.items()), repr(params.suppression_rules())])


def is_text(path: Path) -> bool:
    """No NUL byte in the first SNIFF bytes (images, fonts, archives have them; text does not)."""
    with path.open("rb") as f:
        return b"\0" not in f.read(SNIFF)


def file_findings(path: Path, year: int | None, known: set[str], paths: list[str],
                  secret: dict[str, str]) -> list[tuple[str, str]]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":  # its tables are the built HTML pages printed, judged there (tests/test_site.py)
        return text_findings(pdf_text(path), known, paths, secret)
    if suffix == ".zip":
        return zip_findings(path, year, known, paths, secret)
    if not is_text(path):
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    return text_file_findings(text, suffix, "_static" in path.parts, year, known, paths, secret)


def text_file_findings(text: str, suffix: str, static: bool, year: int | None, known: set[str], paths: list[str],
                       secret: dict[str, str]) -> list[tuple[str, str]]:
    vendored = static and suffix in CODE  # theme code: no data, numbers galore
    out = text_findings(text, known, paths, secret, ids=not vendored)
    for header, rows in tables_of(text, suffix):
        out += [("small-count" if d.split()[0] in COUNTS.values() else "small-results", d)
                for d in table_findings(header, rows, year)]
    return out


def zip_findings(source: Path | IO[bytes], year: int | None, known: set[str], paths: list[str],
                 secret: dict[str, str], depth: int = 1) -> list[tuple[str, str]]:
    """Every file inside a zip (the site offers its notebooks zipped, helpers.site.notebooks) judged as that
    file would be on its own, each finding prefixed with the file's name in the zip. A file over
    ZIP_ENTRY_MAX bytes unzipped, or a zip nested deeper than ZIP_DEPTH, is not read: the zip is unreadable."""
    out = []
    try:
        with zipfile.ZipFile(source) as archive:
            for entry in (e for e in archive.infolist() if not e.is_dir()):
                if entry.file_size > ZIP_ENTRY_MAX:
                    raise Unreadable(f"{entry.filename} in the zip is {entry.file_size:,} bytes unzipped, more "
                                     f"than the {ZIP_ENTRY_MAX:,} the scan reads")
                data = archive.read(entry)  # at most file_size bytes: zipfile stops there
                out += [(kind, f"{entry.filename} in the zip: {detail}") for kind, detail
                        in _entry_findings(entry.filename, data, year, known, paths, secret, depth)]
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
        raise Unreadable(f"not a readable zip: {exc}") from exc
    return out


def _entry_findings(name: str, data: bytes, year: int | None, known: set[str], paths: list[str],
                    secret: dict[str, str], depth: int) -> list[tuple[str, str]]:
    suffix = Path(name).suffix.lower()
    if suffix == ".zip":
        if depth >= ZIP_DEPTH:
            raise Unreadable(f"{name} in the zip is a zip nested more than {ZIP_DEPTH} deep")
        return zip_findings(io.BytesIO(data), year, known, paths, secret, depth + 1)
    if suffix == ".pdf":
        with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
            pdf.write(data)
            pdf.flush()
            return text_findings(pdf_text(Path(pdf.name)), known, paths, secret)
    if b"\0" in data[:SNIFF]:
        return []
    text = data.decode("utf-8", errors="replace")
    return text_file_findings(text, suffix, "_static" in Path(name).parts, year, known, paths, secret)


def tables_of(text: str, suffix: str) -> list[tuple[list[str], list[list[str]]]]:
    """The tables in a text file: HTML tables, a notebook's HTML outputs' tables, or delimited text."""
    if suffix in {".html", ".htm"}:
        return html_tables.read(text)
    if suffix == ".ipynb":
        return [t for html in notebook_html(text) for t in html_tables.read(html)]
    if suffix in CODE or suffix in {".json", ".svg", ".xml"}:
        return []
    try:
        table = delimited_table(text)
    except csv.Error as exc:
        raise Unreadable(f"not readable as delimited text: {exc}") from exc
    return [table] if table else []


def notebook_html(text: str) -> list[str]:
    try:
        nb = json.loads(text)
        return ["".join(o.get("data", {}).get("text/html", "")) for c in nb.get("cells", [])
                for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    except (ValueError, AttributeError, TypeError) as exc:
        raise Unreadable(f"not a readable notebook: {exc}") from exc


# ---------------------------------------------------------------- scrubbing


def scan_build(p, folders: Iterable[Path], record: Path | None = None, jobs: int = 1,
               shas: Mapping[str, str] | None = None) -> list[Finding]:
    """`scan` with this build's data year and CDS codes (from the tables folder) and its root; `record`,
    `jobs` and `shas`: see `scan_files`."""
    from helpers.ingest import store as stores

    levels = stores.table(p.tables, "levels")
    year = int(stores.query(f"SELECT max(year) AS y FROM {levels}")["y"].iloc[0])
    codes = stores.query(f"SELECT DISTINCT cds FROM {levels} UNION SELECT DISTINCT lea_cds FROM {levels} "
                         "WHERE lea_cds IS NOT NULL")["cds"]
    return scan([Path(f).resolve() for f in folders if Path(f).exists()], p.root, year, set(codes), record=record,
                jobs=jobs, shas=shas)
