"""Shared fixtures: the vendored sample ingested once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.paths import Paths
from helpers.ingest import build as ingest
from helpers.stats import contract
from helpers.synth import impact_example

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
DNCUSD = "08618200000000"  # Del Norte County Unified


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store") / "store"
    ingest.ingest([SAMPLE], store)
    return store


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The whole sample through the command line in a scratch copy of the project: ingest → tables → run →
    build (preliminary, Sphinx -j 2: a warning would fail it) → pdf. Built once per test run and shared by the
    site and end-to-end tests (one xdist group: they run on one worker, in file order); tests that change it
    restore what they change."""
    from .site_build import scratch_project, steps

    root = scratch_project(tmp_path_factory.mktemp("site"))
    steps(root, ("ingest", str(SAMPLE)), ("tables",), ("run", "--jobs", "2"),
          ("build", "--release", "preliminary", "--jobs", "2"), ("pdf", "--jobs", "2"))
    return Paths(root)


@pytest.fixture(scope="session")
def sample_tables(sample_store: Path) -> Path:
    out = sample_store.parent / "tables"
    contract.write(contract.compute(sample_store, impact_example.inputs()), out)
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`: `-n 2 --dist loadgroup`), a module's tests run on one worker, so its
    module-scoped fixtures are made once; every test of the one built site shares a group too."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue  # a test that shares nothing with its module names its own group
        group = "site" if "built_site" in getattr(item, "fixturenames", ()) else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))
