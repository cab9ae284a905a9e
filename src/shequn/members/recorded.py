"""What the store has recorded about members: points, tags, tier and lifecycle state.

These are SOP state events (source "sop", shequn.sop.journal), which stay in the
store and never enter the analytics copy. One query reads them all up to an instant;
Polars folds them per person (merged member keys resolved).
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from shequn.sop.journal import SOURCE
from shequn.store.schema import events, members

TYPES = (
    "points_added",
    "tag_added",
    "tag_removed",
    "tier_changed",
    "state_changed",
    "churn_risk_crossed",
)
SCHEMA = {
    "member": pl.String,
    "points": pl.Int64,
    "tags": pl.String,
    "recorded_tier": pl.String,
    "recorded_state": pl.String,
    "recorded_band": pl.String,
}


def complete(frame: pl.DataFrame) -> pl.DataFrame:
    """A recorded-state frame with every column of SCHEMA (the missing ones empty)."""
    return frame.select(
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(kind).alias(c)
        for c, kind in SCHEMA.items()
    )


def recorded(conn: Connection, now: int) -> pl.DataFrame:
    """Per person as recorded up to `now` (inclusive): points, tags (comma-separated),
    last tier, state and churn-risk band."""
    query = (
        select(events.c.id, events.c.ts, events.c.member, events.c.type, events.c.text)
        .add_columns(events.c.amount)
        .where(
            events.c.source == SOURCE,
            events.c.type.in_(TYPES),
            events.c.member.is_not(None),
            events.c.ts <= now,
        )
    )
    rows = conn.execute(query).all()
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    persons = dict(conn.execute(select(members.c.key, members.c.person)).all())
    frame = (
        pl.DataFrame(
            [tuple(r) for r in rows],
            schema=["id", "ts", "key", "type", "text", "amount"],
            orient="row",
        )
        .with_columns(pl.col("key").replace(persons).alias("member"))
        .sort("ts", "id")
    )
    return _fold(frame)


def _fold(frame: pl.DataFrame) -> pl.DataFrame:
    points = (
        frame.filter(pl.col("type") == "points_added")
        .group_by("member")
        .agg(pl.col("amount").cast(pl.Int64).sum().alias("points"))
    )
    tags = (
        frame.filter(pl.col("type").is_in(["tag_added", "tag_removed"]))
        .group_by("member", "text")
        .agg(pl.col("type").last())
        .filter(pl.col("type") == "tag_added")
        .group_by("member")
        .agg(pl.col("text").sort().str.join(",").alias("tags"))
    )
    last = {
        "tier_changed": "recorded_tier",
        "state_changed": "recorded_state",
        "churn_risk_crossed": "recorded_band",
    }
    out = points.join(tags, on="member", how="full", coalesce=True)
    for kind, name in last.items():
        latest = (
            frame.filter(pl.col("type") == kind)
            .group_by("member")
            .agg(pl.col("text").last().alias(name))
        )
        out = out.join(latest, on="member", how="full", coalesce=True)
    return out.select(*(pl.col(c).cast(t) for c, t in SCHEMA.items()))
