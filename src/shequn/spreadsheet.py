"""Cells safe to open in a spreadsheet: no text is ever run as a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (``=HYPERLINK(...)``,
``=1+2``): member texts are written by anyone, so exports prefix such cells with a
single quote, as OWASP advises for CSV injection. The canonical importer removes
that one quote again, so an export imports back unchanged; a text that itself starts
with quotes before a formula character gets one more, so the round trip is exact.
Numbers (amounts such as ``-20``) and timestamps are never prefixed.
"""

from __future__ import annotations

import polars as pl

_FORMULA = r"^'*[=+\-@\t\r]"
_ESCAPED = r"^'+[=+\-@\t\r]"


def escape(text: str) -> str:
    """One text cell as written to CSV or XLSX."""
    return "'" + text if text.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def escape_column(name: str) -> pl.Expr:
    """`escape` over a string column (nulls stay null)."""
    column = pl.col(name)
    return (
        pl.when(column.str.contains(_FORMULA))
        .then(pl.lit("'") + column)
        .otherwise(column)
        .alias(name)
    )


def safe(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `escape_column` over each of its text columns: rows written to a CSV
    or XLSX file for people (numbers and instants are left as they are)."""
    return frame.with_columns(
        escape_column(name) for name, kind in frame.schema.items() if kind == pl.String
    )


def unescape_column(name: str) -> pl.Expr:
    """The inverse of `escape_column`: one leading quote off an escaped cell."""
    column = pl.col(name)
    return (
        pl.when(column.str.contains(_ESCAPED))
        .then(column.str.slice(1))
        .otherwise(column)
        .alias(name)
    )
