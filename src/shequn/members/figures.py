"""Per-person figures read from the analytics copy, as one Polars frame.

`figures(con, at)` runs two set-based statements (shequn.members.sql): the profile of
every person (activity, replies, mentions, reactions, orders) and the shape of their
activity (recent fortnights, the last return after a long gap). Nothing loops over
members in Python. `at` fixes the instant: every figure is "as of" it, so the churn
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
    """One row per person seen before `at.now`, with every copy-side profile figure.

    Args:
        con: a connection (or cursor) to an analytics copy.
        at: the instant of the figures.
        gap_days: a return is activity after a gap of at least this many days.
    """
    params = at.params(gap_days)
    profiles = _frame(con, sql.PROFILES.format(**params))
    shape = _frame(con, sql.ACTIVITY_SHAPE.format(**params))
    frame = profiles.join(shape, on="member", how="left").with_columns(
        pl.col(
            "days_active", "days_active_window", "days_last_14", "days_prev_14", "days_last_90"
        ).fill_null(0),
        ((at.now - pl.col("first_seen")) / DAY_US).floor().cast(pl.Int64).alias("tenure_days"),
        ((at.now - pl.col("last_active")) / DAY_US).alias("idle_days"),
    )
    return frame


def _frame(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(query).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
