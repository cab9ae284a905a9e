"""The columnar copy's tables and how new events are appended to them.

Each appended batch is stored sorted by (type, ts): row groups then hold few types, so
the many "all joins" / "all orders" reads skip most of a large log by its zone maps.

The copy holds only what metrics read: the event columns metrics use, each event's
local day (days since 1970-01-01 in the workspace zone, so days and weeks are integer
arithmetic in any SQL engine), and small tables kept up to date on every append:

- `first_touch`: per (community, member key) the first membership event (join, leave,
  message, reaction) by (ts, id). It decides where a member's history starts
  (docs/metrics.md, "History start") without a pass over every message.
- `community_start`: per community the earliest `ts` of any event.
- `member_days`: per (community, member key, local day) whether the member was active
  (message, reaction, checkin) and whether they wrote a message (`spoke`). A day may
  have a row from each append that saw it: readers take MAX(spoke) per key.
- `order_totals`: per order (community, order_id; `solo` = the id of an order without
  an order_id) its net amount and its earliest row (ts, id, member key) of all time.

A report reads these small tables instead of the all-time and window passes over
`events` they replace; member keys are resolved to persons when read, so merging
members never makes them stale.

`enrolments` holds the experiments' assignments (experiment, arm, community, member,
ts): the engine's `experiment_assigned` events, in a table of its own so no metric sees
it (shequn.experiments reads it); `member_records` likewise holds the SOP engine's
records of members (points, tags, tiers, states, churn-risk bands:
shequn.analytics.records), which member profiles read.

Beside them, `sop_tasks` holds the SOP engine's operator tasks (id, community, due and
done instants) for `sop_on_time_rate`: small, refreshed by `replace_tasks`.

Only the canonical event types of docs/metrics.md enter `events`: the SOP engine's own
events (`shequn.sop.journal.SOP_TYPES`, source "sop") move no metric, not even a
community's history start.

`append` is used by the sync and, on an in-memory database, by the tests, so both run
the engine over exactly the same tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from shequn.analytics import records
from shequn.analytics.arrows import NULL_TEXT, strings, text
from shequn.analytics.derived import AMOUNT_TYPE, merge_incoming
from shequn.analytics.enrolments import enrolments_of, merge_enrolments
from shequn.domain.events import EVENT_TYPES

# 2: only canonical event types are copied. 3: member_days, order_totals.
# 4: message_id, reply_to and mentions (interactions, shequn.members).
# 5: enrolments (the experiments' `experiment_assigned` events, shequn.experiments).
# 6: member_records (the SOP engine's records of members, shequn.members.recorded).
SCHEMA_VERSION = 6
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
    "message_id",
    "reply_to",
    "meta",
    "arm",
    "record",
    "note",
)
# Columns computed as the store is read, as SQL over its `events` table: the arm of an
# experiment's assignment is its `text`, which no other event brings into the copy.
# Members' records (shequn.analytics.records) likewise.
COMPUTED: dict[str, str] = {
    "arm": "CASE WHEN type = 'experiment_assigned' THEN text END",
    **records.COMPUTED,
}
_TEXT = ("community", "member", "type", "channel", "inviter", "visitor", "content_id", "order_id")
# Kept for the interaction graph (shequn.members): who replied to, reacted to or
# mentioned whom. `mentions` is the JSON list of the event meta's "mentions".
_LINKS = ("message_id", "reply_to")
CANONICAL_TYPES: tuple[str, ...] = tuple(sorted(EVENT_TYPES))

# Made without pandas (shequn.analytics.arrows).
_CANONICAL = strings(CANONICAL_TYPES)
_EMPTY = text("")

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS events (
        id BIGINT NOT NULL, ts BIGINT NOT NULL, day INTEGER NOT NULL,
        community VARCHAR NOT NULL, member VARCHAR, type VARCHAR NOT NULL,
        channel VARCHAR, inviter VARCHAR, visitor VARCHAR, content_id VARCHAR,
        order_id VARCHAR, amount {AMOUNT_TYPE}, message_id VARCHAR, reply_to VARCHAR,
        mentions VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS first_touch (
        community VARCHAR NOT NULL, member VARCHAR NOT NULL,
        ts BIGINT NOT NULL, id BIGINT NOT NULL, type VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS community_start (
        community VARCHAR NOT NULL, first_ts BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS member_days (
        community VARCHAR NOT NULL, member VARCHAR NOT NULL, day INTEGER NOT NULL,
        spoke INTEGER NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS order_totals (
        community VARCHAR NOT NULL, order_id VARCHAR, solo BIGINT NOT NULL,
        net {AMOUNT_TYPE} NOT NULL, first_ts BIGINT NOT NULL, first_id BIGINT NOT NULL,
        member VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS enrolments (
        experiment VARCHAR NOT NULL, arm VARCHAR NOT NULL, community VARCHAR NOT NULL,
        member VARCHAR NOT NULL, ts BIGINT NOT NULL)""",
    records.DDL.format(amount=AMOUNT_TYPE),
    "CREATE TABLE IF NOT EXISTS members (key VARCHAR NOT NULL, person VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS sop_tasks (
        id BIGINT NOT NULL, community VARCHAR NOT NULL, due_ts BIGINT NOT NULL,
        done_ts BIGINT)""",
    "CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR NOT NULL, value VARCHAR)",
)


def store_select(meta: str = "meta") -> str:
    """The SELECT list that reads STORE_COLUMNS from the store's `events` table (`meta`:
    the expression read as the meta column)."""
    computed = {**COMPUTED, "meta": meta}
    return ", ".join(f"{computed[c]} AS {c}" if c in computed else c for c in STORE_COLUMNS)


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


def _prepared(batch: pa.Table, zone: ZoneInfo) -> pa.Table:
    """The canonical events of a store batch, text columns as text (empty as NULL),
    with their local days and mentions.

    Column by column in Arrow: a whole-frame round trip through Polars cost a third of
    a cold build's append.
    """
    canonical = pc.is_in(batch["type"].cast(pa.string()), _CANONICAL)
    kept = batch if pc.all(canonical).as_py() else batch.filter(canonical)
    ts = kept["ts"].cast(pa.int64())
    series = pl.from_arrow(ts)
    assert isinstance(series, pl.Series)
    columns = {
        "id": kept["id"].cast(pa.int64()),
        "ts": ts,
        "day": local_days(series, zone).to_arrow(),
        **{name: _text(kept, name) for name in (*_TEXT, "amount", *_LINKS)},
        "mentions": _mentions(kept),
    }
    return pa.table(columns)


def _column(batch: pa.Table, name: str) -> pa.ChunkedArray:
    """A column as text; all NULL when the batch has none (a batch from before the copy
    kept links or meta)."""
    if name not in batch.column_names:
        return pa.chunked_array([pa.nulls(batch.num_rows, pa.string())])
    return batch[name].cast(pa.string())


def _text(batch: pa.Table, name: str) -> pa.ChunkedArray:
    # An empty field is NULL everywhere (the store may hand it over either way).
    value = _column(batch, name)
    empty = pc.equal(value, _EMPTY)
    if not pc.any(empty).as_py():  # the usual case: no copy of the column
        return value
    return pc.if_else(empty, NULL_TEXT, value)


def _mentions(batch: pa.Table) -> pa.Array:
    """The meta's mention list as JSON text (NULL when none)."""
    meta = pl.from_arrow(_column(batch, "meta"))
    assert isinstance(meta, pl.Series)
    found = meta.str.json_path_match("$.mentions")
    return found.set(found == "[]", None).to_arrow()


def append(con: duckdb.DuckDBPyConnection, batch: pa.Table, zone: ZoneInfo) -> int:
    """Append store rows (columns STORE_COLUMNS) and update the derived tables.

    Returns the number of store rows read (SOP events among them are not copied).
    The caller holds the transaction.
    """
    insert(con, prepare(batch, zone))
    return batch.num_rows


class Prepared(NamedTuple):
    """A store batch made ready for the copy: its canonical events, sorted by (type,
    ts), its experiment enrolments and its records of members."""

    rows: pa.Table
    enrolments: pa.Table
    records: pa.Table


def prepare(batch: pa.Table, zone: ZoneInfo) -> Prepared:
    """The copy's rows of store rows (columns STORE_COLUMNS).

    Arrow and Polars only (they release the GIL): a sync prepares the next batches in
    other threads while DuckDB takes in the current one (`insert`).
    """
    prepared = _prepared(batch, zone)
    # Sorted in Arrow: DuckDB's ORDER BY over all the columns cost twice as much.
    order = pc.sort_indices(prepared, sort_keys=[("type", "ascending"), ("ts", "ascending")])
    return Prepared(prepared.take(order), enrolments_of(batch), records.records_of(batch))


def insert(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> None:
    """Append what `prepare` made and update the derived tables (the caller holds the
    transaction)."""
    for table, name, merge in (
        (prepared.rows, "incoming", merge_incoming),
        (prepared.enrolments, "enrolled_rows", merge_enrolments),
        (prepared.records, "record_rows", _merge_records),
    ):
        if table.num_rows == 0:
            continue
        con.register(name, table)
        try:
            merge(con)
        finally:
            con.unregister(name)


def _merge_records(con: duckdb.DuckDBPyConnection) -> None:
    records.merge_records(con, AMOUNT_TYPE)


def replace_members(con: duckdb.DuckDBPyConnection, keys: pa.Table) -> None:
    """Replace the member table (columns key, person): the merged member keys, small,
    refreshed whole. A key not in it is its own person."""
    con.execute("DELETE FROM members")
    con.register("member_rows", keys)
    try:
        con.execute("INSERT INTO members SELECT key, person FROM member_rows")
    finally:
        con.unregister("member_rows")


def tasks_from(con: duckdb.DuckDBPyConnection) -> int:
    """The task id after which the store's tasks must be read again: the copy's last
    task, or just before its first open one (a task may have been done since)."""
    last, first_open = con.execute(
        "SELECT MAX(id), MIN(CASE WHEN done_ts IS NULL THEN id END) FROM sop_tasks"
    ).fetchone() or (None, None)
    if first_open is not None:
        return int(first_open) - 1
    return int(last or 0)


def replace_tasks(con: duckdb.DuckDBPyConnection, after: int, rows: pa.Table) -> None:
    """Replace the copy's tasks with id > `after` by `rows` (columns id, community,
    due_ts, done_ts: the store's tasks with id > `after`)."""
    con.execute(f"DELETE FROM sop_tasks WHERE id > {int(after)}")
    con.register("task_rows", rows)
    try:
        con.execute(
            "INSERT INTO sop_tasks SELECT CAST(id AS BIGINT), community, "
            "CAST(due_ts AS BIGINT), CAST(done_ts AS BIGINT) FROM task_rows"
        )
    finally:
        con.unregister("task_rows")


def connect(path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to a copy (a file, or memory), set up for the engine.

    DuckDB 2.0's statistics propagation proves some queries empty that are not: over a
    persisted copy whose `members` table is empty (no merged members, the usual case),
    `SELECT … FROM (SELECT …, SUM(amount) AS net … GROUP BY …) WHERE net > 0` behind the
    `persons` LEFT JOIN returned no rows (tests/sop/test_watch.py caught it). That pass
    is switched off; measured cost on the 10M warm report: see docs/performance.md.
    """
    con = duckdb.connect(str(path) if path is not None else ":memory:")
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    return con


def memory_copy(
    events: pa.Table,
    zone: ZoneInfo,
    members: pa.Table | None = None,
    tasks: pa.Table | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory copy loaded from store-shaped rows (tests and one-off analyses)."""
    con = connect()
    create_schema(con)
    append(con, events, zone)
    if members is not None:
        replace_members(con, members)
    if tasks is not None:
        replace_tasks(con, 0, tasks)
    return con
