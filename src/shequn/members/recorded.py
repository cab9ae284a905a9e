"""What the store has recorded about members: points, tags, tier and lifecycle state.

These are SOP state events (source "sop", shequn.sop.journal), which the analytics
copy keeps apart from the events metrics read (its table `member_records`,
shequn.analytics.records). One query reads them all up to an instant, merged member
keys resolved; Polars folds them per person.
"""

from __future__ import annotations

import duckdb
import polars as pl

from shequn.analytics.records import RECORD_TYPES

TYPES = RECORD_TYPES
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


def recorded(con: duckdb.DuckDBPyConnection, now: int) -> pl.DataFrame:
    """Per person as recorded up to `now` (inclusive), read from the analytics copy
    `con`: points, tags (comma-separated), last tier, state and churn-risk band."""
    frame = pl.from_arrow(
        con.sql(
            f"""SELECT r.ts, r.id, COALESCE(p.person, r.member) AS member, r.type, r.text,
                       r.amount
                FROM member_records AS r LEFT JOIN members AS p ON p.key = r.member
                WHERE r.ts <= {int(now)} ORDER BY r.ts, r.id"""
        ).to_arrow_table()
    )
    assert isinstance(frame, pl.DataFrame)
    if frame.is_empty():
        return pl.DataFrame(schema=SCHEMA)
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
