"""Each enrolled member's outcome, in DuckDB over the analytics copy's `events`.

An enrolment is a member's `experiment_assigned` event: (experiment, arm, community,
member, ts). The outcome looks at the member's own events in the same community in
the window (ts, ts + days]:

- `spoke_7d`: a `message` in the 7 days after;
- `first_order_30d`: their first `order` ever falls in the 30 days after;
- `retained_30d`: no `leave` in the 30 days after.

"In the window after" is a forward as-of join: each enrolment meets the member's next
event of the type after it (one sort of each side, not a cross product). It joins on
a 64-bit hash of (community, member) — an integer key, several times faster than the
two strings — and then compares the strings, so a hash collision cannot count another
member's event (it could only hide one: odds about 2⁻⁶⁴ per pair of members). Only
events that can fall in some window are read: after the earliest enrolment, up to the
end of the latest window (the copy's row groups are sorted by type and time, so the
rest is skipped by their zone maps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from shequn.sop.experiments import OUTCOMES

DAY_US = 86_400_000_000
ENROLMENT_SCHEMA = {
    "experiment": pl.String,
    "arm": pl.String,
    "community": pl.String,
    "member": pl.String,
    "ts": pl.Int64,
}


@dataclass(frozen=True)
class Rule:
    """How an outcome is read: which events, and whether finding one means met."""

    source: str  # the event type read
    first_ever: bool  # the member's first such event ever (else the next one after)
    met_if_found: bool  # False: met when there is none in the window (`retained`)


RULES: dict[str, Rule] = {
    "spoke_7d": Rule("message", first_ever=False, met_if_found=True),
    "first_order_30d": Rule("order", first_ever=True, met_if_found=True),
    "retained_30d": Rule("leave", first_ever=False, met_if_found=False),
}
assert set(RULES) == set(OUTCOMES)


def _next_sql(rule: Rule, window: int, lo: int, hi: int) -> str:
    """(_row, found) of `_rows` by the member's next event of the type after `ts`."""
    return f"""
        SELECT r._row, COALESCE(n.c = r.community AND n.m = r.member
                                AND n.ts <= r.ts + {int(window)}, FALSE) AS found
        FROM (SELECT *, hash(community, member) AS k FROM _rows) r
        ASOF LEFT JOIN (
            SELECT hash(community, member) AS k, community AS c, member AS m, ts
            FROM events
            WHERE type = '{rule.source}' AND member IS NOT NULL
              AND ts > {int(lo)} AND ts <= {int(hi)}) n
        ON r.k = n.k AND n.ts > r.ts"""


def _first_sql(rule: Rule, window: int, lo: int, hi: int) -> str:
    """(_row, found) of `_rows` by the member's first event of the type ever."""
    del lo, hi  # a first event ever needs all of history
    return f"""
        SELECT r._row, COALESCE(f.first > r.ts AND f.first <= r.ts + {int(window)}, FALSE)
               AS found
        FROM _rows r LEFT JOIN (
            SELECT community, member, MIN(ts) AS first FROM events
            WHERE type = '{rule.source}' AND member IS NOT NULL
            GROUP BY community, member) f
        ON f.community = r.community AND f.member = r.member"""


_SQL: dict[bool, Callable[[Rule, int, int, int], str]] = {False: _next_sql, True: _first_sql}


def met(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, outcome: str) -> pl.DataFrame:
    """(_row, met) for each enrolment of `rows` (columns _row, community, member, ts).

    Args:
        con: a connection to the analytics copy (`analytics.sync.open_copy`).
        rows: the enrolments whose outcome is wanted, numbered by `_row`.
        outcome: a key of `RULES`.
    """
    rule = RULES[outcome]
    window = OUTCOMES[outcome] * DAY_US
    if rows.is_empty():
        return pl.DataFrame(schema={"_row": pl.UInt32, "met": pl.Boolean})
    lo, hi = int(rows["ts"].min()), int(rows["ts"].max()) + window  # type: ignore[arg-type]
    con.register("_rows", rows.select("_row", "community", "member", "ts").to_arrow())
    try:
        found = pl.from_arrow(con.sql(_SQL[rule.first_ever](rule, window, lo, hi)).to_arrow_table())
    finally:
        con.unregister("_rows")
    assert isinstance(found, pl.DataFrame)
    met_ = pl.col("found") if rule.met_if_found else ~pl.col("found")
    return found.select(pl.col("_row").cast(pl.UInt32), met_.alias("met"))
