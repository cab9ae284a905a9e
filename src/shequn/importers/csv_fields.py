"""Reading CSV rows with a field size limit fit for exports, and errors with a line.

Python's csv module refuses a field over 128 KiB by default; exports hold longer
cells (HTML product descriptions, forwarded chat histories kept as XML, long
messages), so the limit is raised to `FIELD_LIMIT`. A field even longer than that,
or a quote left open, is an error naming the file and the line where the row began.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from shequn.errors import InputError

FIELD_LIMIT = 64 << 20  # 64 MiB: far beyond any real cell, still bounded


def allow_long_fields() -> None:
    """Raise the csv module's field size limit to `FIELD_LIMIT` (never lower it)."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))


def numbered_rows(text: TextIO, where: str) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it started on; a csv error names that line and the fix.

    Raises:
        InputError: a field over `FIELD_LIMIT`, or a row the csv module cannot read.
    """
    allow_long_fields()
    reader = csv.reader(text)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            too_long = "field larger than field limit" in str(exc)
            raise InputError(
                f"a field is longer than {FIELD_LIMIT >> 20} MiB"
                if too_long
                else f"not readable as CSV ({exc})",
                path=where,
                line=start,
                hint="a quote is probably left open on this line: close it, or "
                'double the quotes inside a quoted field ("")',
            ) from None
        yield start, row
