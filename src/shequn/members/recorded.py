"""What the store has recorded about members: points, tags, tier and lifecycle state.

These are SOP state events (source "sop", shequn.sop.journal), which the analytics
copy keeps apart from the events metrics read (its table `member_records`,
shequn.analytics.records). One query reads them up to an instant, merged member keys
resolved, and folds them per person in DuckDB: everyone's, or only some persons'.
Records only ever enter the table (new ids), so whose fold moved between two reads is
known from the records alone (`moved`), without folding everyone again.
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
    WHERE r.ts <= {now}{only}
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


# The member keys of the persons of a table `{persons}` (column `person`): the persons
# themselves and every key merged into one of them.
_KEYS_OF = """
    AND r.member IN (
        SELECT person FROM {persons}
        UNION ALL SELECT key FROM members WHERE person IN (SELECT person FROM {persons}))"""


def recorded(con: duckdb.DuckDBPyConnection, now: int, persons: str | None = None) -> pl.DataFrame:
    """Per person as recorded up to `now` (inclusive), read from the analytics copy
    `con`: points, tags (comma-separated), last tier, state and churn-risk band.

    With `persons` (a table of the copy, column `person`) only theirs: their records
    are found by key, so the others' are not read.
    """
    only = _KEYS_OF.format(persons=persons) if persons else ""
    frame = pl.from_arrow(con.sql(_FOLD.format(now=int(now), only=only)).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return complete(frame)


def last_id(con: duckdb.DuckDBPyConnection) -> int:
    """The highest id of a record in the copy (0 when none): a mark for `moved`."""
    [(top,)] = con.execute("SELECT COALESCE(MAX(id), 0) FROM member_records").fetchall()
    return int(top)


def moved(con: duckdb.DuckDBPyConnection, mark: int, before: list[int], after: list[int]) -> str:
    """A query of the persons (column `person`) whose fold may differ between reads at
    the instants `before` (with the records up to id `mark`) and the instants `after`
    (each the same or later, one for one; with every record now): those with a record
    that entered a fold, new (above `mark`) or passed under its instant as time moved.
    """
    entered = " OR ".join(
        f"(r.ts <= {int(now)} AND (r.id > {int(mark)} OR r.ts > {int(then)}))"
        for then, now in zip(before, after, strict=True)
    )
    return f"""SELECT DISTINCT COALESCE(p.person, r.member) AS person
        FROM member_records AS r LEFT JOIN members AS p ON p.key = r.member
        WHERE {entered or "false"}"""
