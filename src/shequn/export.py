"""The event log back out in the canonical form, so a user's data is never locked in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import polars as pl
from sqlalchemy import Connection, select

from shequn.domain.events import CANONICAL_FIELDS
from shequn.sop.journal import SOURCE as SOP_SOURCE
from shequn.spreadsheet import escape_column
from shequn.store.schema import events, members

ExportFormat = Literal["csv", "jsonl", "parquet"]
CHUNK = 200_000
# The canonical fields plus `source`, which re-import needs for idempotency.
EXPORT_COLUMNS: tuple[str, ...] = (*CANONICAL_FIELDS, "source")
# Columns of free text; `ts` and `amount` are never formulas (an amount may be -20).
TEXT_COLUMNS = tuple(c for c in EXPORT_COLUMNS if c not in ("ts", "amount"))


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
    conn: Connection, out: Path, fmt: ExportFormat, *, persons: bool = False, sop: bool = False
) -> int:
    """Write the event log to `out`; returns the count.

    With `persons`, merged member keys are replaced by their person's key. The SOP
    engine's own events (source `sop`: actions due, messages sent, tags, stages…) are
    left out unless `sop` is set: they are not canonical events, so a file that holds
    them is for analysis elsewhere and does not import back.
    """
    count = 0
    tmp = out.with_name(out.name + ".partial")
    if fmt == "parquet":
        parts = list(_chunks(conn, persons, sop))
        frame = pl.concat(parts) if parts else _empty()
        frame.write_parquet(tmp)
        count = frame.height
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            first = True
            for frame in _chunks(conn, persons, sop):
                if fmt == "csv":
                    fh.write(_spreadsheet_safe(frame).write_csv(include_header=first))
                else:
                    fh.write(frame.write_ndjson())
                first = False
                count += frame.height
            if first and fmt == "csv":
                fh.write(_empty().write_csv())
    tmp.replace(out)
    return count


def _spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as formulas, prefixed with a quote."""
    return frame.with_columns(escape_column(c) for c in TEXT_COLUMNS)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        {c: [] for c in EXPORT_COLUMNS}, schema={c: pl.String for c in EXPORT_COLUMNS}
    )
