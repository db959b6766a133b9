# The Excel writer (bus/sheet.py): whatever text and numbers it is given, a workbook Excel's readers open, cells intact.
from __future__ import annotations

import io
import math

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.sheet import SHEET_CHARS, Sheet, workbook

CELLS = st.none() | st.text(max_size=40) | st.integers(-(2**53), 2**53) | st.floats(allow_subnormal=False)
ROWS = st.lists(st.lists(CELLS, min_size=1, max_size=5), max_size=6)


def read(body: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(body))


def expected(value: object) -> object:
    """What a cell written from `value` reads back as: empty for None, "" and what Excel cannot hold as a number."""
    if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    return value


@settings(max_examples=150, deadline=None, derandomize=True)
@given(names=st.lists(st.text(max_size=40), min_size=1, max_size=3), header=st.lists(st.text(max_size=12), max_size=5),
       rows=ROWS, heading=st.lists(st.text(max_size=30), max_size=2))
def test_any_text_and_numbers_give_a_workbook_whose_cells_read_back(names: list[str], header: list[str],
                                                                   rows: list[list[object]],
                                                                   heading: list[str]) -> None:
    body = workbook(*(Sheet(name, header, rows, heading, note="ghi chú") for name in names))
    book = read(body)
    assert len(book.sheetnames) == len(names) == len({n.casefold() for n in book.sheetnames})
    assert all(0 < len(n) <= SHEET_CHARS for n in book.sheetnames)
    sheet = book.worksheets[0]
    top = len(heading) + 2 if heading else 1  # the header's row, counted from 1
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row, start=1):
            got, want = sheet.cell(r, c).value, expected(value)
            if isinstance(want, str) and any(ord(ch) < 32 for ch in want):
                continue  # control characters are kept as Excel's own escapes (_x0001_), which openpyxl leaves be
            assert got == want or (isinstance(want, float) and math.isclose(got, want)), (r, c, value, got)


def test_a_name_that_looks_like_a_formula_a_number_or_an_address_stays_text() -> None:
    rows = [["=HYPERLINK(\"http://x\")", "0012", "http://example.com", "1,5"]]
    sheet = read(workbook(Sheet("Thống kê: [tháng 12]", ["a", "b", "c", "d"], rows))).worksheets[0]
    assert [c.value for c in sheet[2]] == rows[0] and all(c.data_type == "s" for c in sheet[2])
    assert sheet.title == "Thống kê   tháng 12"
