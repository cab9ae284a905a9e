"""What the store has recorded about members: points, tags, tier and lifecycle state.

These are SOP state events (source "sop", shequn.sop.journal), which the analytics
copy keeps apart from the events metrics read (its table `member_records`,
shequn.analytics.records). One query reads them all up to an instant, merged member
keys resolved, and folds them per person in DuckDB.
"""

from __future__ import annotations

import duckdb
import polars as pl

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


# Each person's records up to `{now}`, folded (merged keys resolved to their person):
# points summed, each tag's last record kept if it added the tag, the last tier, state
# and band by (ts, id) — a NULL text included (a tier left for none).
_FOLD = """
WITH r AS (
    SELECT r.ts, r.id, COALESCE(p.person, r.member) AS member, r.type, r.text, r.amount
    FROM member_records AS r LEFT JOIN members AS p ON p.key = r.member
    WHERE r.ts <= {now}
),
points AS (
    SELECT member, COALESCE(SUM(CAST(TRUNC(amount) AS BIGINT)), 0) AS points
    FROM r WHERE type = 'points_added' GROUP BY member
),
tagged AS (
    SELECT member, text, arg_max_null(type, struct_pack(ts := ts, id := id)) AS last
    FROM r WHERE type IN ('tag_added', 'tag_removed') GROUP BY member, text
),
tags AS (
    SELECT member, string_agg(text, ',' ORDER BY text) AS tags
    FROM tagged WHERE last = 'tag_added' GROUP BY member
),
latest AS (
    SELECT member,
           arg_max_null(text, struct_pack(ts := ts, id := id))
               FILTER (WHERE type = 'tier_changed') AS recorded_tier,
           arg_max_null(text, struct_pack(ts := ts, id := id))
               FILTER (WHERE type = 'state_changed') AS recorded_state,
           arg_max_null(text, struct_pack(ts := ts, id := id))
               FILTER (WHERE type = 'churn_risk_crossed') AS recorded_band
    FROM r WHERE type IN ('tier_changed', 'state_changed', 'churn_risk_crossed')
    GROUP BY member
)
SELECT member, points, tags, recorded_tier, recorded_state, recorded_band
FROM points FULL JOIN tags USING (member) FULL JOIN latest USING (member)
"""


def recorded(con: duckdb.DuckDBPyConnection, now: int) -> pl.DataFrame:
    """Per person as recorded up to `now` (inclusive), read from the analytics copy
    `con`: points, tags (comma-separated), last tier, state and churn-risk band."""
    frame = pl.from_arrow(con.sql(_FOLD.format(now=int(now))).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return complete(frame)
