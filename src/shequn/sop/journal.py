"""SOP decisions, deliveries and member/community state changes as events in the log.

DESIGN.md: every action shequn takes is itself an event, so metrics and the review
can relate actions to results. These events carry `source = "sop"` and a
deterministic `source_id` (`<type>|<key>`), so recording the same fact twice (a retried
transaction, a replayed tick) stores it once. They are written by the engine only: the
importers accept just the canonical types of docs/metrics.md.

`entry` makes one row and `record` appends rows in the caller's transaction;
`entries` makes the same rows column-wise from a frame (a first `members refresh`
records one per member) and `stage` appends them through a bulk `EventSink`.

Types and fields (`text` holds the new value of a state change; the outbox key or the
cause is in `source_id`, after the type):

| type | community | member | text | amount | meta |
|---|---|---|---|---|---|
| `sop_action_due` | ✓ | target member or empty | | | playbook, step, due_ts, late |
| `sop_action_missed` | ✓ | ✓/empty | | | due_ts, reason |
| `message_sent` | ✓ | ✓/empty | | | platform, late |
| `task_created` | ✓ | ✓/empty | task title | | task, owner, due_ts |
| `task_done` | ✓ | ✓/empty | | | task, by, due_ts, on_time |
| `action_failed` | ✓ | ✓/empty | | | reason, attempts (one per attempt: `<key>#<n>`) |
| `action_dead` | ✓ | ✓/empty | | | reason |
| `alert_sent` | ✓ | | the alert | | to, why |
| `tag_added` / `tag_removed` | ✓ | ✓ | the tag | | |
| `points_added` | ✓ | ✓ | the reason | points | total |
| `tier_changed` | ✓ | ✓ | new tier | | from, reason |
| `state_changed` | ✓ | ✓ | new lifecycle state (shequn.members.states) | | from |
| `churn_risk_crossed` | ✓ | ✓ | risk band reached ("0" = below every band) | | risk |
| `activity_started` | ✓ | | activity name | | ends_ts |
| `community_created` | ✓ | | | | how |
| `stage_entered` | ✓ | | the stage | | from, reason |
| `metric_crossed` | ✓ | | threshold id | | metric, value, days |
| `experiment_assigned` | ✓ | ✓ | the arm | | experiment, playbook, step, due_ts |
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Connection

from shequn.store import dialect
from shequn.store.schema import EVENT_COLUMNS, events

if TYPE_CHECKING:
    from shequn.store.bulk import EventSink

SOURCE = "sop"
SOP_TYPES = (
    "sop_action_due",
    "sop_action_missed",
    "message_sent",
    "task_created",
    "task_done",
    "action_failed",
    "action_dead",
    "alert_sent",
    "tag_added",
    "tag_removed",
    "points_added",
    "tier_changed",
    "state_changed",
    "churn_risk_crossed",
    "activity_started",
    "community_created",
    "stage_entered",
    "metric_crossed",
    "experiment_assigned",
)


# The columns of an SOP event row (`entry`, `entries`).
ROW_COLUMNS = ("ts", "community", "member", "type", "text", "amount", "source", "source_id", "meta")


def entry(
    type: str,
    ts: int,
    community: str,
    key: str,
    *,
    member: str | None = None,
    text: str | None = None,
    amount: str | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """One SOP event row; `key` makes it idempotent (with the type)."""
    return {
        "ts": ts,
        "community": community,
        "member": member,
        "type": type,
        "text": text,
        "amount": amount,
        "source": SOURCE,
        "source_id": _key_prefix(type) + key,
        "meta": json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str) if meta else None,
    }


def entries(
    frame: pl.DataFrame,
    type: str,
    ts: int,
    community: pl.Expr,
    key: pl.Expr,
    *,
    member: pl.Expr | None = None,
    text: pl.Expr | None = None,
    amount: pl.Expr | None = None,
    **meta: pl.Expr,
) -> pl.DataFrame:
    """`entry` for every row of `frame`, column-wise: the arguments are expressions over
    `frame`, the columns those of `entry`'s row with the same values (meta's JSON text
    as json.dumps writes it). Meta values are strings, integers, booleans, floats or
    nulls (tests/sop/test_journal_frame.py checks the two agree)."""
    none = pl.lit(None, pl.String)
    rows = frame.with_columns(
        pl.lit(ts, pl.Int64).alias("ts"),
        community.cast(pl.String).alias("community"),
        (none if member is None else member.cast(pl.String)).alias("member"),
        pl.lit(type, pl.String).alias("type"),
        (none if text is None else text.cast(pl.String)).alias("text"),
        (none if amount is None else amount.cast(pl.String)).alias("amount"),
        pl.lit(SOURCE, pl.String).alias("source"),
        (pl.lit(_key_prefix(type)) + key.cast(pl.String)).alias("source_id"),
    ).select(*ROW_COLUMNS[:-1])
    if not meta:
        return rows.with_columns(none.alias("meta"))
    return rows.with_columns(_meta_json(frame.with_columns(**meta).select(*meta)))


def _key_prefix(type: str) -> str:
    if type not in SOP_TYPES:
        raise ValueError(f"{type!r} is not an SOP event type")
    return f"{type}|"


def _meta_json(values: pl.DataFrame) -> pl.Series:
    """json.dumps(row, ensure_ascii=False, sort_keys=True) of each row of `values`."""
    parts: list[pl.Expr | str] = []
    for name in sorted(values.columns):
        parts += [", " if parts else "{", json.dumps(name, ensure_ascii=False) + ": "]
        parts.append(_json_value(name, values.schema[name]))
    parts.append("}")
    exprs = [pl.lit(p) if isinstance(p, str) else p for p in parts]
    return values.select(pl.concat_str(exprs).alias("meta")).to_series()


def _json_value(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column's values as json.dumps writes them (null for None)."""
    value = pl.col(name)
    if dtype == pl.Float64:
        return _float_json(value)
    if not (dtype in (pl.String, pl.Boolean, pl.Null) or dtype.is_integer()):
        raise TypeError(f"meta {name!r} is {dtype}: give strings, integers, floats or booleans")
    # The JSON writer of Polars escapes as json.dumps(ensure_ascii=False) does; from
    # {"v":VALUE} keep VALUE.
    encoded = pl.struct(value.alias("v")).struct.json_encode()
    return encoded.str.strip_prefix('{"v":').str.strip_suffix("}").fill_null("null")


def _float_json(value: pl.Expr) -> pl.Expr:
    """Floats as Python's repr writes them: Polars gives the same shortest digits but
    writes 1e-5 <= |x| < 1e-4 in plain decimals and a one-digit exponent unpadded."""
    written = (
        value.cast(pl.String)
        .str.replace(r"e([+-])(\d)$", "e${1}0${2}")
        .str.replace(r"^(-?)0\.0000(\d)$", "${1}${2}e-05")
        .str.replace(r"^(-?)0\.0000(\d)(\d+)$", "${1}${2}.${3}e-05")
    )
    return (
        pl.when(value.is_null())
        .then(pl.lit("null"))
        .when(value.is_nan())
        .then(pl.lit("NaN"))
        .when(value == float("inf"))
        .then(pl.lit("Infinity"))
        .when(value == float("-inf"))
        .then(pl.lit("-Infinity"))
        .otherwise(written)
    )


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append SOP events in the caller's transaction; one already stored is skipped."""
    if rows:
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, events, rows)


def stage(sink: EventSink, rows: pl.DataFrame) -> None:
    """Stage `entries` rows in a bulk sink; its `commit` appends them in one transaction
    with the caller's other writes, one already stored skipped (as `record` does). Their
    members and communities are stored already: the sink records none."""
    missing = [c for c in EVENT_COLUMNS if c not in rows.columns and c != "batch"]
    staged = rows.with_columns(
        pl.col("ts").cast(pl.Datetime("us", "UTC")),
        *(pl.lit(None, pl.String).alias(c) for c in missing),
    )
    sink.add(staged, SOURCE, known=True)
