"""Per-person figures read from the analytics copy, as one Polars frame.

`figures(con, at)` runs one set-based statement (shequn.members.sql.FIGURES): the
profile of every person (activity, replies, mentions, reactions, orders) joined to the
shape of their activity (recent fortnights, the last return after a long gap). Nothing
loops over members in Python. `at` fixes the instant: every figure is "as of" it, so the churn
model can compute the same features at a past cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from shequn.analytics.copy import local_days
from shequn.clock import to_micros
from shequn.members import sql

DAY_US = 86_400_000_000


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
    computed from scratch (shequn.members.stored keeps them and recomputes only changes).

    Args:
        con: a connection (or cursor) to an analytics copy.
        at: the instant of the figures.
        gap_days: a return is activity after a gap of at least this many days.
    """
    query = sql.FIGURES.format(**at.params(gap_days), **sql.EVERYONE)
    return with_time(read_frame(con, f"{query} ORDER BY member"), at)


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
