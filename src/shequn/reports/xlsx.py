"""The review as an Excel workbook: one sheet per section, numbers stored as numbers."""

from __future__ import annotations

import re
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from shequn.reports.tables import Table, heading, sections
from shequn.review.build import Review
from shequn.spreadsheet import escape

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    return _BAD_SHEET_CHARS.sub(" ", title)[:31]


def _fill(ws, table: Table) -> None:  # type: ignore[no-untyped-def]
    ws.append(table.columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append([escape(c.value) if isinstance(c.value, str) else c.value for c in row])
        for cell, source in zip(ws[ws.max_row], row, strict=True):
            if source.number_format and isinstance(source.value, int | float):
                cell.number_format = source.number_format
    if table.note:
        ws.append([])
        ws.append([table.note])
    for i, _ in enumerate(table.columns):
        letter = ws.cell(row=1, column=i + 1).column_letter
        ws.column_dimensions[letter].width = 40 if i == 0 or table.key == "goals" else 16


def render_xlsx(review: Review) -> bytes:
    """The workbook as bytes (write them to a .xlsx file)."""
    book = Workbook()
    title, compared = heading(review)
    book.properties.title = title
    book.properties.description = compared
    first = True
    for table in sections(review):
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = _sheet_title(table.title)
        _fill(ws, table)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
