# Tables of figures as an Excel workbook: typed cells and no list separator for a Vietnamese-locale Excel to misread.
from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter

SHEET_CHARS = 31  # Excel's longest sheet name
NAME_WIDTH = (14, 60)  # the first column's width in characters, fitted to its longest name within these
SURROGATE = re.compile("[\ud800-\udfff]")  # half a UTF-16 pair: no UTF-8 file can hold one


@dataclass(frozen=True)
class Sheet:
    """One sheet: the `heading` lines, then the table — `header` bold with a filter, kept in view while scrolling,
    `rows` with numbers as numbers and None or "" as an empty cell, `total` bold below — then `note`. Columns listed in
    `percent` hold fractions shown as percentages, those in `decimals` numbers shown to one decimal."""
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    heading: Sequence[str] = ()
    total: Sequence[Any] | None = None
    note: str | None = None
    percent: Sequence[int] = ()
    decimals: Sequence[int] = ()


def workbook(*sheets: Sheet) -> bytes:
    """An .xlsx file of `sheets`, in memory. Text is written as text: a name that looks like a number, a formula
    or an address stays as it was typed."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    used: set[str] = set()
    for sheet in sheets:
        name, n = _sheet_name(sheet.name), 1
        while name.casefold() in used:  # Excel tells two sheets apart regardless of case
            n += 1
            name = f"{_sheet_name(sheet.name)[:SHEET_CHARS - len(str(n)) - 3]} ({n})"
        used.add(name.casefold())
        _write(book, sheet, name)
    book.close()
    return out.getvalue()


def _write(book: Any, sheet: Sheet, name: str) -> None:
    def fmt(column: int, **extra: Any) -> Any:
        number = "0%" if column in sheet.percent else "0.0" if column in sheet.decimals else None
        return book.add_format({**({"num_format": number} if number else {}), **extra}) if number or extra else None

    width = len(sheet.header)
    cells = [fmt(c) for c in range(width)]
    totals = [fmt(c, bold=True, top=1) for c in range(width)]
    ws = book.add_worksheet(name)
    for r, line in enumerate(sheet.heading):
        ws.write_string(r, 0, _text(line), book.add_format({"bold": True, "font_size": 14}) if r == 0 else None)
    top = len(sheet.heading) + 1 if sheet.heading else 0
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    ws.write_row(top, 0, [_text(h) for h in sheet.header], head)
    ws.freeze_panes(top + 1, 1)
    for r, row in enumerate(sheet.rows, start=top + 1):
        _row(ws, r, row, cells)
    end = top + len(sheet.rows)
    if sheet.rows and width:
        ws.autofilter(top, 0, end, width - 1)
    if sheet.total is not None:
        end += 1
        _row(ws, end, sheet.total, totals)
    if sheet.note:
        ws.write_string(end + 2, 0, _text(sheet.note), book.add_format({"bold": True}))
    lines = [sheet.header, *sheet.rows, *([sheet.total] if sheet.total is not None else [])]
    longest = max((len(str(row[0])) for row in lines if row), default=0)
    ws.set_column(0, 0, max(NAME_WIDTH[0], min(NAME_WIDTH[1], longest + 2)))
    ws.set_column(1, max(1, width - 1), 12)


def _row(ws: Any, r: int, row: Sequence[Any], formats: list[Any]) -> None:
    for c, value in enumerate(row):
        fmt = formats[c] if c < len(formats) else None
        if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            if fmt is not None:  # an empty cell (not one holding no text); Excel has no NaN or infinity
                ws.write_blank(r, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, _text(value), fmt)


def _text(value: Any) -> str:
    """Text a workbook can hold: a lone surrogate becomes U+FFFD (control characters xlsxwriter writes as Excel
    escapes, and a cell past Excel's 32,767 characters it cuts)."""
    return SURROGATE.sub("\ufffd", str(value))


def _sheet_name(name: str) -> str:
    """A sheet name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    clean = "".join(" " if ch in "[]:*?/\\" or not ch.isprintable() else ch for ch in _text(name)).strip(" '")
    clean = clean or "Sheet"
    return clean[:SHEET_CHARS]
