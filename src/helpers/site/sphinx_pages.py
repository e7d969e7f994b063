"""Sphinx extension loaded by the book (`_config.yml`: `sphinx.config.extensions`): pages that are cheaper to
read, keep and write, with the same text, numbers and markup on every page (docs/benchmarks.md, section 5).

- Charts as image files. The LEA notebook shows each chart as one HTML output whose `<img>` carries its PNG
  inline (`data:image/png;base64,…`, helpers.report.outputs.figure_html), so that the executed notebook,
  which the site offers for download, is complete on its own. In the site that PNG was a third of the
  page's pickled doctree and of its HTML, and the search indexer stemmed its base64 text as words. As a
  page is read, each such PNG is written once to a file named by its SHA-256 (`CHARTS` beside the
  doctrees) and the output becomes an `html_with_images` node: its own markup, unchanged, around
  `chart_png` image nodes (each holding its `<img>` tag's other attributes) that Sphinx collects and copies
  to `_images/` like any other image. The HTML written is the output's markup byte for byte but for the
  `src` (a relative path instead of the data URI), and the search index gets the same words (the indexer
  drops a raw `<img …>` tag whole, so the tag stays out of the raw children). The notebook itself is not
  changed. Chart files no page uses any more are removed when a build finishes (`prune_charts`).
- Raw HTML kept once. myst-nb stores an HTML output's text twice in the doctree (the node's `rawsource` and
  its text); the HTML writer and the search indexer read only the text, so `rawsource` is dropped.
- Numbered references to the same page resolved on that page. Sphinx's std domain resolves every `{numref}`
  by unpickling the doctree of the page the target is on (`env.get_doctree`), once per reference: a chapter
  with a dozen charts, each with a "Data for Fig. N" dropdown, was unpickled a dozen times while it was
  written (6 s of a 50-LEA book). A reference whose target is on the page being written is resolved here by
  the same domain code against that page's doctree; the others are left to Sphinx.
- Search words stemmed once per build. Sphinx's indexer caches a word's stem for one page only; the LEA
  pages share most of their words (numbers, labels, names), so the stems are cached across pages
  (`cache_stems`; a stem depends on the word alone, so the index is the same).
- The notebook and its tables offered zipped. The theme's "download source" link of a notebook page points
  at the zip the build puts in place of the notebook's copy in `_sources/` (helpers.site.notebooks.offer_zipped),
  and each table's CSV link at the zip of the page's CSVs (`<stem>.csv.zip`, offer_tables), naming the table's
  file in it. The notebook itself keeps its links to the CSVs beside it, where `run` writes them.
- Pages read and written again when the code that shapes them changes. Sphinx reads a page again when its
  source or an `env` config value changed, not when an extension did: after an upgrade an incremental build
  would keep doctrees made by the old transforms (a page's links to its loose CSVs, say) and write them again.
  The SHA-256 of this book's page-shaping code is such a config value (`PAGE_CODE`), so new code reads and
  writes every page once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import posixpath
import re
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

from helpers.site import notebooks

CHARTS = "caaspp_charts"  # folder of the chart PNGs, beside Sphinx's doctree folder
# An image with an inline PNG as helpers.report.outputs.figure_html writes it: the PNG, then the tag's other
# attributes. Page text cannot produce this: input text reaches an output only escaped (helpers.core.text),
# so never as `<img src="`, and never with `<` or `>` inside an attribute value.
INLINE_PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/]+={0,2})"([^<>]*)>')
# A table's CSV link as helpers.report.outputs.csv_link writes it: the page's stem, then the table's name.
CSV_LINK = re.compile(r'<p class="caaspp-csv"><a href="([\w-]+)\.(\w+)\.csv" download>'
                      r'Download this table \(CSV\)</a></p>')
ZIPPED_CSV_LINK = ('<p class="caaspp-csv"><a href="{zip}" download>Download the tables of this page (CSV, zip)</a>: '
                   'this table is <code>{stem}.{table}.csv</code></p>')


def zipped_csv_links(text: str, stem: str) -> str:
    """An output's links to the page's table CSVs as links to their zip (helpers.site.notebooks.offer_tables),
    each naming its table's file in the zip."""
    return CSV_LINK.sub(lambda m: ZIPPED_CSV_LINK.format(zip=notebooks.tables_zip(stem), stem=stem, table=m[2])
                        if m[1] == stem else m[0], text)


class chart_png(nodes.image):
    """A chart's PNG as a file inside an `html_with_images` node: Sphinx collects and copies it as an image;
    the HTML writer writes the output's own `<img>` tag with the file's URI as `src` (`attributes`: the
    rest of the tag, as the output wrote it)."""


class html_with_images(nodes.General, nodes.Element):
    """An HTML output whose inline PNGs are files: `raw` HTML children around `chart_png` children, written as
    the raw node it replaces was (in a `div` with its classes)."""


def _write_png(folder: Path, png: bytes, mtime: float) -> Path:
    """The PNG as `<folder>/<sha256>.png`, written once (atomically: pages are read in parallel), with the
    modification time `mtime` of the notebook it comes from. The file is a dependency of the page; Sphinx
    reads a page again when a dependency is newer than its record of the page's reading, so the file must
    never look newer than that (tests/test_sphinx_pages.py: a rebuild reads no page again)."""
    path = folder / f"{hashlib.sha256(png).hexdigest()}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(png)
        os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)
    return path


class LeanHtmlOutputs(SphinxTransform):
    """Raw HTML without its duplicate `rawsource`; inline chart PNGs as files; a notebook's table CSV links
    to their zip (see the module docstring)."""

    default_priority = 870  # before DoctreeReadEvent (880), whose ImageCollector registers the images

    def apply(self, **kwargs: Any) -> None:
        folder = Path(self.app.doctreedir).parent / CHARTS
        source = self.env.doc2path(self.env.docname)
        stem = Path(source).stem if str(source).endswith(".ipynb") else None
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            raw.rawsource = ""
            text = raw.astext()
            if stem and "caaspp-csv" in text:
                text = zipped_csv_links(text, stem)
                raw.replace(raw[0], nodes.Text(text))
            if "data:image/png;base64," not in text or not INLINE_PNG.search(text):
                continue
            mtime = os.stat(source).st_mtime if os.path.exists(source) else 0
            new = html_with_images(classes=list(raw["classes"]))
            start = 0
            for m in INLINE_PNG.finditer(text):
                path = _write_png(folder, base64.b64decode(m[1]), mtime)
                new += nodes.raw("", text[start:m.start()], format="html")
                new += chart_png(uri="/" + Path(os.path.relpath(path, self.app.srcdir)).as_posix(),
                                 attributes=m[2])
                start = m.end()
            new += nodes.raw("", text[start:], format="html")
            new.source, new.line = raw.source, raw.line
            raw.replace_self(new)


def prune_charts(app: Sphinx, exception: Exception | None) -> None:
    """Remove the chart files that no page of the book uses any more (after a successful build: the
    environment then lists the images of every page, read in this build or kept from an earlier one)."""
    folder = Path(app.doctreedir).parent / CHARTS
    if exception is not None or not folder.is_dir():
        return
    used = {posixpath.basename(image) for image in app.env.images}
    for path in folder.glob("*.png"):
        if path.name not in used:
            path.unlink()


def visit_html_with_images(self: Any, node: html_with_images) -> None:
    self._caaspp_tag = "span" if isinstance(node.parent, nodes.TextElement) else "div"  # as visit_raw
    if node["classes"]:
        self.body.append(self.starttag(node, self._caaspp_tag, suffix=""))


def depart_html_with_images(self: Any, node: html_with_images) -> None:
    if node["classes"]:
        self.body.append(f"</{self._caaspp_tag}>")


def visit_chart_png(self: Any, node: chart_png) -> None:
    """The output's `<img>` tag with the image's URI in the site, as Sphinx's HTML writer computes it for an
    image (visit_image)."""
    uri = node["uri"]
    if uri in self.builder.images:
        uri = posixpath.join(self.builder.imgpath, urllib.parse.quote(self.builder.images[uri]))
    self.body.append(f'<img src="{self.attval(uri)}"{node["attributes"]}>')
    raise nodes.SkipNode


class _PageEnv:
    """The build environment, but with the page being written as the doctree of its own name."""

    def __init__(self, env: Any, docname: str, document: nodes.document) -> None:
        self._env, self._docname, self._document = env, docname, document

    def get_doctree(self, docname: str) -> nodes.document:
        return self._document if docname == self._docname else self._env.get_doctree(docname)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class SamePageNumrefs(SphinxPostTransform):
    """`{numref}`s whose target is on the page being written, resolved against this page's doctree (see the
    module docstring); what cannot be resolved here is left to Sphinx's ReferencesResolver (priority 10)."""

    default_priority = 5

    def run(self, **kwargs: Any) -> None:
        std = self.env.get_domain("std")
        docname = self.env.docname
        page_env = None
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("refdomain") != "std" or node.get("reftype") != "numref" or not node.children:
                continue
            target = node["reftarget"]
            where = std.labels.get(target) or std.anonlabels.get(target)
            if not where or where[0] != docname or isinstance(node[0], addnodes.pending_xref_condition):
                continue
            node.setdefault("refdoc", docname)
            page_env = page_env or _PageEnv(self.env, docname, self.document)
            new = std.resolve_xref(page_env, node["refdoc"], self.app.builder, "numref", target, node,
                                   node[0].deepcopy())
            if new is not None:
                node.replace_self(new)


def cache_stems(app: Sphinx) -> None:
    """Wrap the HTML builder's `index_page` so that its indexer's stemmer keeps every stem it computed, and
    the indexer takes each word of a page once (the indexer exists only once writing starts)."""
    builder: Any = app.builder
    index_page = getattr(builder, "index_page", None)
    if index_page is None:
        return

    def index_page_with_cached_stems(pagename: str, doctree: nodes.document, title: str) -> None:
        indexer = builder.indexer
        lang = getattr(indexer, "lang", None)
        if lang is not None and not hasattr(lang.stem, "cache_info"):
            lang.stem = functools.lru_cache(maxsize=1 << 17)(lang.stem)
        if indexer is not None and not hasattr(indexer, "_caaspp_words"):
            indexer._caaspp_words = indexer._word_collector
            indexer._word_collector = functools.partial(distinct_words, indexer._caaspp_words)
        index_page(pagename, doctree, title)

    builder.index_page = index_page_with_cached_stems


def distinct_words(collect: Callable[[nodes.document], Any], doctree: nodes.document) -> Any:
    """Sphinx's words of a page (`IndexBuilder._word_collector`) with each word and title word once, in the
    order first met. `IndexBuilder.feed` does the same for a word however often it comes (it adds the page to
    the sets of the word's stem), and an LEA page's tables repeat their numbers and marks: a statewide build's
    main process spent about a third of its writing feeding them (docs/benchmarks.md, run X)."""
    store = collect(doctree)
    store.words[:] = dict.fromkeys(store.words)
    store.title_words[:] = dict.fromkeys(store.title_words)
    return store


SOURCE_BUTTON = "download-source-button"  # sphinx-book-theme's label of its "download source" link


def zipped_notebook_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """A notebook page's "download source" link to its zip (after the theme's handlers, which add it)."""
    source = context.get("sourcename") or ""
    if not source.endswith(".ipynb"):
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("type") == "group" else []:
            if button.get("label") == SOURCE_BUTTON and button.get("url", "").endswith(f"/{source}"):
                button.update(url=notebooks.zipped_source(button["url"]), text=".ipynb.zip",
                              tooltip="Download the executed notebook (zip)")


PAGE_CODE = "caaspp_page_code"
WRITERS = ("sphinx_pages.py", "sphinx_fixes.py", "notebooks.py")  # helpers.site's modules that shape a page


def page_code_digest() -> str:
    """SHA-256 of the modules that shape a written page (WRITERS)."""
    digest = hashlib.sha256()
    for name in WRITERS:
        digest.update(Path(__file__).with_name(name).read_bytes())
    return digest.hexdigest()


LEA_INDEX = "book/leas/index"


def lea_index(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Whether the book has the LEA index (`caaspp_lea_index`), which the fixed sidebar links
    (book/_templates/caaspp-lea-nav.html): a book of state or county rows only has no LEA pages."""
    context["caaspp_lea_index"] = LEA_INDEX in app.env.all_docs


def setup(app: Sphinx) -> dict:
    app.add_config_value(PAGE_CODE, page_code_digest(), "env")  # a new value: every page read and written again
    app.add_node(chart_png, html=(visit_chart_png, None))
    app.add_node(html_with_images, html=(visit_html_with_images, depart_html_with_images))
    app.add_transform(LeanHtmlOutputs)
    app.add_post_transform(SamePageNumrefs)
    app.connect("builder-inited", cache_stems)
    app.connect("build-finished", prune_charts)
    app.connect("html-page-context", zipped_notebook_link, priority=800)  # the theme's are 500 and 501
    app.connect("html-page-context", lea_index)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
