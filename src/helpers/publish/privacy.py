"""Privacy scan of built output: small counts and results in published tables, student-ID shapes, paths of
the build machine and secrets from the environment. Used by `build`, `pdf`, `publish`, `scan` and tests."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from bs4 import BeautifulSoup

from helpers.core import params
from helpers.report import page_tables as report

COUNTS = {"enrolled": "enrolled", "tested": "tested", "with_scores": "with_scores"}
COUNTS |= {report.LABELS[k]: k for k in COUNTS}
RESULTS = {c for c in report.LEVEL_COLS + ("mean_scale_score",)} | {f"pct_level_{k}" for k in range(1, 6)}
RESULTS |= {report.LABELS[c] for c in report.LEVEL_COLS + ("mean_scale_score",)}
YEARS = {"year", "Year"}
TEXT_SUFFIXES = {".html", ".htm", ".csv", ".ipynb", ".json", ".js", ".txt", ".md", ".css", ".svg", ".xml",
                 ".yml", ".yaml", ".buildinfo"}
SSID = re.compile(r"(?<![\w.,:/-])\d{10}(?![\w.,-])")
MACHINE_PATHS = re.compile(r"(?<![\w.:/~-])/(?:tmp|root|home|Users|var/folders|private/var)/[\w.-]+")
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL", re.I)
MIN_SECRET = 8


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
    counts = {i: COUNTS[n] for i, n in enumerate(names) if n in COUNTS}
    results = [i for i, n in enumerate(names) if n in RESULTS]
    year_col = next((i for i, n in enumerate(names) if n in YEARS), None)
    with_scores = next((i for i, c in counts.items() if c == "with_scores"), None)
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


def html_tables(html: str) -> Iterator[tuple[list[str], list[list[str]]]]:
    soup = BeautifulSoup(html, "html.parser")
    for table in soup.find_all("table"):
        header = [th.get_text(" ", strip=True) for th in table.find_all("th")]
        rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.find_all("tr")]
        yield header, [r for r in rows if r]


def csv_table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return (rows[0], rows[1:]) if rows else ([], [])


# ---------------------------------------------------------------- text


def secrets(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Values of environment variables whose names say they are secret (long enough to be meaningful)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET}


def machine_paths(root: Path) -> list[str]:
    """Absolute paths of this machine that must not appear in output."""
    paths = {str(root.resolve()), str(Path.home()), sys.prefix, str(Path(sys.executable).parent)}
    return sorted((p for p in paths if len(p) > 1), key=len, reverse=True)


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


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# ---------------------------------------------------------------- scan


def scan(folders: Iterable[Path], root: Path, year: int | None, known_codes: Iterable[str] = (),
         environ: dict[str, str] | None = None) -> list[Finding]:
    """Every file under `folders`: tables (HTML, CSV, notebook outputs) and text (also PDF text)."""
    files = [(path, path.relative_to(Path(folder).parent).as_posix()) for folder in folders
             for path in sorted(p for p in Path(folder).rglob("*") if p.is_file())]
    return scan_files(files, root, year, known_codes, environ)


def scan_files(files: Iterable[tuple[Path, str]], root: Path, year: int | None, known_codes: Iterable[str] = (),
               environ: dict[str, str] | None = None) -> list[Finding]:
    """`scan` of these (file, name in the findings) pairs."""
    known = code_fragments(known_codes)
    paths, secret = machine_paths(root), secrets(environ)
    return [Finding(rel, k, d) for path, rel in files for k, d in file_findings(path, year, known, paths, secret)]


def file_findings(path: Path, year: int | None, known: set[str], paths: list[str],
                  secret: dict[str, str]) -> list[tuple[str, str]]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":  # its tables are the built HTML pages printed, judged there (tests/test_site.py)
        return text_findings(pdf_text(path), known, paths, secret)
    if suffix not in TEXT_SUFFIXES:
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    vendored = "_static" in path.parts and suffix in {".js", ".css"}  # theme code: no data, numbers galore
    out = text_findings(text, known, paths, secret, ids=not vendored)
    tables: list[tuple[list[str], list[list[str]]]] = []
    if suffix in {".html", ".htm"}:
        tables = list(html_tables(text))
    elif suffix == ".csv":
        tables = [csv_table(text)]
    elif suffix == ".ipynb":
        tables = [t for html in notebook_html(text) for t in html_tables(html)]
    for header, rows in tables:
        out += [("small-count" if d.split()[0] in COUNTS.values() else "small-results", d)
                for d in table_findings(header, rows, year)]
    return out


def notebook_html(text: str) -> list[str]:
    nb = json.loads(text)
    return ["".join(o.get("data", {}).get("text/html", "")) for c in nb.get("cells", [])
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


# ---------------------------------------------------------------- scrubbing


def scan_build(p, folders: Iterable[Path]) -> list[Finding]:
    """`scan` with this build's data year and CDS codes (from the tables folder) and its root."""
    from helpers.ingest import store as stores

    levels = stores.table(p.tables, "levels")
    year = int(stores.query(f"SELECT max(year) AS y FROM {levels}")["y"].iloc[0])
    codes = stores.query(f"SELECT DISTINCT cds FROM {levels} UNION SELECT DISTINCT lea_cds FROM {levels} "
                         "WHERE lea_cds IS NOT NULL")["cds"]
    return scan([f for f in folders if Path(f).exists()], p.root, year, set(codes))
