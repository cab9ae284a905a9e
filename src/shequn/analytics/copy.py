"""The columnar copy's tables and how new events are appended to them.

Each appended batch is stored sorted by (type, ts): row groups then hold few types, so
the many "all joins" / "all orders" reads skip most of a large log by its zone maps.

The copy holds only what metrics read: the event columns metrics use, each event's
local day (days since 1970-01-01 in the workspace zone, so days and weeks are integer
arithmetic in any SQL engine), and two small tables kept up to date on every append:

- `first_touch`: per (community, member key) the first membership event (join, leave,
  message, reaction) by (ts, id). It decides where a member's history starts
  (docs/metrics.md, "History start") without a pass over every message.
- `community_start`: per community the earliest `ts` of any event.

Only the canonical event types of docs/metrics.md enter the copy: the SOP engine's own
events (`shequn.sop.journal.SOP_TYPES`, source "sop") stay in the store and move no
metric, not even a community's history start.

`append` is used by the sync and, on an in-memory database, by the tests, so both run
the engine over exactly the same tables.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa

from shequn.domain.events import EVENT_TYPES

# 2: only canonical event types are copied.
SCHEMA_VERSION = 2
# Order amounts are exact: 28 integer digits and 10 decimals cover every currency.
AMOUNT_TYPE = "DECIMAL(38, 10)"
# Columns read from the store, in order (text columns may arrive as NULL-only ints).
STORE_COLUMNS: tuple[str, ...] = (
    "id",
    "ts",
    "community",
    "member",
    "type",
    "channel",
    "inviter",
    "visitor",
    "content_id",
    "order_id",
    "amount",
)
_TEXT = ("community", "member", "type", "channel", "inviter", "visitor", "content_id", "order_id")
MEMBERSHIP_TYPES = ("join", "leave", "message", "reaction")
CANONICAL_TYPES: tuple[str, ...] = tuple(sorted(EVENT_TYPES))

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS events (
        id BIGINT NOT NULL, ts BIGINT NOT NULL, day INTEGER NOT NULL,
        community VARCHAR NOT NULL, member VARCHAR, type VARCHAR NOT NULL,
        channel VARCHAR, inviter VARCHAR, visitor VARCHAR, content_id VARCHAR,
        order_id VARCHAR, amount {AMOUNT_TYPE})""",
    """CREATE TABLE IF NOT EXISTS first_touch (
        community VARCHAR NOT NULL, member VARCHAR NOT NULL,
        ts BIGINT NOT NULL, id BIGINT NOT NULL, type VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS community_start (
        community VARCHAR NOT NULL, first_ts BIGINT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS members (key VARCHAR NOT NULL, person VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR NOT NULL, value VARCHAR)",
)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the copy's tables where missing."""
    for statement in _DDL:
        con.execute(statement)


def local_days(ts: pl.Series, zone: ZoneInfo) -> pl.Series:
    """Local calendar day (days since 1970-01-01 in `zone`) of UTC microsecond stamps."""
    return (
        ts.cast(pl.Int64)
        .cast(pl.Datetime("us", "UTC"))
        .dt.convert_time_zone(str(zone))
        .dt.date()
        .cast(pl.Int32)
    )


def _prepared(batch: pa.Table, zone: ZoneInfo) -> pl.DataFrame:
    """A store batch with text columns as text (empty as NULL) and its local days."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame.select(
        pl.col("id").cast(pl.Int64),
        pl.col("ts").cast(pl.Int64),
        pl.Series("day", local_days(frame["ts"], zone)),
        *[_text(name) for name in (*_TEXT, "amount")],
    )


def _text(name: str) -> pl.Expr:
    # An empty field is NULL everywhere (the store may hand it over either way).
    value = pl.col(name).cast(pl.String)
    return pl.when(value == "").then(None).otherwise(value).alias(name)


def append(con: duckdb.DuckDBPyConnection, batch: pa.Table, zone: ZoneInfo) -> int:
    """Append store rows (columns STORE_COLUMNS) and update the derived tables.

    Returns the number of store rows read (SOP events among them are not copied).
    The caller holds the transaction.
    """
    if batch.num_rows == 0:
        return 0
    frame = _prepared(batch, zone).filter(pl.col("type").is_in(CANONICAL_TYPES))
    con.register("incoming", frame.to_arrow())
    try:
        _merge_incoming(con)
    finally:
        con.unregister("incoming")
    return batch.num_rows


def _merge_incoming(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""INSERT INTO events SELECT id, ts, day, community, member, type, channel,
            inviter, visitor, content_id, order_id, CAST(amount AS {AMOUNT_TYPE})
            FROM incoming ORDER BY type, ts"""
    )
    kinds = ", ".join(f"'{t}'" for t in MEMBERSHIP_TYPES)
    # DuckDB compares structs field by field: the minimum is the first event by (ts, id).
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE touched AS
            SELECT community, member, MIN(struct_pack(ts := ts, id := id, type := type)) AS f
            FROM (SELECT community, member, ts, id, type FROM first_touch
                  UNION ALL
                  SELECT community, member, ts, id, type FROM incoming
                  WHERE type IN ({kinds}) AND member IS NOT NULL)
            GROUP BY community, member"""
    )
    con.execute("DELETE FROM first_touch")
    con.execute("INSERT INTO first_touch SELECT community, member, f.ts, f.id, f.type FROM touched")
    con.execute("DROP TABLE touched")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE starts AS
           SELECT community, MIN(first_ts) AS first_ts FROM (
               SELECT community, first_ts FROM community_start
               UNION ALL SELECT community, MIN(ts) FROM incoming GROUP BY community)
           GROUP BY community"""
    )
    con.execute("DELETE FROM community_start")
    con.execute("INSERT INTO community_start SELECT community, first_ts FROM starts")
    con.execute("DROP TABLE starts")


def replace_members(con: duckdb.DuckDBPyConnection, keys: pa.Table) -> None:
    """Replace the member table (columns key, person): small, refreshed whole."""
    con.execute("DELETE FROM members")
    con.register("member_rows", keys)
    try:
        con.execute("INSERT INTO members SELECT key, person FROM member_rows")
    finally:
        con.unregister("member_rows")


def memory_copy(
    events: pa.Table, zone: ZoneInfo, members: pa.Table | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory copy loaded from store-shaped rows (tests and one-off analyses)."""
    con = duckdb.connect()
    create_schema(con)
    append(con, events, zone)
    if members is not None:
        replace_members(con, members)
    return con
