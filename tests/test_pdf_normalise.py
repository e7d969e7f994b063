"""pdf.normalise: the same page printed twice gives the same bytes, whatever dates and DOM node numbers
Chromium used (a tagged PDF's table-header IDs are node numbers handed out lazily)."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.publish import pdf


def tagged(ids: tuple[str, str, str], date: str) -> bytes:
    """A cut-down Chromium tagged PDF: three table headers with IDs, cells pointing at them, the ID tree."""
    a, b, c = ids
    elems = b"".join(b"%d 0 obj\n<</Type /StructElem\n/S /TH\n/ID (node%s)>>\nendobj\n" % (10 + k, i.encode())
                     for k, i in enumerate(ids))
    cells = b"20 0 obj\n<</S /TD\n/A [<</O /Table\n/Headers [(node%s)]>>]>>\nendobj\n" % c.encode()
    pairs = sorted([(a, 10), (b, 11), (c, 12)])
    names = b" ".join(b"(node%s) %d 0 R" % (i.encode(), n) for i, n in pairs)
    leaf = b"30 0 obj\n<</Limits [(node%s) (node%s)]\n/Names [%s]>>\nendobj\n" % (
        pairs[0][0].encode(), pairs[-1][0].encode(), names)
    info = b"1 0 obj\n<</CreationDate (D:%s+00'00')\n/ModDate (D:%s+00'00')>>\nendobj\n" % (date.encode(), date.encode())
    return b"%PDF-1.7\n" + info + elems + cells + leaf + b"%%EOF\n"


def normalised(tmp_path: Path, data: bytes, name: str) -> bytes:
    path = tmp_path / name
    path.write_bytes(data)
    pdf.normalise(path)
    return path.read_bytes()


def test_ids_numbered_in_another_order_and_dates_normalise_to_the_same_bytes(tmp_path):
    first = tagged(("00000229", "00000231", "00000272"), "20261123130839")
    second = tagged(("00000950", "00000218", "00000301"), "20261124094501")  # not in document order
    one, two = normalised(tmp_path, first, "a.pdf"), normalised(tmp_path, second, "b.pdf")
    assert one == two
    assert len(one) == len(first) and len(two) == len(second)  # the xref offsets stay valid
    assert b"/CreationDate (D:20000101000000+00'00')" in one
    assert re.findall(rb"/ID \((node[0-9]+)\)", one) == [b"node00000001", b"node00000002", b"node00000003"]
    assert b"/Headers [(node00000003)]" in one
    assert b"/Limits [(node00000001) (node00000003)]" in one
    assert b"/Names [(node00000001) 10 0 R (node00000002) 11 0 R (node00000003) 12 0 R]" in one


def test_an_id_tree_of_another_shape_is_renumbered_in_its_sorted_order(tmp_path):
    data = tagged(("00000005", "00000003", "00000004"), "20261123130839").replace(b") 10 0 R", b")  10 0 R")
    out = normalised(tmp_path, data, "c.pdf")
    assert len(out) == len(data)
    assert b"/Names [(node00000001) 11 0 R (node00000002) 12 0 R (node00000003)  10 0 R]" in out  # still sorted
    assert b"/Limits [(node00000001) (node00000003)]" in out
