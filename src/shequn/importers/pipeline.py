"""From an importer's items to validated frames ready to store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from shequn.domain.events import Event
from shequn.errors import InputError
from shequn.importers import detect, get
from shequn.importers.base import ImportContext, Importer, Item
from shequn.importers.frame import conform, events_to_frame, validate
from shequn.importers.source import Source

EVENT_BATCH = 50_000


def frames(items: Iterable[Item], where: str) -> Iterator[pl.DataFrame]:
    """Validated frames of the FRAME_SCHEMA from a stream of events and frames."""
    pending: list[Event] = []
    for item in items:
        if isinstance(item, Event):
            pending.append(item)
            if len(pending) >= EVENT_BATCH:
                yield validate(events_to_frame(pending), where)
                pending = []
            continue
        if pending:
            yield validate(events_to_frame(pending), where)
            pending = []
        if item.height:
            yield validate(conform(item), where)
    if pending:
        yield validate(events_to_frame(pending), where)


def choose(source: Source, format_name: str = "auto") -> Importer:
    """The importer for a source: the named one, or the detected one."""
    if format_name != "auto":
        return get(format_name)
    importer = detect(source)
    if importer is None:
        raise InputError(
            "the format is not recognised",
            path=str(source.path),
            hint="name it with --format (see `shequn import --help` for the formats)",
        )
    return importer


def read_frame(
    path: Path, format_name: str = "auto", ctx: ImportContext | None = None
) -> pl.DataFrame:
    """Every event of a file, folder or zip as one validated frame (for tests and tools)."""
    source = Source.open(path)
    try:
        importer = choose(source, format_name)
        parts = list(frames(importer.read(source, ctx or ImportContext()), str(path)))
    finally:
        source.close()
    return pl.concat(parts) if parts else conform(pl.DataFrame())
