"""The privacy scan's streaming reader of HTML tables (helpers.publish.html_tables)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from helpers.publish import html_tables


def soup_tables(html: str) -> list:
    """What the scan read before: BeautifulSoup's th texts and each tr's td texts."""
    out = []
    for table in BeautifulSoup(html, "html.parser").find_all("table"):
        header = [th.get_text(" ", strip=True) for th in table.find_all("th")]
        rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in table.find_all("tr")]
        out.append((header, [r for r in rows if r]))
    return out


PAGE = """<html><head><title>x</title></head><body><nav><a href="a.html">A</a></nav>
<table class="dataframe"><caption>Table 1. Results</caption>
  <thead><tr><th>Grade</th><th>Students <br/>with scores</th><th>% Met &amp; Above</th></tr></thead>
  <tbody><tr><td> 3 </td><td>1,234</td><td><span>45</span>.<b>6</b></td></tr>
  <tr><td>4</td><td>&lt;4</td><td>*</td></tr><tr></tr></tbody></table>
<p>between</p><table><tr><th>Enrolled</th></tr><tr><td>3</td></tr></table></body></html>"""


def test_tables_read_as_beautifulsoup_reads_them():
    assert html_tables.read(PAGE) == soup_tables(PAGE) == [
        (["Grade", "Students with scores", "% Met & Above"], [["3", "1,234", "45 . 6"], ["4", "<4", "*"]]),
        (["Enrolled"], [["3"]])]


def test_cells_and_rows_left_open_end_where_a_browser_ends_them():
    html = "<TABLE><TR><TH>Enrolled<TD>3<TR><TD>7</TABLE>"
    assert html_tables.read(html) == [(["Enrolled"], [["3"], ["7"]])]


def test_unclosed_and_nested_tables_are_read_to_the_end():
    html = "<table><tr><th>Tested</th></tr><tr><td>2<table><tr><th>With scores</th></tr><tr><td>9</td></tr>"
    assert html_tables.read(html) == [(["Tested"], [["2"]]), (["With scores"], [["9"]])]


def test_a_cell_outside_a_row_is_still_read():
    assert html_tables.read("<table><th>Tested</th><td>3</td></table>") == [(["Tested"], [["3"]])]


def test_text_outside_tables_is_not_a_table():
    assert html_tables.read("<p>Tested 3</p><td>3</td>") == []


def test_a_text_the_parser_hands_in_pieces_is_one_string():
    """libxml2 hands a text with character references in pieces; a cell's text is still its strings as
    BeautifulSoup gives them (unjoined, the methods page's ".2022.pdf &#64;f81d13a3" read as "@ f81d13a3")."""
    html = ("<table><tr><th>Source</th></tr><tr><td>.2022.pdf &#64;f81d13a3 a&amp;b &lt;4 x&#x41;y</td>"
            "<td>1<!-- note -->2<?pi x?>3</td></tr></table>")
    assert html_tables.read(html) == soup_tables(html) == [
        (["Source"], [[".2022.pdf @f81d13a3 a&b <4 xAy", "1 2 3"]])]
