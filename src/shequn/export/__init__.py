"""Export formats of the event log: each one a `Format` in `FORMATS`.

Adding a format is one writer function in `shequn.export.writers` and one line here.
The writers import Polars, so they are named, not imported, until an export runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shequn.errors import InputError
from shequn.registry import load, one_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    import polars as pl

    Writer = Callable[[Iterable[pl.DataFrame], Path], int]


@dataclass(frozen=True)
class Format:
    """A file format of `shequn export events`.

    Attributes:
        name: the ``--format`` value.
        extension: of the file written when no ``--out`` is given.
        writer: ``module:function`` writing frames of events to a path and returning how
            many rows it wrote; imported on first use.
        binary: not text (kept off a terminal).
    """

    name: str
    extension: str
    writer: str
    binary: bool = False

    def write(self, frames: Iterable[pl.DataFrame], path: Path) -> int:
        write: Writer = load(self.writer)
        return write(frames, path)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("csv", ".csv", "shequn.export.writers:write_csv"),
        Format("jsonl", ".jsonl", "shequn.export.writers:write_jsonl"),
        Format("parquet", ".parquet", "shequn.export.writers:write_parquet", binary=True),
    )
}


def formats_text() -> str:
    """The choices as a person writes them: ``csv, jsonl or parquet``."""
    return one_of(FORMATS)


def export_format(name: str) -> Format:
    """The format called `name`.

    Raises:
        InputError: naming --format and the choices, for an unknown name.
    """
    if name not in FORMATS:
        raise InputError(f"unknown format {name!r}", field="--format", hint=f"use {formats_text()}")
    return FORMATS[name]
