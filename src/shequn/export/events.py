"""The event log back out in the canonical form, so a user's data is never locked in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, select

from shequn.export import export_format
from shequn.export.writers import EXPORT_COLUMNS
from shequn.sop.journal import SOURCE as SOP_SOURCE
from shequn.store.schema import events, members

CHUNK = 200_000


def _chunks(conn: Connection, persons: bool, sop: bool) -> Iterator[pl.DataFrame]:
    last = 0
    while True:
        query = select(events).where(events.c.id > last).order_by(events.c.id).limit(CHUNK)
        if not sop:
            query = query.where(events.c.source != SOP_SOURCE)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return
        last = rows[-1]["id"]
        frame = pl.DataFrame([dict(r) for r in rows], infer_schema_length=None)
        if persons:
            frame = _resolve_persons(conn, frame)
        yield frame.select(
            pl.from_epoch("ts", time_unit="us")
            .dt.replace_time_zone("UTC")
            .dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .alias("ts"),
            *[pl.col(c).cast(pl.String) for c in EXPORT_COLUMNS if c != "ts"],
        )


def _resolve_persons(conn: Connection, frame: pl.DataFrame) -> pl.DataFrame:
    mapping = {k: p for k, p in conn.execute(select(members.c.key, members.c.person))}
    return frame.with_columns(
        pl.col("member").replace(mapping),
        pl.col("inviter").replace(mapping),
    )


def export_events(
    conn: Connection, out: Path, fmt: str, *, persons: bool = False, sop: bool = False
) -> int:
    """Write the event log to `out` in the format named `fmt`; returns the count.

    With `persons`, merged member keys are replaced by their person's key. The SOP
    engine's own events (source `sop`: actions due, messages sent, tags, stages…) are
    left out unless `sop` is set: they are not canonical events, so a file that holds
    them is for analysis elsewhere and does not import back.

    Raises:
        InputError: for a format `shequn.export.FORMATS` does not hold.
    """
    writer = export_format(fmt)
    tmp = out.with_name(out.name + ".partial")
    count = writer.write(_chunks(conn, persons, sop), tmp)
    tmp.replace(out)
    return count
