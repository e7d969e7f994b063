"""Text from input files (entity and school names, codes, file names, messages) as literal text on a page.

Input text is data, never markup: it reaches a page only through one of these functions.

- `plain`: the shown form. Control characters and line or paragraph separators (Unicode Cc, Zl, Zp: NUL,
  tab, line feed, DEL, C1 controls, U+2028, U+2029) become spaces and a run of spaces is one space (as
  HTML shows it); every other character, right-to-left marks included, is kept.
- `md`: for Markdown/MyST source (a heading, a table cell, a caption, a list item or paragraph line).
  ASCII punctuation is backslash-escaped (CommonMark: an escaped character is literal text), so no link,
  image, emphasis, raw HTML, entity, role (`{x}`), directive fence (``` ``` ```, `:::`), math (`$`),
  comment, block break or substitution (`{{ }}`) can start. Kept as they are: `, . ; ? ' " / @ - + % : ( )`,
  which are markup only at the start of a line (a list item `-`, `+`, `1.`, `1)`; a comment `%`; a colon
  fence `:::`; a target `(x)=`), where they are escaped; leading and trailing spaces are dropped (an
  indented line would be code; HTML does not show them).
- `html`: for raw HTML (element text and attribute values): `plain` with `&<>"'` as character references.
- `option`: for a MyST directive option value: a double-quoted string, which the option parser reads
  verbatim.
- `csv_frame`: for a published CSV: a text cell a spreadsheet would run as a formula (it starts with `=`,
  `+`, `-`, `@`, a tab or a carriage return and is not a number) gets a leading apostrophe, so the
  spreadsheet shows it as the text it is (OWASP: CSV injection). Numbers, signed ones too, and every other
  cell are as they are; no CDE name starts so.
"""

from __future__ import annotations

import html as _html
import json
import re
import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where used: a run's workers import this module, and need no pandas
    import pandas as pd

_KEPT = ",.;?'\"/@-+%:()"  # never markup inside a line
_ESCAPE = {ord(c): "\\" + c for c in string.punctuation if c not in _KEPT}
# where a kept character would start a block at a line's start ("1. x", "1) x", "- x", "---", "+ x", "% x",
# ":::", "(x)="): a backslash goes there
_LINE_START = re.compile(r"^(?:\d+(?=[.)](?: |$))|(?=[-+](?:[ -]|$))|(?=[%:(]))")
_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029 ]+")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?")


def plain(text: object) -> str:
    """`text` as shown: control characters and line/paragraph separators are spaces, a run of them one."""
    return _BREAKING.sub(" ", str(text))


def md(text: object) -> str:
    """`text` as literal Markdown/MyST inline text (ASCII punctuation backslash-escaped)."""
    return _LINE_START.sub(lambda m: m.group(0) + "\\", plain(text).strip(" ").translate(_ESCAPE), count=1)


def html(text: object) -> str:
    """`text` as literal HTML text or attribute value."""
    return _html.escape(plain(text), quote=True)


def option(text: object) -> str:
    """`text` (on one line) as the value of a MyST directive option (`:alt: <value>`)."""
    return json.dumps(plain(text), ensure_ascii=False)


def csv_frame(frame: "pd.DataFrame") -> "pd.DataFrame":
    """`frame` for a published CSV: each text cell a spreadsheet would run as a formula apostrophe-prefixed
    (see the module docstring); the frame itself when no cell is."""
    import pandas as pd

    out = frame
    for col in frame.columns:
        values = frame[col]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        cells = values.tolist()
        safe = [formula_safe(v) if isinstance(v, str) else v for v in cells]
        if any(a is not b for a, b in zip(safe, cells)):
            out = out.copy() if out is frame else out
            out[col] = pd.Series(safe, index=values.index, dtype=values.dtype)
    return out


def formula_safe(text: str) -> str:
    """A CSV text cell as `csv_frame` writes it: apostrophe-prefixed if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_LEADS) and not _NUMBER.fullmatch(text) else text
