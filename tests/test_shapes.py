"""Every real shape builds (issue 13): synthetic counties made from the sample's rows (tests/shapes.py) go
through ingest → tables → run → build (-W, link check, privacy scan), in two books: one of three counties
holding every LEA shape, one of a store of state rows only (2021–2023 and the 2024+ layout, era D)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import ROOT, SAMPLE
from .shapes import (
    CHARTER,
    DNCUSD,
    County,
    Entity,
    read_entities,
    write_data,
    write_entities,
    write_research,
)
from .site_build import cli, scratch_project

pytestmark = pytest.mark.slow
ERA_D = ROOT / "tests" / "fixtures" / "synthetic"


@dataclass
class Built:
    root: Path
    output: dict[str, str]  # each step's stdout + stderr

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"

    def tables(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.root / "data" / "processed" / "tables" / f"{name}.parquet")


def build_book(root: Path, data: Path) -> Built:
    """ingest → tables → run (2 jobs) → build in a scratch project; every step must succeed."""
    scratch_project(root)
    output = {}
    for step in (("ingest", str(data)), ("tables",), ("run", "--jobs", "2"), ("build", "--release", "preliminary")):
        result = cli(root, *step)
        output[step[0]] = result.stdout + result.stderr
        assert result.returncode == 0, f"{step}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return Built(root, output)


@pytest.fixture(scope="module")
def shapes_book(tmp_path_factory) -> Built:
    data = write_data(tmp_path_factory.mktemp("shapes-data"))
    return build_book(tmp_path_factory.mktemp("shapes"), data)


def _state_only(folder: Path) -> Path:
    """The state's rows of SB 2021–2022 and CAST 2021 (relabelled 2023 too), and of the 2024+ (era D) fixture."""
    write_research(folder / "research", [])
    write_entities(folder / "entities", [])
    for name in ("sb_2024_eraD_sample.txt", "sb_2024entities_eraD_sample.txt"):
        header, *rows = (ERA_D / name).read_bytes().split(b"\r\n")
        state = [r for r in rows if r.startswith(b"00^")]
        (folder / name).write_bytes(b"\r\n".join([header, *state]) + b"\r\n")
    return folder


@pytest.fixture(scope="module")
def state_book(tmp_path_factory) -> Built:
    data = _state_only(tmp_path_factory.mktemp("state-data"))
    return build_book(tmp_path_factory.mktemp("state"), data)


def _pages(built: Built) -> dict[str, str]:
    records = json.loads((built.root / "book" / "leas" / "manifest.json").read_text())
    records = records["leas"] if isinstance(records, dict) else records
    return {r["cds"]: (built.root / r["notebook"]).with_suffix("").name for r in records}


def _html(built: Built, cds: str) -> str:
    return next(built.html.rglob(f"book/leas/*/{cds}-*.html")).read_text(encoding="utf-8")


def test_every_lea_of_the_latest_year_has_a_page_and_the_rest_none(shapes_book):
    assert "5 ok, 0 failed" in shapes_book.output["run"]
    # 2023 (the latest year, CAST only): Sierra Valley Elementary has rows in 2021–2022 only, so no page
    assert sorted(_pages(shapes_book)) == ["02613330000000", "26736760121111", "26736760122222", "46104620000000",
                                           "46642120000000"]
    levels = shapes_book.tables("levels")
    assert set(levels.loc[levels["year"] == 2023, "test_id"]) == {17}
    assert set(levels.loc[levels["cds"] == "46642200000000", "year"]) == {2021, 2022}


def test_an_lea_with_every_grade_suppressed_has_a_sentence_not_a_chart(shapes_book):
    for cds in ("46104620000000", "26736760122222"):  # a county office and a charter with 3 students
        page = _html(shapes_book, cds)
        assert "levels_chart" not in page and "Nothing to draw for this LEA" in page
        assert not list(shapes_book.root.glob(f"book/leas/*/{cds}-*.levels_chart.csv"))
        assert "trend_chart.csv" in page  # the county and the state still have a trend


def test_the_renamed_lea_of_a_one_lea_county_shows_its_latest_name(shapes_book):
    page = _html(shapes_book, "02613330000000")
    assert "Alpine Unified" in page and "Alpine County Unified" not in page
    assert "Schools" in page and "None for this LEA" in page  # no schools: a sentence


def test_the_sb_impact_example_is_from_the_latest_sb_year(shapes_book):
    impact = shapes_book.tables("impact")
    sb = impact[impact["assessment"] == "smarter_balanced"]
    # 2023 has CAST only; in 2022 Alpine Unified (Del Norte County Unified's rows: 1,748 ELA with scores) leads
    assert set(sb["cds"]) == {"02613330000000"} and set(sb["year"]) == {2022}
    assert "Cut-score impact: % at and above" not in _html(shapes_book, "02613330000000")  # a 2023 page: not 2022's


def test_county_chapters_of_every_shape_build(shapes_book):
    for county in ("02", "26", "46"):
        assert (shapes_book.html / "book" / "leas" / county / "index.html").exists()


def test_a_store_of_state_rows_only_builds(state_book):
    assert "no LEA has results in 2024" in " ".join(state_book.output["run"].split())
    levels = state_book.tables("levels")
    assert set(levels["type_id"]) == {4} and set(levels["year"]) == {2021, 2022, 2023, 2024}
    assert set(state_book.tables("impact")["assessment"]) == {"capa"}
    impact = (state_book.html / "book" / "impact.html").read_text(encoding="utf-8")
    assert "No LEA has Smarter Balanced results in a year the alternative cut set covers" in " ".join(impact.split())
    assert not list(state_book.html.rglob("book/leas/*/*.html"))


# ---------------------------------------------------------------- property: shapes drawn from real entities

REAL = read_entities(SAMPLE / "entities" / "sb_ca2022entities_csv__county08_DelNorte_plus_state.txt")
LEAS = [r for r in REAL if r["Type ID"] in ("6", "9", "10")]
YEARS = (2021, 2022, 2023)
GRADES = (3, 4, 5, 6, 7, 8, 11, 13)


@st.composite
def county(draw) -> County:
    """Del Norte's real LEAs (a few of them, with some of their real schools), each with years, a name
    change and a suppression pattern drawn at random; their rows copied from the sample's."""
    chosen = draw(st.lists(st.sampled_from(LEAS), min_size=1, max_size=3, unique_by=lambda r: r["School Code"]))
    entities = []
    for row in chosen:
        cds = row["County Code"] + row["District Code"] + row["School Code"]
        years = tuple(sorted(draw(st.sets(st.sampled_from(YEARS), min_size=1))))
        name = row["School Name"] or row["District Name"]
        names = {years[0]: name} | ({years[-1]: f"{name} (renamed)"} if draw(st.booleans()) else {})
        hidden = frozenset(draw(st.sets(st.sampled_from(GRADES), max_size=4)))
        template = DNCUSD if row["Type ID"] == "6" else CHARTER
        entities.append(Entity(cds, int(row["Type ID"]), names, template, years, draw(st.booleans()), hidden=hidden))
        if row["Type ID"] == "6":
            schools = [r for r in REAL if r["Type ID"] == "7" and r["District Code"] == row["District Code"]]
            for s in draw(st.lists(st.sampled_from(schools), max_size=2, unique_by=lambda r: r["School Code"])):
                entities.append(Entity(cds[:7] + s["School Code"], 7, {years[0]: s["School Name"]}, CHARTER, years,
                                       hidden=frozenset(draw(st.sets(st.sampled_from(GRADES), max_size=3))),
                                       district=name))
    return County("08", "Del Norte", tuple(entities))


@settings(max_examples=2, deadline=None, derandomize=True, phases=(Phase.generate,),  # no shrinking: a build a try
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(county())
def test_any_county_shape_builds_without_warnings_or_broken_links(shape):
    """The build step itself fails on a Sphinx warning (-W), a broken link or a privacy finding."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "project").mkdir()
        built = build_book(Path(tmp) / "project", write_data(Path(tmp) / "data", [shape]))
        latest = {e.cds for e in shape.entities if e.type_id != 7 and 2023 in e.years}
        assert set(_pages(built)) == latest
        assert "broken link" not in built.output["build"]
