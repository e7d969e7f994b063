"""helpers.site.sphinx_pages and parallel Sphinx builds: a small book built as `caaspp-book build` runs Jupyter
Book (-W -n --keep-going, the project's extensions), serially and with -j 2. Chart PNGs become image files with
the output's own markup and alt text, same-page numbered references resolve, the LEA notebook is unchanged,
and both builds give the same pages without a warning."""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

from helpers.report import outputs
from helpers.site import book, sphinx_pages

from .conftest import ROOT

pytestmark = pytest.mark.slow
ALT = 'Bar chart of <b>"Sunset" & Co</b>, two bars.'  # escaped by outputs.figure_html


def png(height: float) -> bytes:
    fig = Figure(figsize=(2, 1.5), dpi=50)
    fig.add_subplot().bar([0, 1], [1, height])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def small_book(root: Path) -> dict[str, bytes]:
    """A chapter with a figure and a numbered reference to it on the same page, and a notebook whose two
    HTML outputs are charts as the LEA notebook draws them (outputs.figure_html); returns the charts' PNGs."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]["config"]
    keep = ("extensions", "nb_merge_streams", "smartquotes", "nb_render_markdown_format", "myst_heading_anchors")
    config["sphinx"]["config"] = {k: sphinx[k] for k in keep}
    config["html"] = {}
    config["exclude_patterns"] = ["out-*"]  # the builds' output folders
    (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    # more than 5 documents: Sphinx reads in parallel (and checks that every extension allows it) only then
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: lea\n"
                                   + "".join(f"- file: other{i}\n" for i in range(5)), encoding="utf-8")
    for i in range(5):
        (root / f"other{i}.md").write_text(f"# Other {i}\n\nText {i}.\n", encoding="utf-8")
    (root / "fig.png").write_bytes(png(3))
    (root / "intro.md").write_text(
        "# Intro\n\n```{figure} fig.png\n:name: fig-one\n:alt: A figure.\n\nThe caption.\n```\n\n"
        "See {numref}`fig-one`.\n", encoding="utf-8")
    charts = {"levels": png(2), "trend": png(5)}
    frame = pd.DataFrame({"Grade": ["Grade 3"], "% Met": ["27.86"]})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# An LEA (01234560000000)")]
    for i, (name, data) in enumerate(charts.items()):
        cell = nbformat.v4.new_code_cell("display(chart)", metadata={"tags": ["remove-input"]})
        html = outputs.figure_html(data, ALT, f"Figure {i + 1}. {name}.", frame, "lea", f"{name}_chart")
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            "text/html": html, "text/plain": "<IPython.core.display.HTML object>"})]
        nb.cells.append(cell)
    nbformat.write(nb, root / "lea.ipynb")
    return charts


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[int, Path]]:
    root = tmp_path_factory.mktemp("small-book")
    charts = small_book(root)
    notebook = (root / "lea.ipynb").read_bytes()
    out = {}
    for jobs in (1, 2):
        out[jobs] = root / f"out-j{jobs}"
        result = book.jupyter_book(root, output=out[jobs], fresh=True, jobs=jobs)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        assert "WARNING" not in log and "doing serial" not in log, log[-3000:]
        # Sphinx reports parallel reading and writing by chunks of documents ("[ 33%] intro .. other0")
        chunks = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", log).splitlines()
                  if line.startswith(("reading sources", "writing output")) and " .. " in line]
        assert len(chunks) > 1 if jobs > 1 else chunks == [], log[-3000:]
    assert (root / "lea.ipynb").read_bytes() == notebook  # the downloadable notebook keeps its inline PNGs
    return root, charts, out


def test_parallel_and_serial_builds_write_the_same_pages(builds):
    _root, _charts, out = builds
    for page in ("intro.html", "lea.html", "other4.html", "searchindex.js"):
        assert (out[1] / "_build/html" / page).read_bytes() == (out[2] / "_build/html" / page).read_bytes(), page


def test_charts_are_image_files_with_the_outputs_own_markup(builds):
    root, charts, out = builds
    html_dir = out[2] / "_build/html"
    page = (html_dir / "lea.html").read_text(encoding="utf-8")
    assert "data:image" not in page and "base64" not in page
    imgs = re.findall(r'<figure class="caaspp-figure"><img src="([^"]+)" alt="([^"]*)" width="(\d+)" height="(\d+)" '
                      r'style="max-width: 100%; height: auto;"><figcaption>Figure (\d)\.', page)
    assert len(imgs) == 2
    for (src, alt, width, height, number), data in zip(imgs, charts.values()):
        sha = hashlib.sha256(data).hexdigest()
        assert src == f"_images/{sha}.png"
        assert (html_dir / src).read_bytes() == data
        assert alt == "Bar chart of &lt;b&gt;&quot;Sunset&quot; &amp; Co&lt;/b&gt;, two bars."
        assert (int(width), int(height)) == outputs.png_size(data)
    assert page.count('<details class="caaspp-data"><summary>Data for this chart</summary>') == 2
    assert page.count('<div class="output text_html">') == 2
    # the raw HTML around the image is the notebook's own, unchanged
    nb = nbformat.read(root / "lea.ipynb", as_version=4)
    for cell, (src, *_rest) in zip(nb.cells[1:], imgs):
        html = cell.outputs[0]["data"]["text/html"]
        ours = sphinx_pages.zipped_csv_links(html, "lea")  # but for its CSV link: to the page's CSV zip
        assert ours != html and re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", src, ours) in page
    assert re.findall(r'<a href="([^"]+)" download>Download the tables of this page \(CSV, zip\)</a>: this '
                      r'table is <code>([^<]+)</code>', page) == [("lea.csv.zip", "lea.levels_chart.csv"),
                                                                    ("lea.csv.zip", "lea.trend_chart.csv")]


def test_the_pages_doctree_holds_no_png_and_each_html_output_once(builds):
    _root, _charts, out = builds
    doctree = (out[1] / "_build/.doctrees/lea.doctree").read_bytes()
    assert b"base64" not in doctree and b"IHDR" not in doctree
    assert doctree.count(b"Data for this chart") == 2  # one per output: its text, without a rawsource copy
    nodes = pickle.loads(doctree)
    assert len(list(nodes.findall(sphinx_pages.chart_png))) == 2


def test_chart_files_are_kept_beside_the_doctrees_once(builds):
    _root, charts, out = builds
    kept = sorted(p.name for p in (out[1] / "_build" / sphinx_pages.CHARTS).iterdir())
    assert kept == sorted(f"{hashlib.sha256(d).hexdigest()}.png" for d in charts.values())


def test_a_numbered_reference_on_its_own_page_is_resolved(builds):
    _root, _charts, out = builds
    intro = (out[1] / "_build/html/intro.html").read_text(encoding="utf-8")
    assert re.search(r'<a class="reference internal" href="#fig-one"><span class="std std-numref">Fig\. 1</span></a>',
                     intro), intro[intro.find("See "):][:300]


def test_build_passes_jobs_to_sphinx_and_refuses_zero():
    with pytest.raises(ValueError):
        book.jupyter_book(ROOT, jobs=0)
    assert book.JB_MAIN.format(jobs=3).endswith("main(3)")


def test_a_rebuild_reads_no_page_again_and_drops_unused_chart_files(builds):
    """The chart files are dependencies of their page that are older than its reading (else every LEA page
    would be read again on every build); a chart file no page uses is removed."""
    root, _charts, out = builds
    stale = out[1] / "_build" / sphinx_pages.CHARTS / f"{'0' * 64}.png"
    stale.write_bytes(png(1))
    result = book.jupyter_book(root, output=out[1])
    log = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, log[-3000:]
    assert "updating environment: 0 added, 0 changed, 0 removed" in log, log[-3000:]
    assert not stale.exists()


def test_a_notebook_pages_download_link_names_its_zip(builds):
    _root, _charts, out = builds
    html_dir = out[1] / "_build/html"
    assert re.findall(r'href="(_sources/[^"]+)"', (html_dir / "lea.html").read_text(encoding="utf-8")) == [
        "_sources/lea.ipynb.zip"]
    assert re.findall(r'href="(_sources/[^"]+)"', (html_dir / "intro.html").read_text(encoding="utf-8")) == [
        "_sources/intro.md"]  # other pages keep the theme's link to their source


def test_new_page_shaping_code_reads_and_writes_every_page_again(builds, tmp_path, monkeypatch):
    """An incremental build after an upgrade of the code that shapes pages reads and writes every page once, so
    a read-time change (here the CSV link's text) reaches the pages; the next build reads and writes none."""
    root, _charts, out = builds
    code = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "helpers", code / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    module = code / "helpers" / "site" / "sphinx_pages.py"
    text = module.read_text(encoding="utf-8")
    assert text.count("(CSV, zip)</a>") == 1
    module.write_text(text.replace("(CSV, zip)</a>", "(CSV, zipped)</a>"), encoding="utf-8")
    logs, written = [], []
    pages = [out[2] / "_build/html" / f"{name}.html" for name in ("intro", "lea", *(f"other{i}" for i in range(5)))]
    for path in (str(ROOT / "src"), str(code), str(code)):  # the old code, the new, the new again
        before = [p.stat().st_mtime_ns for p in pages]
        monkeypatch.setenv("PYTHONPATH", path)
        result = book.jupyter_book(root, output=out[2])
        logs.append(re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr))
        assert result.returncode == 0, logs[-1][-3000:]
        written.append(sum(p.stat().st_mtime_ns != t for p, t in zip(pages, before)))
    read = [re.search(r"updating environment: (?:\[config changed \('caaspp_page_code'\)\] )?(\d+) added, "
                      r"(\d+) changed, 0 removed", log) for log in logs]
    assert [(int(m.group(1)), int(m.group(2))) if m else None for m in read] == [(0, 0), (7, 0), (0, 0)], \
        [log[-2000:] for log in logs]
    assert written == [0, 7, 0]
    page = (out[2] / "_build/html/lea.html").read_text(encoding="utf-8")
    assert page.count("Download the tables of this page (CSV, zipped)</a>") == 2
    assert "(CSV, zip)</a>" not in page


def test_the_search_index_takes_each_word_of_a_page_once_and_is_the_same(tmp_path):
    """An LEA page's tables repeat their numbers and names: the indexer gets each word once, in the order first
    met, and the frozen index (searchindex.js's data) is the same."""
    import functools

    from sphinx.application import Sphinx
    from sphinx.search import IndexBuilder

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("html_theme = 'basic'\n", encoding="utf-8")
    rows = "".join(f"<tr><td>{n % 7}.5</td><td>*</td><td>Sunset Elementary</td></tr>" for n in range(40))
    (src / "index.rst").write_text("Running Book\n============\n\nRunning runs ran, running.\n\n.. raw:: html\n\n"
                                   f"   <table>{rows}</table>\n\nTables\n------\n\nRunning again, Sunset.\n",
                                   encoding="utf-8")
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"), "html", status=None,
                 warning=None, freshenv=True)
    app.build()
    doctree = app.env.get_and_resolve_doctree("index", app.builder)
    frozen, collected = [], []
    for distinct in (False, True):
        indexer = IndexBuilder(app.env, "en", {}, None)
        if distinct:
            indexer._word_collector = functools.partial(sphinx_pages.distinct_words, indexer._word_collector)
        collected.append(indexer._word_collector(doctree))
        indexer.feed("index", "index.rst", "Running Book", doctree)
        frozen.append(indexer.freeze())
    assert frozen[0] == frozen[1]
    assert collected[1].words == list(dict.fromkeys(collected[0].words))
    assert collected[0].words.count("Sunset") == 41 and collected[1].words.count("Sunset") == 1
    assert collected[1].title_words == ["Running", "Book", "Tables"]
    sphinx_pages.cache_stems(app)
    app.builder.index_page("index", doctree, "Running Book")  # the wrapper installs it
    assert app.builder.indexer._word_collector.func is sphinx_pages.distinct_words
