"""Per-person figures read from the analytics copy, as one Polars frame.

`figures(con, at)` runs the set-based statements of shequn.members.kept_sql: the
profile of every person (activity, replies, mentions, reactions, orders) and the shape
of their activity (recent fortnights, the last return after a long gap). Nothing loops
over members in Python. `compute` is the same with a stored starting point: only what
entered since is read (shequn.members.stored). `at` fixes the instant: every figure
is "as of" it, so the churn model can compute the same features at a past cut-off.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from shequn.analytics.copy import local_days
from shequn.clock import to_micros
from shequn.members import kept_sql

DAY_US = 86_400_000_000
# The table `figures` computes into (temporary, dropped after reading).
SCRATCH = "member_figures_scratch"


@dataclass(frozen=True)
class AsOf:
    """The instant figures are computed at, and its local day number.

    Attributes:
        now: UTC microseconds; events at or after it are ignored.
        today: the local day (days since 1970-01-01 in the workspace zone) of `now`.
        window_days: the "last N days" window of the windowed figures.
    """

    now: int
    today: int
    window_days: int = 30

    @classmethod
    def of(cls, when: datetime, zone: ZoneInfo, window_days: int = 30) -> AsOf:
        now = to_micros(when)
        today = int(local_days(pl.Series([now]), zone)[0])
        return cls(now=now, today=today, window_days=window_days)

    def back(self, days: int) -> AsOf:
        """The same instant `days` days earlier."""
        return AsOf(self.now - days * DAY_US, self.today - days, self.window_days)

    def params(self, gap: int = 60) -> dict[str, int]:
        return {
            "now": self.now,
            "today": self.today,
            "window": self.window_days,
            "window_start": self.now - self.window_days * DAY_US,
            "gap": gap,
        }


def figures(con: duckdb.DuckDBPyConnection, at: AsOf, gap_days: int = 60) -> pl.DataFrame:
    """One row per person seen before `at.now`, with every copy-side profile figure,
    computed from scratch (shequn.members.stored keeps them and merges in what changed).

    Args:
        con: a connection (or cursor) to an analytics copy.
        at: the instant of the figures.
        gap_days: a return is activity after a gap of at least this many days.
    """
    compute(con, SCRATCH, at, gap_days, None)
    frame = read_frame(con, kept_sql.READ.format(table=SCRATCH) + " ORDER BY member")
    con.execute(f"DROP TABLE {SCRATCH}")
    return with_time(frame, at)


@dataclass(frozen=True)
class Since:
    """Stored figures: their instant, the last event id they saw (the high-water mark),
    and the earliest time at or after their instant of an event they saw (not counted
    yet: `stored.AHEAD`; 0 when not known)."""

    at: AsOf
    hwm: int
    ahead: int = 0


def compute(
    con: duckdb.DuckDBPyConnection, table: str, at: AsOf, gap_days: int, since: Since | None
) -> bool:
    """Bring the figures in `table` from `since` to `at` and the copy's newest event;
    cold (the table created anew, everyone computed) when `since` is None.

    Returns whether the figures were brought up from `since` (not recomputed cold): then
    the temporary table `<table>_changed` holds the new rows of everyone whose row may
    have changed. The caller holds the transaction.
    """
    marks = {"hwm": -1, "then": at.now, "ahead": 0}
    if since is not None:
        marks = {"hwm": since.hwm, "then": since.at.now, "ahead": since.ahead}
    params = {**at.params(gap_days), **marks}
    links = kept_sql.LINKS_COLD if since is None else kept_sql.LINKS_SINCE
    con.execute(kept_sql.ENTERING.format(**params))
    con.execute(kept_sql.AUTHORS.format(**params, **links))
    if since is not None and con.execute(kept_sql.REWRITTEN).fetchall()[0][0]:
        return compute(con, table, at, gap_days, None)
    if since is None:
        kind = "TEMP" if table == SCRATCH else ""
        con.execute(kept_sql.TABLE_DDL.format(kind=kind, table=table))
    con.execute(kept_sql.LINKS.format(**params, **links))
    con.execute(kept_sql.DELTA)
    if since is None:
        con.execute(kept_sql.COLD_SCOPE)
    else:
        con.execute(kept_sql.SCOPE.format(**params, **_crossings(since.at, at)))
        con.execute(kept_sql.SCOPE_KEYS)
    keyed = kept_sql.EVERYONE if since is None else kept_sql.KEYED
    con.execute(kept_sql.PARTS.format(**params, **keyed))
    con.execute(kept_sql.MERGED.format(table=table))
    if since is not None:
        con.execute(f"DELETE FROM {table} WHERE member IN (SELECT member FROM fig_rows)")
    con.execute(f"INSERT INTO {table} SELECT * FROM fig_rows")
    temps = ("fig_new", "fig_authors", "fig_links", "fig_delta", "fig_scope", "fig_parts")
    for temp in temps:
        con.execute(f"DROP TABLE {temp}")
    if since is None:
        con.execute("DROP TABLE fig_rows")
    else:
        con.execute("DROP TABLE fig_keys")
        con.execute(f"DROP TABLE IF EXISTS {table}_changed")
        con.execute(f"ALTER TABLE fig_rows RENAME TO {table}_changed")
    return since is not None


# The figures of `qualifying`: what a tier's minimums read besides points and tenure.
QUALIFYING: tuple[str, ...] = (
    "orders",
    "orders_window",
    "gmv",
    "gmv_window",
    "days_active",
    "days_active_window",
)


# The Polars type of each of `QUALIFYING`, as the stored table declares it.
_KINDS = {
    name: pl.Float64 if kind == "DOUBLE" else pl.Int64
    for name, kind in kept_sql.COLUMNS
    if name in QUALIFYING
}


def qualifying(
    con: duckdb.DuckDBPyConnection,
    at: AsOf,
    gap_days: int,
    persons: pl.Series,
    columns: Collection[str] = QUALIFYING,
) -> pl.DataFrame:
    """The figures `QUALIFYING` of `persons` as of `at`, as `compute` finds them, from
    the copy's compact tables (orders, active days) and only those persons' rows: a
    tier's grace evaluation for a few members without bringing up a whole set.

    Only the compact tables that one of `columns` comes from are read; the figures of
    the others are null (the active days cost most, and a grace period on orders alone
    never reads them).
    """
    parts = [name for name, given in kept_sql.TIERED.items() if set(given) & set(columns)]
    wanted = [c for name in parts for c in kept_sql.TIERED[name]]
    unread = [pl.lit(None, _KINDS[c]).alias(c) for c in QUALIFYING if c not in wanted]
    if not wanted:
        return pl.DataFrame({"member": persons.unique()}).with_columns(unread)
    with registered(con, fig_asked=persons.to_frame("person")):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE fig_scope AS SELECT DISTINCT person FROM fig_asked"
        )
    con.execute(kept_sql.SCOPE_KEYS)
    joined = " FULL JOIN ".join(parts) + (" USING (member)" if len(parts) > 1 else "")
    params = at.params(gap_days)
    con.execute(kept_sql.TIERED_PARTS.format(parts=joined, **params, **kept_sql.KEYED))
    frame = read_frame(con, f"SELECT member, {', '.join(wanted)} FROM fig_parts")
    for temp in ("fig_scope", "fig_keys", "fig_parts"):
        con.execute(f"DROP TABLE {temp}")
    filled = [pl.col(c).fill_null(0) for c in wanted]  # 0.0 in a DOUBLE column
    return frame.with_columns(*filled, *unread).select("member", *QUALIFYING)


def _crossings(then: AsOf, at: AsOf) -> dict[str, str]:
    """Who has an active day or an order crossing a window's edge between two instants
    (`then` before `at`, same window): SCOPE's conditions."""
    days = [f"(day > {then.today} AND day <= {at.today})"]
    for width in (at.window_days, *kept_sql.DAY_WINDOWS):
        days.append(f"(day > {then.today - width} AND day <= {at.today - width})")
    edge, then_edge = at.now - at.window_days * DAY_US, then.now - at.window_days * DAY_US
    orders = (
        f"(first_ts >= {then_edge} AND first_ts < {edge})"
        f" OR (first_ts >= {then.now} AND first_ts < {at.now})"
    )
    return {"crossed_days": " OR ".join(days), "crossed_orders": orders}


def with_time(frame: pl.DataFrame, at: AsOf) -> pl.DataFrame:
    """The figures that change with the passage of time alone, from the stored instants."""
    return frame.with_columns(
        ((at.now - pl.col("first_seen")) / DAY_US).floor().cast(pl.Int64).alias("tenure_days"),
        ((at.now - pl.col("last_active")) / DAY_US).alias("idle_days"),
    )


def read_frame(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    """The rows of a query as a Polars frame."""
    frame = pl.from_arrow(con.sql(query).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """`frames` readable by name in the statements run meanwhile."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)
