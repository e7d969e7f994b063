"""Generated methods-page sections: the counting rules of student records, with their sources."""

from __future__ import annotations

import re

from helpers import counting, pages


def test_counting_page_lists_every_rule_as_the_reader_applies_it():
    text = pages.counting_page()
    rows = dict(re.findall(r"^\| `([A-Z])` \| (yes \| (?:yes|no)|no \| no) \|", text, re.M))
    rules = counting.rules()
    assert set(rows) == set(rules.indicators) == {"Y", "T", "R", "N", "E"}
    assert {k for k, v in rows.items() if v.startswith("yes")} == set(rules.tested) == {"Y", "T", "R"}
    assert {k for k, v in rows.items() if v == "yes | yes"} == set(rules.with_scores) == {"Y"}
    assert "| `NEL` | `E` | ELA, CAA ELA | EL in a U.S. school" in text
    assert "| `LOSS` | `T` | ELA, Mathematics, Science (CAST), test 39 |" in text
    for code in rules.conditions:
        assert f"| `{code}` |" in text
    assert "| S6 | 2016–17 CAASPP Student Data File Layout" in text and "| S19 |" in text
