"""The rows of an orders file, streamed: the first row alone, then batches of columns.

Only the columns an import uses are kept, as one list per column built while the rows
are read, so a batch costs a few lists rather than a list per row (which also spares
the garbage collector from walking a hundred thousand of them).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import polars as pl

from shequn.errors import InputError
from shequn.importers.orders.columns import separator
from shequn.importers.source import Source
from shequn.importers.text import open_text

_RUNS = re.compile(r"[ \t]+")

# A row and the line where it starts.
Row = tuple[int, list[str]]


class _Reader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


class _Spaced:
    """Like csv.reader, for columns separated by runs of spaces or tabs (no quoting)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.line_num = 0

    def __iter__(self) -> _Spaced:
        return self

    def __next__(self) -> list[str]:
        line = next(self.lines)
        self.line_num += 1
        return _RUNS.split(line.strip(" \t\r\n"))


class Rows:
    """The non-blank rows of one file, none wider than the first: a wider row has an
    unquoted separator in it, and would shift its cells into the wrong columns."""

    def __init__(self, reader: _Reader, where: str, sep: str) -> None:
        self.reader, self.where, self.sep = reader, where, sep
        self.end = 0  # the last line read
        self.width = 0  # the first row's

    def first(self) -> Row | None:
        """The first non-blank row (a header, or the first order)."""
        try:
            for row in self.reader:
                start, self.end = self.end + 1, self.reader.line_num
                if row and (row[0].strip() or "".join(row).strip()):
                    self.width = len(row)
                    return start, row
        except csv.Error as exc:
            raise self._unreadable(self.end + 1, str(exc)) from None
        return None

    def batches(
        self, used: list[int], size: int, pending: Row | None = None
    ) -> Iterator[pl.DataFrame]:
        """The rest of the rows, ``size`` at a time (after ``pending``, if given), as
        frames of the used columns (``c<index>``, raw strings) and ``_line``."""
        need = max(used) + 1
        starts: list[int] = []
        columns: list[list[str | None]] = [[] for _ in used]
        pairs = list(zip(used, columns, strict=True))
        if pending is not None:
            starts.append(pending[0])
            _append(pairs, pending[1], need)
        reader, width = self.reader, self.width
        try:
            for row in reader:
                start, self.end = self.end + 1, reader.line_num
                if not row or not (row[0].strip() or "".join(row).strip()):
                    continue  # a blank row
                if len(row) > width:
                    raise self._unreadable(start, f"{len(row)} fields, the first row has {width}")
                starts.append(start)
                if len(row) < need:  # a short row: its missing cells are blank
                    _append(pairs, row, need)
                else:
                    for index, column in pairs:
                        column.append(row[index])
                if len(starts) >= size:
                    # The strings are let go before the batch is used, not after.
                    batch = _frame(starts, columns, used)
                    starts, columns = [], [[] for _ in used]
                    pairs = list(zip(used, columns, strict=True))
                    yield batch
        except csv.Error as exc:
            raise self._unreadable(self.end + 1, str(exc)) from None
        if starts:
            yield _frame(starts, columns, used)

    def _unreadable(self, line: int, why: str) -> InputError:
        return InputError(
            f"the rows cannot be read as CSV ({why})",
            path=self.where,
            line=line,
            hint="every row needs the header's number of fields: quote fields that contain "
            f"{self.sep!r} or line breaks, and remove title lines above the header",
        )


def _frame(starts: list[int], columns: list[list[str | None]], used: list[int]) -> pl.DataFrame:
    data = {f"c{i}": column for i, column in zip(used, columns, strict=True)}
    schema = {**{f"c{i}": pl.String for i in used}, "_line": pl.Int64}
    return pl.DataFrame({**data, "_line": starts}, schema=schema)


def _append(pairs: list[tuple[int, list[str | None]]], row: list[str], need: int) -> None:
    padded: list[str | None] = [*row, *[None] * (need - len(row))]
    for index, column in pairs:
        column.append(padded[index])


@contextmanager
def reading(
    source: Source, name: str, columns: dict[str, str]
) -> Iterator[tuple[Rows, Callable[[], int]]]:
    """The rows of a file, and a count of the bytes read so far (for progress).

    The first line decides the layout: its most frequent separator, or runs of spaces
    when every mapped column is a number and it holds no comma, tab or semicolon.
    """
    where = source.where(name)
    with source.open_binary(name) as raw, open_text(raw, where) as (text, consumed):
        first = text.readline().lstrip("\ufeff")
        head = first[:4096]
        lines = itertools.chain([first], text)
        numbered = bool(columns) and all(v.isdigit() for v in columns.values())
        if numbered and not re.search(r"[,;\t]", head):
            yield Rows(_Spaced(lines), where, " "), consumed
        else:
            sep = separator(head)
            yield Rows(csv.reader(lines, delimiter=sep), where, sep), consumed
