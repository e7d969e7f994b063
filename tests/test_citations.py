"""The documents the code, params/ and tests cite are in the repository, down to the section."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "docs" / "caaspp-facts.md"
CITING = [p for folder in ("src", "params", "tests", "bench") for p in (ROOT / folder).rglob("*")
          if p.suffix in {".py", ".yml", ".md"}]


def cited_docs() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in CITING:
        for doc in re.findall(r"docs/[\w.-]+\.md", path.read_text(encoding="utf-8")):
            found.setdefault(doc, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_cited_document_exists() -> None:
    cited = cited_docs()
    assert "docs/caaspp-facts.md" in cited
    assert [doc for doc in cited if not (ROOT / doc).is_file()] == []


def test_every_cited_facts_section_exists() -> None:
    headings = set(re.findall(r"^#+ (\d+[a-z]?)\.", FACTS.read_text(encoding="utf-8"), flags=re.M))
    missing, seen = [], 0
    for path in CITING:
        text = path.read_text(encoding="utf-8")
        for ref in re.findall(r"caaspp-facts\.md[^\n]{0,12}?(?:§|sections? )(\d+[a-z]?)", text):
            seen += 1
            if ref not in headings:
                missing.append(f"{path.relative_to(ROOT)}: §{ref}")
    assert {"1a", "4b", "4f", "5"} <= headings and seen >= 10
    assert missing == []


def test_the_facts_keep_their_sources() -> None:
    text = FACTS.read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| (S\d+) \|", text, flags=re.M))
    used = set(re.findall(r"\b(S\d+)\b", text))
    assert len(ids) >= 20 and used <= ids | {"S0"}
