"""Generated chapters: assessments and performance levels; statewide and county summary."""

from __future__ import annotations

import hashlib
import json
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd
from matplotlib.figure import Figure

from helpers.core import digests, params, stable_write
from helpers.core.cuts import CutTable
from helpers.core.paths import PACKAGE, default_paths
from helpers.ingest import store as stores
from helpers.report import charts
from helpers.report import page_tables as report
from helpers.report.page_tables import md_text
from helpers.site import chapter_charts as cc
from helpers.site import myst
from helpers.site.pages import ILLUSTRATIVE

FIGURES = "_generated/figures"  # relative to book/, where the chapters that include these pages live


def _save(draw: Callable[[], Figure], data: object, fig_dir: Path, name: str) -> str:
    """Draw the chart into `fig_dir/name.png`, unless the file was drawn from the same data by the same
    chart code (its key beside it): a rebuild then redraws only the charts whose data changed."""
    png, key_file = fig_dir / f"{name}.png", fig_dir / f"{name}.png.key"
    key = hashlib.sha256(_CHART_CODE + repr(data).encode("utf-8")).hexdigest()
    if not (png.exists() and key_file.exists() and key_file.read_text(encoding="utf-8") == key):
        stable_write.write_if_changed(png, charts.png(draw()))
        stable_write.write_if_changed(key_file, key)
    return f"{FIGURES}/{name}.png"


_CHART_CODE = b"".join(Path(m.__file__).read_bytes() for m in (cc, charts))


def remove_stale_figures(fig_dir: Path, pages: list[str]) -> None:
    """Delete figures that none of the generated pages uses any more."""
    used = set().union(*map(figures_of, pages))
    for path in fig_dir.glob("*.png*") if fig_dir.exists() else []:
        if path.name.removesuffix(".key") not in used:
            path.unlink()


# ---------------------------------------------------------------- assessments and performance levels


FAMILY_ORDER = ("smarter_balanced", "cast", "caa", "capa")
FAMILY_TITLES = {"smarter_balanced": "Smarter Balanced Summative Assessments", "cast": "California Science Test",
                 "caa": "California Alternate Assessments", "capa": "California Alternate Performance Assessment"}


def tests_table() -> pd.DataFrame:
    rows = [{"Test ID": t.test_id, "Test": t.label, "Name": t.name,
             "Performance levels (lowest to highest)": " · ".join(t.levels),
             "“Met and above” from": t.levels[t.met_level - 1]} for t in params.tests().values()]
    return pd.DataFrame(rows)


def cut_table(t: CutTable) -> pd.DataFrame:
    rows = [{"Level" if t.score_kind == "raw" else "Grade": g, "LOSS": c.loss,
             **{f"{name} from": cut for name, cut in zip(t.level_names[1:], c.cuts)}, "HOSS": c.hoss}
            for g, c in t.grades.items()]
    return pd.DataFrame(rows)


def _scale_alt(t: CutTable) -> str:
    grades = list(t.grades)
    lo = min(g.loss for g in t.grades.values())
    hi = max(g.hoss for g in t.grades.values())
    unit = "test level" if t.score_kind == "raw" else "grade"
    return (f"Horizontal bar chart of the {t.score_kind} score range of each {unit} ({grades[0]} to {grades[-1]}) "
            f"for {cc.table_label(t)}, {t.years_text}, from {lo:g} to {hi:g}, divided into "
            f"{t.n_levels} performance levels ({', '.join(t.level_names)}) at the cut scores listed in the table.")


def assessments_page(tables: list[CutTable], fig_dir: Path, alternatives: list[CutTable] = ()) -> str:
    """Tests and their levels, then every cut table with a chart of its score ranges, then the alternative
    cut sets the impact tables compare with (params/alt_cuts/)."""
    out = ["## Tests and performance levels\n",
           myst.table(tests_table(), "CAASPP tests and their performance levels (params/tests.yml).", "tab-tests"),
           "\n## Cut scores\n",
           "A score equal to a cut is in the higher level. LOSS and HOSS are the lowest and highest obtainable "
           "scale scores. **Status** says whether the values are *official* (copied from a cited CDE/ETS source) "
           "or *illustrative* (stand-ins that keep the pipeline running: never read them as fact).\n"]
    family = None
    for t in sorted(tables, key=lambda t: (FAMILY_ORDER.index(t.family) if t.family in FAMILY_ORDER
                                           else len(FAMILY_ORDER), t.family, str(t.test_id), t.year_from, t.id)):
        if t.family != family:
            family = t.family
            out.append(f"### {md_text(FAMILY_TITLES.get(family, family))}\n")
        out += _cut_section(t, fig_dir)
    if alternatives:
        out.append("### Alternative cut sets (impact tables only)\n")
        out.append("Cut sets that the cut-score impact chapter compares with the official ones "
                   "(`params/alt_cuts/`, or any file given to `caaspp-book tables --alt-cuts`). They never "
                   "decide a published level.\n")
        for t in alternatives:
            out += _cut_section(t, fig_dir)
    return "\n".join(out)


def _cut_section(t: CutTable, fig_dir: Path) -> list[str]:
    """One cut table: what it is for, its status and note, its values, source and score-range chart."""
    unit = "CAPA test level" if t.score_kind == "raw" else "grade"
    flag = "Illustrative values. " if t.is_illustrative else ""
    out = [f"#### {md_text(t.id)}\n",
           f"Test {md_text(t.test_id)} ({md_text(t.subject)}), years {t.years_text}, cut set "
           f"**{md_text(t.cut_set)}**, status **{t.status}**.\n"]
    if t.is_illustrative:
        out.append(f"{ILLUSTRATIVE} {md_text(t.note or '')}\n")
    elif t.note:
        out.append(f"{md_text(t.note)}\n")
    out.append(myst.table(cut_table(t), f"{flag}Cut scores of {md_text(t.id)} ({t.status}), by {unit}.",
                          myst.label("tab-cuts", t.id)))
    out.append(f"Source: {myst.linked(t.source)}\n")
    name = myst.label("fig-ranges", t.id)
    path = _save(lambda: cc.scale_ranges(t), t, fig_dir, name)
    caption = f"{flag}Score ranges of the performance levels by {unit}, {md_text(t.id)} ({t.status})."
    out.append(myst.chart(path, caption, _scale_alt(t), name, cc.scale_range_data(t)))
    return out


# ---------------------------------------------------------------- statewide and county summary

RESULTS = ("mean_scale_score",) + report.LEVEL_COLS


def grade_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One entity's rows of one year by test and grade, as published (suppressed values are `*`)."""
    rows = rows.sort_values(["test_id", "grade"])
    out = pd.DataFrame({"test": rows["test_id"].map(params.test_label),
                        "grade": rows["grade"].map(params.grade_label)}, index=rows.index)
    return report.display(pd.concat([out, report.publish(rows, RESULTS)], axis=1).reset_index(drop=True))


def _published(rows: pd.DataFrame) -> pd.DataFrame:
    shown = report.publish(rows, ("pct_level_1",))["pct_level_1"]
    return rows[(shown != report.SUPPRESSED) & rows["pct_level_1"].notna()]


def levels_data(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.sort_values("test_id")
    out = pd.DataFrame({"Test": rows["test_id"].map(params.test_label)})
    for level in (1, 2, 3, 4):
        out[report.LABELS[f"pct_level_{level}"]] = rows[f"pct_level_{level}"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    return out.reset_index(drop=True)


def trend_data(trend: pd.DataFrame) -> pd.DataFrame:
    hidden = trend["suppressed"].fillna(False).astype(bool)
    return pd.DataFrame({
        "Test": trend["test_id"].map(params.test_label),
        "Year": trend["year"].astype(int),
        "% Met and Above": report.cells(trend["pct_met_and_above"], hidden, "{:.2f}"),
        "Change from prior year": report.cells(trend["change_from_prior_year"], hidden, "{:+.2f}"),
        "Note": trend["note"].fillna(""),
    }).reset_index(drop=True)


def _levels_alt(name: str, year: int, rows: pd.DataFrame) -> str:
    parts = [f"{params.test_info(int(r.test_id)).label} {r.pct_met_and_above:.2f}% met and above"
             for r in rows.sort_values("test_id").itertuples()]
    return (f"Stacked horizontal bar chart of the percentage of students with scores at each performance level, "
            f"All Grades, {name}, spring {year}, one bar per test: " + "; ".join(parts) + ".")


def _trend_alt(name: str, trend: pd.DataFrame) -> str:
    years = sorted(int(y) for y in trend["year"].unique())
    parts = []
    for test_id, rows in trend.groupby("test_id", sort=True):
        shown = rows[~rows["suppressed"].fillna(False).astype(bool) & rows["pct_met_and_above"].notna()]
        values = ", ".join(f"{int(r.year)} {r.pct_met_and_above:.2f}" for r in shown.itertuples())
        parts.append(f"{params.test_info(int(test_id)).label}: {values or 'no published values'}")
    return (f"Line chart of All Grades % met and above by year, {years[0]}–{years[-1]}, for {name}, one line per "
            f"test; years without results are gaps (2019–20: no testing) and 2020–21 is shaded (low "
            f"participation, shorter test). " + "; ".join(parts) + ".")


def entity_section(cds: str, name: str, year: int, rows: pd.DataFrame, trend: pd.DataFrame, fig_dir: Path) -> str:
    """One entity: its results by test and grade, an All Grades levels chart and a trend chart."""
    safe = md_text(name)
    out = [myst.heading(2, name),
           myst.table(grade_table(rows), f"{safe}: results by test and grade, spring {year}.",
                      myst.label("tab", cds, year), numbers=True),
           report.footnote(year, stores.rows_policy(rows)) + "\n"]
    shown = _published(rows[rows["grade"] == 13])
    if len(shown):
        fig = myst.label("fig", cds, "levels")
        path = _save(lambda: cc.entity_levels(shown), shown.to_csv(), fig_dir, fig)
        out.append(myst.chart(path, f"{safe}: % of students with scores at each level, All Grades, spring {year}.",
                              _levels_alt(name, year, shown), fig, levels_data(shown)))
    out.append(dfs_section(cds, name, year, rows, trend))
    if len(trend):
        fig = myst.label("fig", cds, "trend")
        path = _save(lambda: cc.entity_trend(trend), trend.to_csv(), fig_dir, fig)
        out.append(myst.chart(path, f"{safe}: All Grades % Met and Above by year and test.",
                              _trend_alt(name, trend), fig, trend_data(trend)))
    return "\n".join(out)


def dfs_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One entity's Distance from Standard by test, All Grades first (and what it leaves out), then each grade."""
    rows = report.dfs_rows(rows)
    rows = rows.assign(_o=rows["grade"].where(rows["grade"] != 13, 0)).sort_values(["test_id", "_o"])
    return pd.DataFrame({"Test": rows["test_id"].map(params.test_label),
                         "Grade": rows["grade"].map(params.grade_label),
                         "With scores": report.display(report.publish(rows, ())[["with_scores"]])["With scores"],
                         "DFS": report.dfs_cells(rows),
                         "Left out of All Grades DFS": [report.left_out_text(r) for _, r in rows.iterrows()]},
                        index=rows.index).reset_index(drop=True)


def dfs_trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """All Grades Distance from Standard by test and year, the change from the prior year and the year's note."""
    trend = report.dfs_rows(trend).sort_values(["test_id", "year"])
    hidden = trend["suppressed"].fillna(False).astype(bool)
    return pd.DataFrame({"Test": trend["test_id"].map(params.test_label),
                         "Year": trend["year"].astype(int), "DFS": report.dfs_cells(trend),
                         "Change from prior year": report.cells(trend["dfs_change_from_prior_year"], hidden, "{:+.1f}"),
                         "Note": trend["note"].fillna("")}).reset_index(drop=True)


def dfs_section(cds: str, name: str, year: int, rows: pd.DataFrame, trend: pd.DataFrame) -> str:
    """One entity's Distance from Standard (ELA and mathematics): by grade this year, All Grades by year."""
    table = dfs_table(rows)
    if table.empty:
        return ""
    safe = md_text(name)
    out = [report.dfs_note() + "\n",
           myst.table(table, f"{safe}: Distance from Standard by test and grade, spring {year}.",
                      myst.label("tab-dfs", cds, year), numbers=True)]
    if len(trend) and "dfs" in trend:
        out.append(myst.table(dfs_trend_table(trend), f"{safe}: All Grades Distance from Standard by year.",
                              myst.label("tab-dfs-trend", cds), numbers=True))
    return "\n".join(out)


def summary_page(levels: pd.DataFrame, trends: pd.DataFrame, fig_dir: Path) -> str:
    """The state, then each county in the data (All Students, published rows)."""
    pub = levels[(levels["source"] == "published") & (levels["student_group_id"] == 1)
                 & levels["type_id"].isin([4, 5])]
    if pub.empty:
        return "No state or county rows are in the data.\n"
    year = int(pub["year"].max())
    latest = pub[pub["year"] == year]
    entities = (latest.drop_duplicates("cds").sort_values(["type_id", "cds"])[["cds", "entity_name"]])
    tr = trends[(trends["student_group_id"] == 1) & (trends["grade"] == 13)]
    out = [f"Results of spring {year} for the state and each county in the data, All Students. Counts below "
           f"the year's threshold and results for too few students are shown as `*`.\n"]
    for row in entities.itertuples():
        out.append(entity_section(row.cds, str(row.entity_name), year, latest[latest["cds"] == row.cds],
                                  tr[tr["cds"] == row.cds].sort_values(["test_id", "year"]), fig_dir))
    return "\n".join(out)


def summary(levels: pd.DataFrame, trends: pd.DataFrame, fig_dir: Path, page: Path) -> str:
    """`summary_page`, or the text `page` holds when it was made from the same rows by the same code and every
    file it links to is as it was made: its figures, and the CSVs its tables wrote (kept for this build's
    `myst.csv_files`). The record beside the page (`<page>.key`, JSON) holds the inputs' digest, the page
    text's SHA-256 and each CSV's, so a page written without its record, or changed since, is made again. A
    rebuild after one LEA's data changed then does not lay out the state's and counties' sections (9 s)."""
    record = page.with_name(page.name + ".key")
    key, sink = _summary_key(levels, trends), myst.csv_sink()
    kept = _kept_summary(page, record, key, fig_dir, sink)
    if kept is not None:
        text, csvs = kept
        myst.keep_csvs(csvs)
        return text
    before = sink[1] if sink else frozenset()
    text = summary_page(levels, trends, fig_dir)
    after = myst.csv_sink()
    csvs = {name: digests.file_sha256(after[0] / name) for name in sorted(after[1] - before)} if after else {}
    stable_write.write_if_changed(page, text)
    stable_write.write_if_changed(record, json.dumps({"key": key, "sha256": _text_sha(text), "csvs": csvs},
                                                     indent=1, sort_keys=True) + "\n")
    return text


def _kept_summary(page: Path, record: Path, key: str, fig_dir: Path,
                  sink: tuple[Path, frozenset[str]] | None) -> tuple[str, list[str]] | None:
    """The page's text and CSV names when every file it links to is as it was made under `key`, else None."""
    try:
        stored = json.loads(record.read_text(encoding="utf-8"))
        text = page.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or stored.get("sha256") != _text_sha(text):
        return None
    csvs = stored.get("csvs")
    if not isinstance(csvs, dict) or (csvs and sink is None) or set(csvs) & (sink[1] if sink else set()):
        return None
    if not all((sink[0] / name).is_file() and digests.file_sha256(sink[0] / name) == sha for name, sha in csvs.items()):
        return None
    if not all((fig_dir / f).is_file() and (fig_dir / f"{f}.key").is_file() for f in figures_of(text)):
        return None
    return text, list(csvs)


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def figures_of(text: str) -> set[str]:
    """The file names of the figures a generated page shows."""
    return {m.rsplit("/", 1)[-1] for m in re.findall(rf"{FIGURES}/[\w.-]+\.png", text)}


def _summary_key(levels: pd.DataFrame, trends: pd.DataFrame) -> str:
    """What the summary page depends on: the rows and columns of both frames, the package's code (every
    module: the page's tables, captions, labels and charts come from many), params/ and library versions."""
    digest = hashlib.sha256(b"csv links" if myst.csv_sink() else b"no csv links")  # the text has them or not
    for frame in (levels, trends):
        digest.update(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode("utf-8"))
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(digests.tree_sha256(default_paths().params).encode())  # what `params` reads
    for name in ("pandas", "numpy", "matplotlib", "pillow"):
        digest.update(f"{name}={metadata.version(name)}\n".encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def levels_note(cut_tables: list[CutTable] = ()) -> str:
    """The palette of performance levels used across the book (a swatch of each colour), as a numbered table
    with its CSV."""
    sb, caa = params.test_info(1).levels, params.test_info(3).levels
    capa = next((t.level_names for t in cut_tables if t.family == "capa"), ())
    name = lambda levels, k: levels[k - 1] if k <= len(levels) else ""  # noqa: E731
    frame = pd.DataFrame([{"Level": k, "Smarter Balanced and CAST": name(sb, k), "CAAs": name(caa, k),
                           "CAPA": name(capa, k), "Colour": myst.Code(colour)}
                          for k, colour in charts.LEVEL_COLOURS.items()])
    text = myst.table(frame, "The colour of each performance level in every chart of the book (Okabe–Ito "
                      "colour-blind-safe palette).", "tab-level-colours")
    for colour in charts.LEVEL_COLOURS.values():  # a swatch before each code; the CSV keeps the code alone
        text = text.replace(f"| `{colour}` |", f'| <span class="caaspp-swatch" style="background-color: {colour}">'
                                             f"</span> `{colour}` |")
    return text
