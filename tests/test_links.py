"""The link check over a built site."""

from __future__ import annotations

from pathlib import Path

from helpers.publish import links


def page(site: Path, rel: str, body: str) -> None:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


def test_internal_links_must_resolve_to_files_of_the_site(tmp_path):
    site = tmp_path / "html"
    page(site, "index.html", '<a id="top"></a><a href="book/a.html#x">a</a> <a href="https://example.org/">ext</a> '
                             '<a href="#top">top</a> <a href="mailto:x@y.z">m</a> <img src="data:image/png;base64,AA">'
                             '<a href="book/a.html#gone">gone</a> <a href="#nowhere">nowhere</a>')
    page(site, "book/a.html", '<h2 id="x">x</h2><a href="../index.html">up</a> <a href="b.csv?download=1">csv</a> '
                              '<img src="../_images/missing.png"> <a href="../../outside.html">out</a> '
                              '<a href="/book/">dir</a> <script src="../_static/x.js"></script>')
    (site / "book" / "b.csv").write_text("a\n1\n")
    (site / "book" / "index.html").write_text("<html></html>")
    (tmp_path / "outside.html").write_text("<html></html>")  # exists, but outside the site
    page(site, "_static/webpack-macros.html", "<link href=\"{{ pathto('x.css', 1) }}\">")  # theme template
    broken = {(b.page, b.target) for b in links.check(site)}
    assert broken == {("book/a.html", "../_images/missing.png"), ("book/a.html", "../../outside.html"),
                      ("book/a.html", "../_static/x.js"), ("index.html", "book/a.html#gone"),
                      ("index.html", "#nowhere")}


def test_refs_are_unquoted_and_fragments_dropped():
    refs = links.internal_refs('<a href="a%20b.html#s">x</a><a href="?q=1">q</a><img src="c.png">')
    assert refs == ["a b.html", "c.png"]


def test_links_and_ids_are_read_as_a_browser_reads_them(tmp_path):
    """A repeated attribute counts once, its first value (html.parser gave both); markup in a textarea or a
    comment is text, not a link; upper-case tags and attributes, entities in a value."""
    site = tmp_path / "html"
    page(site, "index.html", '<a href="a.html" href="gone.html">a</a><div id="x" id="y"></div>'
                             '<a href="#y">y</a><textarea><a href="t.html"></textarea><!-- <a href="c.html"> -->'
                             '<A HREF="a.html?p=1&amp;q=2#S">s</A>')
    page(site, "a.html", '<A NAME="S"></A>')
    assert [(b.page, b.target) for b in links.check(site)] == [("index.html", "#y")]


def test_links_through_symbolic_links_resolve_as_the_file_system_does(tmp_path):
    """A folder or file linked from outside the site is outside it; `..` after a linked folder climbs from
    where the link points (as Path.resolve resolves it), not from the link's own folder."""
    site, outside = tmp_path / "html", tmp_path / "outside"
    page(site, "book/a.html", "a")
    page(site, "book/sub/b.html", "b")
    page(outside, "x.html", "x")
    (site / "out").symlink_to(outside, target_is_directory=True)
    (site / "f.html").symlink_to(outside / "x.html")
    (site / "in").symlink_to(site / "book", target_is_directory=True)
    (site / "deep").symlink_to(site / "book" / "sub", target_is_directory=True)
    (site / "g.html").symlink_to(site / "book" / "a.html")
    page(site, "index.html", '<a href="out/x.html">1</a><a href="f.html">2</a><a href="in/a.html">3</a>'
                             '<a href="deep/../a.html">4</a><a href="deep/../../book/sub/b.html">5</a>'
                             '<a href="deep/../sub/../../book/a.html">6</a><a href="g.html">7</a><a href="in/">8</a>')
    assert sorted(b.target for b in links.check(site) if b.page == "index.html") == [
        "f.html", "in/", "out/x.html"]
