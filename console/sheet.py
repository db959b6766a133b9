# A table of figures as an Excel workbook: typed cells and no separator for a Vietnamese-locale Excel to misread.
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter

SHEET_CHARS = 31  # Excel's longest sheet name
NAME_WIDTH = (14, 60)  # the first column's width in characters, fitted to its longest name within these


def workbook(sheet: str, heading: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[Any]],
             total: Sequence[Any] | None = None, note: str | None = None,
             percent: Sequence[int] = (), decimals: Sequence[int] = ()) -> bytes:
    """An .xlsx file of one sheet: the `heading` lines, then the table — `header` bold with a filter, its row kept in
    view while scrolling, `rows` with numbers as numbers and None as an empty cell, `total` bold below — then
    `note`. Columns listed in `percent` hold fractions shown as percentages, those in `decimals` one decimal."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False})  # a name that looks like a formula stays text
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    formats = {i: book.add_format({"num_format": "0%"}) for i in percent}
    formats.update({i: book.add_format({"num_format": "0.0"}) for i in decimals})
    totals = {i: book.add_format({"bold": True, "top": 1, **({"num_format": "0%"} if i in percent else {}),
                                  **({"num_format": "0.0"} if i in decimals else {})})
              for i in range(len(header))}
    ws = book.add_worksheet(_sheet_name(sheet))
    for r, line in enumerate(heading):
        ws.write_string(r, 0, line, title if r == 0 else None)
    top = len(heading) + 1 if heading else 0
    ws.write_row(top, 0, header, head)
    ws.freeze_panes(top + 1, 1)
    for r, row in enumerate(rows, start=top + 1):
        _row(ws, r, row, formats)
    end = top + len(rows)
    if rows:
        ws.autofilter(top, 0, end, len(header) - 1)
    if total is not None:
        end += 1
        _row(ws, end, total, totals)
    if note:
        ws.write_string(end + 2, 0, note, bold)
    names = [len(str(row[0])) for row in [header, *rows, *([total] if total is not None else [])] if row]
    ws.set_column(0, 0, max(NAME_WIDTH[0], min(NAME_WIDTH[1], max(names, default=0) + 2)))
    ws.set_column(1, max(1, len(header) - 1), 12)
    book.close()
    return out.getvalue()


def _row(ws: Any, r: int, row: Sequence[Any], formats: dict[int, Any]) -> None:
    for c, value in enumerate(row):
        fmt = formats.get(c)
        if value is None:
            if fmt is not None:
                ws.write_blank(r, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, str(value), fmt)


def _sheet_name(name: str) -> str:
    """A sheet name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip(" '") or "Sheet"
    return clean[:SHEET_CHARS]
