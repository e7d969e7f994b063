"""Generated methods-page sections: the counting rules of student records, with their sources."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers.ingest import counting
from helpers.site import myst, pages

from .conftest import DNCUSD, ROOT


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


# ---------------------------------------------------------------- tables: numbered, with their CSV


def test_every_table_gets_its_csv_and_a_link_while_a_sink_is_active(tmp_path):
    frame = pd.DataFrame({"File": ["a_b.txt"], "SHA-256": [myst.Code("ab12")], "Rows": [3.0]})
    assert "Download" not in myst.table(frame, "Cap.", "tab-x")  # no sink: no file, no link
    folder = tmp_path / "extra" / myst.DATA
    (folder).mkdir(parents=True)
    (folder / "tab-gone.csv").write_text("stale\n")
    with myst.csv_files(folder):
        text = myst.table(frame, "Cap.", "tab-x")
        with pytest.raises(ValueError, match="two tables are named 'tab-x'"):
            myst.table(frame, "Again.", "tab-x")
        county = myst.csv_link(frame, "tab-y", page_dir="book/leas/08")
        with pytest.raises(ValueError, match="no name"):
            myst.csv_link(pd.DataFrame({"": [1]}), "tab-z")
    # a plain link to book/_data/<name>.csv (a stable path, not a Sphinx download), relative to the page
    assert text.endswith(':::\n\n<p class="caaspp-csv"><a href="_data/tab-x.csv" download>Download this table '
                         '(CSV)</a></p>\n')
    assert '<a href="../../_data/tab-y.csv" download>' in county
    assert "| a\\_b.txt | `ab12` | 3 |" in text  # code spans are not escaped, text is
    assert (folder / "tab-x.csv").read_text() == "File,SHA-256,Rows\na_b.txt,ab12,3\n"
    assert sorted(p.name for p in folder.iterdir()) == ["tab-x.csv", "tab-y.csv"]  # the stale CSV is gone


def test_column_dictionary_shows_column_names_as_code():
    text = pages.columns_page()
    assert "| `mean_scale_score` |" in text
    assert not re.search(r"`[^`\n]*&#\d+;[^`\n]*`", text)  # inside code an entity would show as typed


def test_sources_list_rows_read_and_rejected():
    sources = pd.DataFrame({"file": ["sb_ca2022_1_csv_v2.txt"], "kind": ["results"], "era": ["C"],
                            "rows_read": [120], "rows_rejected": [0], "sha256": ["f" * 64]})
    text = pages.sources_page(sources)
    assert "| File | Kind | Layout era | Version | Rows read | Rows rejected | SHA-256 |" in text
    assert f"| sb\\_ca2022\\_1\\_csv\\_v2.txt | results | C | v2 | 120 | 0 | `{'f' * 64}` |" in text


def test_impact_tables_put_both_cut_sets_side_by_side_with_the_difference(sample_tables):
    impact = pd.read_parquet(sample_tables / "impact.parquet")
    text = pages.impact_page(impact, {DNCUSD: "Del Norte County Unified"})
    capa = impact[(impact["assessment"] == "capa") & (impact["subject"] == "ela") & (impact["grade"] == "I")]
    adv = capa[capa["level_code"] == 5].iloc[0]
    row = next(line for line in text.splitlines() if line.startswith("| I | \\% at and above |"))
    diff = adv["pct_at_and_above_b"] - adv["pct_at_and_above_a"]
    assert row.endswith(f"| {adv['pct_at_and_above_a']:.1f} | {adv['pct_at_and_above_b']:.1f} | "
                        f"{diff:+.1f} |".replace("-", "−").replace("+0.0", "0.0"))
    assert "| Level | Statistic | Far Below Basic · Panel | Far Below Basic · SSPI | Far Below Basic · SSPI − Panel |" in text
    assert ":::{table} Illustrative values. CAPA ELA: for each CAPA level" in text
    assert "## Smarter Balanced ELA — Del Norte County Unified (08618200000000)" in text
    assert text.count(":::{table} Illustrative values.") == text.count(":::{table}")  # every set here is


def test_methods_lists_every_cut_table_with_its_status_and_source():
    from helpers.core import cuts

    tables = cuts.load_all()
    alternatives = cuts.load_family(ROOT / "params" / "alt_cuts" / "sb_illustrative_alternative.yml")
    text = pages.cut_register_page(tables, alternatives)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(tables) + len(alternatives) == 16
    sb = next(r for r in rows if r.startswith("| `sb_ela_2021plus` |"))
    assert sb.startswith("| `sb_ela_2021plus` | 1 | ela | 2021–present | official | official | Thresholds: CDE ")
    capa = next(r for r in rows if r.startswith("| `capa_ela_sspi` |"))
    assert "| 2008–2015 | sspi | illustrative | California Department of Education, \"CAPA Proposed" in capa
