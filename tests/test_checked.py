"""A build's link check and privacy scan remember what they checked, by content (helpers.publish.checked):
a rebuild reads only the files it changed, and still finds every problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.publish import links, privacy

ENV = {"API_TOKEN": "s3cr3t-v4lue-123"}


def write(site: Path, rel: str, text: str) -> Path:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def counted(monkeypatch):
    """The files each scan reads: file_findings' and links._parse's calls, counted."""
    calls: dict[str, list] = {"scan": [], "parse": []}
    scan, parse = privacy.file_findings, links._parse
    monkeypatch.setattr(privacy, "file_findings", lambda path, *a: calls["scan"].append(path.name) or scan(path, *a))
    monkeypatch.setattr(links, "_parse", lambda html: calls["parse"].append(html[:40]) or parse(html))
    return calls


def site_of(tmp_path: Path) -> Path:
    site = tmp_path / "html"
    write(site, "a.html", '<p id="top">A</p><a href="b.html#x">b</a>')
    write(site, "b.html", '<h2 id="x">B</h2><a href="a.html#top">a</a>')
    write(site, "t.csv", "year,enrolled,tested\n2022,40,38\n")
    write(site, "ids.txt", "student 1234567890\n")
    return site


def test_a_rescan_reads_only_changed_files_and_files_that_had_a_finding(tmp_path, counted):
    site, record = site_of(tmp_path), tmp_path / "checked" / "privacy.json"
    first = privacy.scan([site], tmp_path, 2022, environ=ENV, record=record)
    assert [(f.path, f.kind) for f in first] == [("html/ids.txt", "ssid")]
    assert sorted(counted["scan"]) == ["a.html", "b.html", "ids.txt", "t.csv"]
    kept = json.loads(record.read_text())
    assert sorted(kept["files"]) == ["html/a.html", "html/b.html", "html/t.csv"]  # the file with a finding is not
    assert "1234567890" not in record.read_text() and "s3cr3t" not in record.read_text()

    counted["scan"].clear()
    write(site, "t.csv", "year,enrolled,tested\n2022,40,3\n")  # a small count appears
    again = privacy.scan([site], tmp_path, 2022, environ=ENV, record=record)
    assert sorted(counted["scan"]) == ["ids.txt", "t.csv"]
    assert sorted((f.path, f.kind) for f in again) == [("html/ids.txt", "ssid"), ("html/t.csv", "small-count")]
    assert sorted(json.loads(record.read_text())["files"]) == ["html/a.html", "html/b.html"]


@pytest.mark.parametrize("change", ["year", "codes", "secret", "root"])
def test_anything_else_a_verdict_depends_on_reads_every_file_again(tmp_path, counted, change):
    site, record = site_of(tmp_path), tmp_path / "checked" / "privacy.json"
    privacy.scan([site], tmp_path, 2022, environ=ENV, record=record)
    counted["scan"].clear()
    args = {"year": 2022, "known_codes": (), "environ": ENV, "root": tmp_path}
    args |= {"year": {"year": 2018}, "codes": {"known_codes": {"99999999999999"}},
             "secret": {"environ": {"API_TOKEN": "another-v4lue-456"}}, "root": {"root": tmp_path / "html"}}[change]
    found = privacy.scan([site], args.pop("root"), args.pop("year"), record=record, **args)
    assert sorted(counted["scan"]) == ["a.html", "b.html", "ids.txt", "t.csv"]
    assert ("html/ids.txt", "ssid") in [(f.path, f.kind) for f in found]


def test_the_link_check_parses_only_changed_pages_and_sees_a_removed_anchor(tmp_path, counted):
    site, record = site_of(tmp_path), tmp_path / "checked" / "links.json"
    assert links.check(site, record) == []
    assert len(counted["parse"]) == 2
    counted["parse"].clear()
    assert links.check(site, record) == []
    assert counted["parse"] == []

    write(site, "b.html", '<h2 id="y">B</h2><a href="a.html#top">a</a>')  # a.html's link now points nowhere
    assert [str(b) for b in links.check(site, record)] == ["a.html: b.html#x"]
    assert len(counted["parse"]) == 1
    (site / "b.html").unlink()
    assert [str(b) for b in links.check(site, record)] == ["a.html: b.html#x"]


def test_a_damaged_record_is_ignored(tmp_path):
    site, record = site_of(tmp_path), tmp_path / "checked" / "privacy.json"
    record.parent.mkdir()
    record.write_text("{not json")
    assert [f.kind for f in privacy.scan([site], tmp_path, 2022, environ=ENV, record=record)] == ["ssid"]
    assert "html/a.html" in json.loads(record.read_text())["files"]


def test_worker_processes_find_what_one_process_finds(tmp_path, monkeypatch):
    from helpers.publish import checked

    site = site_of(tmp_path)
    write(site, "path.html", f"<p>{tmp_path}/x</p>")
    one = privacy.scan([site], tmp_path, 2022, environ=ENV)
    broken_one = links.check(site)
    monkeypatch.setattr(checked, "POOL_MIN", 2)
    assert privacy.scan([site], tmp_path, 2022, environ=ENV, jobs=2) == one != []
    assert links.check(site, jobs=2) == broken_one


def test_the_key_is_the_same_in_every_process():
    """Nothing of the key may depend on the process: set order varies with Python's hash seed, and the root
    here is as long as sys.prefix (machine_paths sorts by length)."""
    import os
    import subprocess
    import sys

    root = sys.prefix[:-1] + ("x" if not sys.prefix.endswith("x") else "y")
    code = ("from pathlib import Path; from helpers.publish import privacy as p; "
            f"print(p._scan_key(2022, {{'1234567890', '2345678901'}}, p.machine_paths(Path({root!r})), {{}}))")
    keys = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                           capture_output=True, text=True, check=True).stdout for seed in range(4)}
    assert len(keys) == 1


def test_the_checks_take_the_release_records_hashes_and_hash_only_what_it_leaves_out(tmp_path, monkeypatch):
    """`build` hashes its site once, for release.json; the link check and the privacy scan look those hashes up
    (release.site_shas), with the same verdicts and records as when they hash every file themselves."""
    from helpers.core import digests
    from helpers.publish import checked
    from helpers.site import release

    site = site_of(tmp_path)
    release.write_record(site, "final", [], 2)
    hashed: list[str] = []
    monkeypatch.setattr(checked, "file_sha256",
                        lambda path: hashed.append(Path(path).name) or digests.file_sha256(path))
    shas = release.site_shas(site)
    assert sorted(Path(k).name for k in shas) == ["a.html", "b.html", "ids.txt", "t.csv"]
    found = privacy.scan([site.resolve()], tmp_path, 2022, environ=ENV, record=tmp_path / "c" / "privacy.json",
                         shas=shas)
    assert links.check(site, tmp_path / "c" / "links.json", shas=shas) == []
    assert hashed == ["release.json"]  # the one file the record does not list

    hashed.clear()
    assert privacy.scan([site], tmp_path, 2022, environ=ENV, record=tmp_path / "d" / "privacy.json") == found
    assert links.check(site, tmp_path / "d" / "links.json") == []
    assert sorted(hashed) == ["a.html", "a.html", "b.html", "b.html", "ids.txt", "release.json", "t.csv"]
    for name in ("privacy.json", "links.json"):
        assert (tmp_path / "c" / name).read_bytes() == (tmp_path / "d" / name).read_bytes()
    assert [(f.path, f.kind) for f in found] == [("html/ids.txt", "ssid")]
