"""The analyst's path: `ingest --county`, the scoped project's paths, and `caaspp-book district` (slow):
the district's notebook and CSVs are the whole-state path's bytes, the whole-state store, tables and
manifest are never replaced, and a notebook edit re-executes that LEA and rebuilds incrementally."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.errors import InputError
from helpers.core.paths import Paths
from helpers.ingest import build as ingesting
from helpers.ingest import store as stores
from helpers.lea_mode import district
from helpers.stats import chunked, contract
from helpers.synth import impact_example
from tests.site_build import cli, scratch_project, steps

ROOT = Path(__file__).resolve().parents[1]
COUNTIES = ("00", "02", "03", "05")  # the state and three small counties (Alpine, Amador, Calaveras)
CDS = "03739810000000"  # Amador County Unified


@pytest.fixture(scope="module")
def statewide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic state of three counties (research and entities files)."""
    work = tmp_path_factory.mktemp("state")
    with gzip.open(ROOT / "data" / "reference" / "sb_ca2023entities_csv.txt.gz", "rb") as f:
        lines = f.read().splitlines()
    kept = [lines[0]] + [x for x in lines[1:] if x[:2].decode() in COUNTIES]
    (work / "entities.txt").write_bytes(b"\n".join(kept) + b"\n")
    steps(ROOT, ("synth", "statewide", str(work / "files"), "--entities", str(work / "entities.txt"),
                 "--groups", "1,3,4"))
    return work / "files"


def test_county_filter_keeps_the_county_and_the_state_with_their_lines(statewide: Path, tmp_path: Path) -> None:
    whole = ingesting.ingest([statewide], tmp_path / "whole")["results"]
    county = ingesting.ingest([statewide], tmp_path / "county", county="03")["results"]
    assert set(whole["county_code"]) == {"00", "02", "03", "05"}
    assert set(county["county_code"]) == {"00", "03"}
    expected = whole[whole["county_code"].isin(["00", "03"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(county.reset_index(drop=True), expected)  # source_line included
    sources = [pd.read_parquet(tmp_path / s / "sources.parquet") for s in ("whole", "county")]
    pd.testing.assert_frame_equal(*sources)  # the files read, whole (rows read, hashes)


def test_a_county_read_keeps_the_states_impact_example(statewide: Path, tmp_path: Path) -> None:
    """The state's impact example is Amador County Unified (county 03). Read alone, county 05 would choose
    its own largest LEA, whose page would then show an impact table; the county's store keeps every county's
    All Students SB rows, so its impact table and CSV are the whole-state tables' bytes."""
    whole, county = tmp_path / "whole", tmp_path / "county"
    ingesting.ingest([statewide], whole / "store")
    ingesting.ingest([statewide], county / "store", county="05")
    for d in (whole, county):
        chunked.build(d / "store", d / "tables", impact_example.inputs())
    own = contract.read_results(county / "store")
    assert contract.example_lea(own) == ("05615640000000", 2023)  # what the county's rows alone would choose
    kept = contract.read_results(stores.impact_source(county / "store"))
    assert set(kept["student_group_id"]) == {1} and set(kept["test_id"]) == {1, 2}
    assert set(kept["county_code"]) == set(COUNTIES)
    impact = [pd.read_parquet(d / "tables" / "impact.parquet") for d in (whole, county)]
    assert set(impact[0]["cds"]) == {"", CDS}
    pd.testing.assert_frame_equal(*impact)
    assert (county / "tables" / "impact.csv").read_bytes() == (whole / "tables" / "impact.csv").read_bytes()


def _with_bad_row(statewide: Path, to: Path, county: str, field: str, value: str) -> int:
    """A copy of the state's files with a blank line inserted and, in the SB file's first row of `county`
    that is not All Students, `field` set to `value`; returns that row's line number."""
    to.mkdir()
    for f in statewide.iterdir():
        (to / f.name).write_bytes(f.read_bytes())
    sb = next(to.glob("sb_ca2023_all_*.txt"))
    lines = sb.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("^")
    at = next(i for i, x in enumerate(lines) if x.startswith(county + "^") and x.split("^")[5] != "1")
    cells = lines[at].split("^")
    cells[header.index(field)] = value
    lines[at] = "^".join(cells)
    lines.insert(3, "")  # a blank line before it: line numbers count it
    sb.write_text("\n".join(lines), encoding="utf-8")
    return at + 2


def test_a_county_read_types_only_the_rows_it_keeps(statewide: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    line = _with_bad_row(statewide, bad, "02", "Mean Scale Score", "n/a")
    for county in (None, "02"):  # the whole state's read and county 02's both refuse it, on its line
        with pytest.raises(InputError) as err:
            ingesting.ingest([bad], tmp_path / f"s{county}", county=county)
        assert (err.value.line, err.value.field) == (line, "Mean Scale Score")
        assert "not a number: 'n/a'" in str(err.value)
    clean = ingesting.ingest([statewide], tmp_path / "clean", county="05")["results"]
    scoped = ingesting.ingest([bad], tmp_path / "s05", county="05")["results"]
    assert set(scoped["county_code"]) == {"00", "05"}
    after = (clean["source_line"] >= 4) & clean["source_file"].str.startswith("sb_ca2023_all")  # the blank line 4
    moved = clean["source_line"] + after.astype("int64")
    pd.testing.assert_frame_equal(scoped, clean.assign(source_line=moved))


def test_a_county_reads_findings_name_the_files_lines(statewide: Path, tmp_path: Path) -> None:
    line = _with_bad_row(statewide, tmp_path / "odd", "05", "Percentage Standard Met and Above", "99.00")
    found = ingesting.ingest([tmp_path / "odd"], tmp_path / "s", county="05")["findings"]
    assert found[found["check"] == "met_and_above"]["line"].tolist() == [line]


def test_a_county_read_still_checks_every_county_code(statewide: Path, tmp_path: Path) -> None:
    """A code that is not plain digits may be any county's: a county's read types it, and refuses it."""
    line = _with_bad_row(statewide, tmp_path / "bad", "02", "County Code", "0x")
    with pytest.raises(InputError) as err:
        ingesting.ingest([tmp_path / "bad"], tmp_path / "s", county="05")
    assert (err.value.line, err.value.field) == (line, "County Code")
    assert "not a 2-digit code: '0x'" in str(err.value)


def test_county_code_is_checked(statewide: Path, tmp_path: Path) -> None:
    for bad in ("3", "00", "ab"):
        with pytest.raises(ValueError, match="two digits"):
            ingesting.ingest([statewide], tmp_path / "s", county=bad)
    assert not (tmp_path / "s").exists()
    result = cli(ROOT, "ingest", str(statewide), "--store", str(tmp_path / "s"), "--county", "3")
    assert result.returncode == 2 and "two digits" in result.stderr


def test_district_paths_mirror_the_project_layout(tmp_path: Path) -> None:
    p = Paths(tmp_path)
    dp = district.district_paths(p, CDS)
    assert dp.root == (tmp_path / "data" / "interim" / "district" / CDS).resolve()
    assert dp.html == (tmp_path / "_build" / "district" / CDS / "html").resolve()
    for name in ("store", "tables", "slices", "leas", "manifest", "notebook", "params", "config"):
        assert getattr(dp, name).relative_to(dp.root) == getattr(p, name).relative_to(p.root)
    assert not dp.staging.is_relative_to(p.staging) and not dp.pdf.is_relative_to(p.pdf)
    for bad in ("0373981000000", "00000000000000", "0373981000000x"):
        with pytest.raises(ValueError, match="14-digit"):
            district.district_paths(p, bad)
    with pytest.raises(ValueError, match="overlap"):
        district.district_paths(p, CDS, tmp_path / "_build")


def _state(root: Path) -> dict[str, tuple[int, bytes]]:
    """The whole-state project's store, tables and manifest: each file's mtime and bytes."""
    p = Paths(root)
    files = [f for d in (p.store, p.tables) for f in sorted(d.iterdir())] + [p.manifest]
    return {str(f): (f.stat().st_mtime_ns, f.read_bytes()) for f in files}


def _page(root: Path) -> tuple[Path, list[Path]]:
    """The district's executed notebook under `root`'s book/leas, and its CSVs."""
    notebook = next((root / "book" / "leas" / CDS[:2]).glob(f"{CDS}-*.ipynb"))
    return notebook, sorted(notebook.parent.glob(f"{CDS}-*.csv"))


@pytest.mark.slow
def test_district_path_same_bytes_apart_and_incremental(statewide: Path, tmp_path: Path) -> None:
    root = scratch_project(tmp_path)
    steps(root, ("ingest", str(statewide)), ("tables",), ("run", "--jobs", "1", "--lea", CDS))
    before = _state(root)
    steps(root, ("district", CDS, str(statewide)))
    assert _state(root) == before  # the whole-state project is untouched
    dp = district.district_paths(Paths(root), CDS)
    assert (dp.html / "index.html").is_file() and not (root / "_build" / "html").exists()
    whole_nb, whole_csvs = _page(root)
    scoped_nb, scoped_csvs = _page(dp.root)
    assert scoped_nb.read_bytes() == whole_nb.read_bytes()
    assert [c.name for c in scoped_csvs] == [c.name for c in whole_csvs] and scoped_csvs
    for a, b in zip(scoped_csvs, whole_csvs):
        assert a.read_bytes() == b.read_bytes(), a.name
    county_pages = sorted(p.parent.name for p in (dp.html / "book" / "leas").glob("*/index.html"))
    assert county_pages == [CDS[:2]]  # the book covers the district's county, not the state's

    unchanged = [dp.staging / "_build" / ".doctrees" / "book" / "intro.doctree",  # not read again
                 *sorted((dp.book / "_generated" / "figures").glob("*.png"))]  # not drawn again
    times, page_mtime = [f.stat().st_mtime_ns for f in unchanged], scoped_nb.stat().st_mtime_ns
    assert len(unchanged) > 5
    nb = json.loads((root / "notebooks" / "lea_report.ipynb").read_text(encoding="utf-8"))
    marked = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and "## " in "".join(c["source"]))
    marked["source"] = "".join(marked["source"]) + "\n\nEdited for the rerun test."
    (root / "notebooks" / "lea_report.ipynb").write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    result = cli(root, "district", CDS, str(statewide))
    assert result.returncode == 0, result.stderr
    assert "unchanged" in result.stderr and "1 ok, 0 failed, 0 skipped" in result.stderr
    assert "Edited for the rerun test." in scoped_nb.read_text(encoding="utf-8")
    assert scoped_nb.stat().st_mtime_ns != page_mtime
    assert [f.stat().st_mtime_ns for f in unchanged] == times  # incremental
    assert "Edited for the rerun test." in next((dp.html / "book" / "leas" / CDS[:2]).glob(f"{CDS}-*.html")
                                                ).read_text(encoding="utf-8")
    assert _state(root) == before
