"""Appending validated event frames, and the reads `status` needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from shequn.store import dialect
from shequn.store.schema import EVENT_COLUMNS, communities, events, members


def _platform(key: pl.Expr) -> pl.Expr:
    return key.str.extract(r"^([^:]+):", 1)


def append_frame(conn: Connection, frame: pl.DataFrame, source: str, batch: int | None) -> int:
    """Store a validated frame (see shequn.importers.frame); returns events added.

    Events already stored under the same (source, source_id) are skipped, so this is
    idempotent. Communities and members seen in the frame are recorded too.
    """
    if frame.height == 0:
        return 0
    stored = frame.with_columns(
        pl.col("ts").dt.epoch("us").alias("ts"),
        pl.coalesce(pl.col("source"), pl.lit(source)).alias("source"),
        pl.lit(batch, dtype=pl.Int64).alias("batch"),
    )
    columns = [stored[name].to_list() for name in EVENT_COLUMNS]
    added = dialect.insert_events(conn, list(zip(*columns, strict=True)))
    _record_communities(conn, stored)
    _record_members(conn, stored)
    return added


def _record_communities(conn: Connection, stored: pl.DataFrame) -> None:
    seen = (
        stored.group_by("community")
        .agg(pl.col("ts").min().alias("first_ts"), _platform(pl.col("member")).drop_nulls().first())
        .rename({"community": "key", "member": "platform"})
    )
    dialect.insert_ignore(conn, communities, seen.to_dicts())


def _record_members(conn: Connection, stored: pl.DataFrame) -> None:
    people = pl.concat(
        [
            stored.select(pl.col("member").alias("key"), pl.col("member_name").alias("name"), "ts"),
            stored.select(pl.col("inviter").alias("key"), pl.col("inviter_name").alias("name"), "ts"),
        ]
    ).filter(pl.col("key").is_not_null())
    if people.height == 0:
        return
    seen = (
        people.sort("ts")
        .group_by("key")
        .agg(pl.col("name").drop_nulls().last(), pl.col("ts").min().alias("first_ts"))
        .with_columns(pl.col("key").alias("person"), _platform(pl.col("key")).alias("platform"))
    )
    dialect.upsert(conn, members, seen.to_dicts(), update=["name"])


@dataclass(frozen=True)
class Overview:
    """What `shequn status` shows."""

    events: int
    first_ts: int | None
    last_ts: int | None
    by_type: dict[str, int]
    by_source: dict[str, int]
    communities: list[dict[str, Any]]
    members: int
    persons: int


def overview(conn: Connection) -> Overview:
    total, first_ts, last_ts = conn.execute(
        select(func.count(), func.min(events.c.ts), func.max(events.c.ts))
    ).one()
    by_type = dict(
        conn.execute(select(events.c.type, func.count()).group_by(events.c.type)).tuples().all()
    )
    by_source = dict(
        conn.execute(select(events.c.source, func.count()).group_by(events.c.source)).tuples().all()
    )
    per_community = conn.execute(
        select(
            events.c.community,
            func.count().label("events"),
            func.count(events.c.member.distinct()).label("members"),
            func.min(events.c.ts).label("first_ts"),
            func.max(events.c.ts).label("last_ts"),
        )
        .group_by(events.c.community)
        .order_by(events.c.community)
    ).mappings()
    member_count, person_count = conn.execute(
        select(func.count(), func.count(members.c.person.distinct()))
    ).one()
    return Overview(
        events=total,
        first_ts=first_ts,
        last_ts=last_ts,
        by_type=dict(sorted(by_type.items())),
        by_source=dict(sorted(by_source.items())),
        communities=[dict(row) for row in per_community],
        members=member_count,
        persons=person_count,
    )
