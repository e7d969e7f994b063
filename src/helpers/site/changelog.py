"""Generated back matter: the per-LEA run status (from the manifest) and the year-by-year change log of
suppression rules, research-file layouts and cut tables."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from helpers.core import params
from helpers.core.cuts import CutTable
from helpers.core.manifest import LeaRecord
from helpers.ingest import layouts
from helpers.ingest.layouts import Era
from helpers.site import myst

NO_TESTING = {2020: "No testing (COVID-19): 2019–20 results do not exist."}
FIRST_YEAR = 2015  # first CAASPP administration


def run_status_table(records: list[LeaRecord]) -> pd.DataFrame:
    """One row per LEA: built or failed and, for a failed one, its error. No timings and no skipped/ok
    distinction: the page must read the same after a cold and a warm run of the same inputs."""
    rows = [{"County": r.county_name, "LEA": r.name, "CDS code": r.cds,
             "Status": "built" if r.built else r.status,
             "Error": " ".join(r.error.split())[:300] + (f" (cell {r.failed_cell})" if r.failed_cell else "")
             if not r.built else ""}
            for r in sorted(records, key=lambda r: (r.county_code, r.cds))]
    return pd.DataFrame(rows, columns=["County", "LEA", "CDS code", "Status", "Error"])


def run_status_page(records: list[LeaRecord]) -> str:
    built = sum(r.built for r in records)
    head = (f"{len(records)} LEA notebooks: **{built} built, {len(records) - built} not built**. "
            "Durations are in the manifest, not here, so that the same inputs give the same page.\n")
    return head + "\n" + myst.table(run_status_table(records), "Run status of every LEA page "
                                    "(book/leas/manifest.json).", "tab-run-status")


# ---------------------------------------------------------------- change log

YEARS = re.compile(r"^(\d{4})(?:–(\d{4})|(\+))?")


def era_years(era: Era, last: int) -> tuple[int, int]:
    """The years an era's label names: '2021–2023 …' → (2021, 2023); '2024+ …' → (2024, last)."""
    m = YEARS.match(era.label)
    if not m:
        raise ValueError(f"layout era {era.id} has no years in its label: {era.label!r}")
    start = int(m.group(1))
    return start, (int(m.group(2)) if m.group(2) else last if m.group(3) else start)


@dataclass(frozen=True)
class YearState:
    year: int
    rule: str
    layouts: tuple[str, ...]
    cuts: tuple[str, ...]


def _rule_text(year: int) -> str:
    try:
        r = params.suppression_rule(year)
    except KeyError:
        return "no rule"
    return (f"counts from {r.min_count}, results from {r.min_results}, areas from {r.min_area}, "
            f"domains from {r.min_domain}")


def year_states(cut_tables: list[CutTable], last: int) -> list[YearState]:
    """What was in force in each year from the first CAASPP administration to `last`."""
    states = []
    for year in range(FIRST_YEAR, last + 1):
        eras = tuple(f"{e.id} ({e.label})" for e in layouts.RESULT_ERAS
                     if era_years(e, last)[0] <= year <= era_years(e, last)[1])
        cuts = tuple(sorted(t.id for t in cut_tables if t.covers(year)))
        states.append(YearState(year, _rule_text(year), eras, cuts))
    return states


def change_log(cut_tables: list[CutTable], last: int) -> pd.DataFrame:
    """Year by year: what changed from the year before (rules, layouts, cut tables)."""
    rows, prior = [], None
    for s in year_states(cut_tables, last):
        if s.year in NO_TESTING:  # compared with the last year that was tested
            rows.append({"Year": f"{s.year - 1}–{str(s.year)[2:]}", "Changes": NO_TESTING[s.year]})
            continue
        changes = []
        if prior is None or s.rule != prior.rule:
            changes.append(f"Suppression rule: {s.rule}.")
        for kind, now, before in (("Research-file layout", s.layouts, prior.layouts if prior else ()),
                                  ("Cut tables", s.cuts, prior.cuts if prior else ())):
            added, dropped = sorted(set(now) - set(before)), sorted(set(before) - set(now))
            if added:
                changes.append(f"{kind} in use: {', '.join(added)}.")
            if dropped:
                changes.append(f"{kind} no longer used: {', '.join(dropped)}.")
        rows.append({"Year": f"{s.year - 1}–{str(s.year)[2:]}", "Changes": " ".join(changes) or "no change"})
        prior = s
    return pd.DataFrame(rows)


def change_log_page(cut_tables: list[CutTable], data_years: list[int]) -> str:
    last = max([*data_years, *(t.year_from for t in cut_tables),
                *(era_years(e, FIRST_YEAR)[0] for e in layouts.RESULT_ERAS)])
    rules = pd.DataFrame([{"Test years": f"{r.year_from}–{r.year_to or 'on'}", "Counts shown from": r.min_count,
                           "Results shown from": r.min_results, "Areas shown from": r.min_area,
                           "Domains shown from": r.min_domain}
                          for r in params.suppression_rules()])
    return "\n".join([
        f"Each school year from the first CAASPP administration ({FIRST_YEAR - 1}–{str(FIRST_YEAR)[2:]}) to "
        f"{last - 1}–{str(last)[2:]}: the suppression rule (`params/suppression.yml`), the layout eras of the "
        "research files (`helpers.ingest.layouts`) and the cut tables (`params/cuts/`) that came into or went out of "
        f"use. Years in this book's data: {', '.join(str(y) for y in data_years) or 'none'}.\n",
        myst.table(change_log(cut_tables, last), "Change log of rules, layouts and cut tables by school year.",
                   "tab-change-log"),
        myst.table(rules, "Suppression rules by test year (params/suppression.yml).", "tab-rules"),
    ])
