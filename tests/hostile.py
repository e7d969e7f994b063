"""A corpus of hostile entity names and a copy of the shipped sample whose Del Norte entities carry them.

Names reach the book through an entities file (cp1252, as CDE's), so every name here but `UNICODE` is
cp1252; `UNICODE` holds what such a file cannot (line and paragraph separators, C1 controls, right-to-left
marks, Greek) and is written into the tables after `caaspp-book tables`.

What a page shows of a name (helpers.core.text.plain): control characters and line or paragraph separators
become spaces and a run of spaces is one space; every other character is kept. A PDF's text has no
format characters (Unicode Cf: the right-to-left marks), which have no glyph, and breaks long lines.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from helpers.core import text

ENCODING = "cp1252"
LEA_CDS = {"dncusd": "08618200000000", "coe": "08100820000000", "castle_rock": "08100820830059",
           "shores": "08618200137729"}
MARY_PEACOCK = "08618206113013"  # the school whose name is written into the tables (UNICODE)


@dataclass(frozen=True)
class Corpus:
    """The names, by the sample's name they replace; `outside` is a readable file outside the project
    that a `{download}`/`{include}` in a name points at (holding `secret`); `markers` are the files a Jinja
    payload would create, relative to the folder the build runs in (the project root). An absolute path in
    a name would be flagged by the privacy scan as a path of the build machine."""

    names: dict[str, str]
    outside: Path
    markers: tuple[str, ...]
    secret: str

    @property
    def county(self) -> str:
        """The county's entity name (the entities file's County Name + " County")."""
        return self.names["Del Norte"] + " County"

    def lea(self, key: str) -> str:
        return self.names[LEA_OLD[key]]


LEA_OLD = {"dncusd": "Del Norte County Unified", "coe": "Del Norte County Office of Education",
           "castle_rock": "Castle Rock", "shores": "Uncharted Shores Academy"}
DNCUSD_SCHOOLS = ("Del Norte High", "Sunset High", "Bess Maxwell Elementary", "Crescent Elk Middle",
                  "Joe Hamilton Elementary", "Margaret Keating Elementary", "Mountain Elementary",
                  "Pine Grove Elementary", "Redwood Elementary", "Smith River Elementary")
COE_SCHOOLS = ("Elk Creek", "Del Norte Community")
UNICODE = ("Mary\u2028Peacock\u2029line\nbreak\r\x85NEL \u200fRLM \u202eR\u202c \u200bzero-width Ωμέγα "
           "{{ 8*8 }} `x` <u>u</u>")


def long_name(length: int = 5000) -> str:
    """A `length`-character name of repeated hostile phrases (no leading or trailing space: ingest trims)."""
    phrase = ("Uncharted Shores ' \" <script>alert(5)</script> [j](javascript:alert(6)) [d](data:text/html,x) "
              "{{ 1 }} `x` * _ | ")
    name = (phrase * (length // len(phrase) + 1))[:length]
    return name[:-1] + "X" if name.endswith(" ") else name


def jinja_touch(marker: str) -> str:
    """`{{ … }}` that creates the file `marker` (letters and digits) when Jinja renders it, written without
    quotes, `_`, `|`, `*`, `<`, `>` or `&` (which an HTML-entity escaping would change): `_` is taken from
    the text of Jinja's `lipsum` function ("<function generate_lorem_ipsum …>"), words from `dict` keys."""
    under, space = "(lipsum~1)[18]", "(lipsum~1)[9]"
    word = lambda w: f"dict({w}=1).popitem()[0]"  # noqa: E731
    dunder = lambda w: f"{under}~{under}~{word(w)}~{under}~{under}"  # noqa: E731
    return (f"{{{{ cycler[{dunder('init')}][{dunder('globals')}][{word('os')}][{word('system')}]"
            f"({word('touch')}~{space}~{word(marker)}) }}}}")


def corpus(tmp: Path) -> Corpus:
    """The corpus, with its outside file written into `tmp` (outside the project) and unique marker paths."""
    token = uuid.uuid4().hex
    outside = tmp / "outside-secret.txt"
    secret = f"OUTSIDE-SECRET-{token}"
    outside.write_text(secret + "\n", encoding="utf-8")
    up = "../" * 24 + outside.as_posix().lstrip("/")  # from any page of the book to the file
    markers = (f"caaspp-escaping-{token}-1", f"caaspp-escaping-{token}-2", f"caasppescaping{token}3")
    popen = "cycler.__init__.__globals__.os.system"
    names = {
        "Del Norte": "Del Norte <b>bold</b> [c](http://127.0.0.1:9/c) {{ 6*7 }} :::{note} $x$",
        "Del Norte County Unified": ("<img src=x onerror=alert(1)> {{ 7*7 }} [Del Norte](http://127.0.0.1:9/a) "
                                     "![p](http://127.0.0.1:9/p.png) *Unified* _u_ | #1 `tick` — Niños"),
        "Del Norte County Office of Education": (f"{{download}}`{up}` {{include}}`x` {{ref}}`nowhere` "
                                                 "{eval-rst}`x` ```{eval-rst} :::{note} (t)= % c +++ [^1] - [ ] "
                                                 "Office"),
        "Castle Rock": (f"{{{{ {popen}('touch {markers[0]}') }}}}{{% set _ = {popen}('touch {markers[1]}') %}}"
                        f"{jinja_touch(markers[2])} {{# c #}} $\\undefined$ $$x^2$$ \\ ctl\x01\x07\x1b[31m\x7f\ttab "
                        "end\\"),
        "Uncharted Shores Academy": long_name(),
        "Del Norte High": "<script>alert(1)</script> Niños",
        "Sunset High": '"><img src=x onerror=alert(2)>',
        "Bess Maxwell Elementary": "' onmouseover='alert(3)' x='",
        "Crescent Elk Middle": ("![img](http://127.0.0.1:9/i.png) [a](http://127.0.0.1:9/) "
                                "<http://127.0.0.1:9/auto> www.example.com"),
        "Joe Hamilton Elementary": ("[js](javascript:alert(4)) "
                                    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)"),
        "Margaret Keating Elementary": f"{{download}}`{up}`",
        "Mountain Elementary": f"```{{eval-rst}} .. raw:: html <b>rst</b> ``` :::{{include}} {up} :::",
        "Pine Grove Elementary": "{{ 7*7 }} {% if true %}JINJA{% endif %} {# comment #}",
        "Redwood Elementary": "`code` 'single' \"double\" a|b *em* _u_ **b** ~~s~~ $x^2$ $$y$$ \\",
        "Smith River Elementary": "ctl\x01\x02\x07\x1b[31m\x7f\ttab\x0bvt\x0cff end",
        "Elk Creek": '=HYPERLINK("http://127.0.0.1:9/h","x") {ref}`x` {doc}`/nowhere` {numref}`tab-none` {term}`x`',
        "Del Norte Community": "(label)= % comment +++ 1. item - item > quote # head ---",
    }
    for name in names.values():
        name.encode(ENCODING)  # an entities file holds cp1252 only
    return Corpus(names, outside, markers, secret)


def rename_entities(source: Path, out: Path, names: dict[str, str]) -> None:
    """A copy of an entities file with every County/District/School Name field in `names` renamed
    (the file's delimiter and CRLF line ends kept; fields quoted where a name needs it)."""
    data = source.read_bytes().decode(ENCODING)
    delimiter = "^" if "^" in data.splitlines()[0] else ","
    rows = list(csv.reader(io.StringIO(data, newline=""), delimiter=delimiter))
    header = rows[0]
    columns = [i for i, h in enumerate(header) if h.strip().lower() in ("county name", "district name", "school name")]
    renamed = {old.lower(): new for old, new in names.items()}  # "Office Of Education" in 2017–18
    for row in rows[1:]:
        for i in columns:
            row[i] = renamed.get(row[i].strip().lower(), row[i])
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    out.write_bytes(buf.getvalue().encode(ENCODING))


def hostile_sample(sample: Path, out: Path, names: dict[str, str]) -> Path:
    """The shipped sample with its entities files renamed."""
    shutil.copytree(sample, out)
    for path in sorted((out / "entities").iterdir()):
        rename_entities(sample / "entities" / path.name, path, names)
    return out


# ---------------------------------------------------------------- what a page, a PDF shows

def shown(name: str) -> str:
    """A name as a page's text shows it: helpers.core.text.plain, runs of HTML white space as one space,
    trimmed (what `innerText`-like comparisons see)."""
    return re.sub(r"[ \t\n\r\f]+", " ", text.plain(name)).strip()


def in_pdf(name: str) -> str:
    """A name as a PDF's extracted text can be compared: without white space (lines are broken anywhere a
    space is) and without format characters (no glyph)."""
    return "".join(c for c in text.plain(name) if not c.isspace() and unicodedata.category(c) != "Cf")


def pdf_text(path: Path) -> str:
    """A PDF's text in the order it was drawn (`pdftotext -raw`: a table cell's lines stay together), without
    white space and format characters, to look for `in_pdf(name)` in."""
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(c for c in raw if not c.isspace() and unicodedata.category(c) != "Cf")
