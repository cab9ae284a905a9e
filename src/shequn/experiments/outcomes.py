"""Each enrolled member's outcome, in one vectorized pass per outcome kind.

An enrolment is a member's `experiment_assigned` event: (experiment, arm, community,
member, ts). The outcome looks at the member's own events in the same community in
the window (ts, ts + days]:

- `spoke_7d`: a `message` in the 7 days after;
- `first_order_30d`: their first `order` ever falls in the 30 days after;
- `retained_30d`: no `leave` in the 30 days after.

One sort of the enrolments with their members' events finds each member's next event
after their enrolment, so a million enrolments cost a sort, not a cross product.
"""

from __future__ import annotations

from collections.abc import Callable

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
EVENT_SCHEMA = {"community": pl.String, "member": pl.String, "ts": pl.Int64}
# The event type each outcome reads.
SOURCE_TYPE = {"spoke_7d": "message", "first_order_30d": "order", "retained_30d": "leave"}


def _next_after(enrolled: pl.DataFrame, events: pl.DataFrame) -> pl.Series:
    """Per enrolment (same order), the time of the member's first event after it.

    The enrolments and their members' events are sorted together by member and time
    (an event at the enrolment's own instant first, so "after" is strict); each
    enrolment then takes the next event time below it in its member's group.
    """
    keys = ["community", "member"]
    mine = events.join(enrolled.select(keys).unique(), on=keys, how="semi")
    both = pl.concat(
        [
            mine.select(
                *keys, "ts", pl.lit(None, pl.UInt32).alias("_row"), pl.col("ts").alias("_next")
            ),
            enrolled.with_row_index("_row").select(
                *keys, "ts", "_row", pl.lit(None, pl.Int64).alias("_next")
            ),
        ]
    )
    ordered = both.sort([*keys, "ts", "_row"], nulls_last=False).with_columns(
        pl.col("_next").backward_fill().over(keys)
    )
    return ordered.filter(pl.col("_row").is_not_null()).sort("_row")["_next"]


def _spoke(enrolled: pl.DataFrame, events: pl.DataFrame, days: int) -> pl.Series:
    nxt = _next_after(enrolled, events)
    return (nxt.is_not_null() & (nxt <= enrolled["ts"] + days * DAY_US)).fill_null(False)


def _retained(enrolled: pl.DataFrame, events: pl.DataFrame, days: int) -> pl.Series:
    return ~_spoke(enrolled, events, days)


def _first_order(enrolled: pl.DataFrame, events: pl.DataFrame, days: int) -> pl.Series:
    first = events.group_by("community", "member").agg(pl.col("ts").min().alias("_first"))
    joined = enrolled.join(first, on=["community", "member"], how="left", maintain_order="left")
    first_ts, ts = joined["_first"], joined["ts"]
    return ((first_ts > ts) & (first_ts <= ts + days * DAY_US)).fill_null(False)


RULES: dict[str, Callable[[pl.DataFrame, pl.DataFrame, int], pl.Series]] = {
    "spoke_7d": _spoke,
    "first_order_30d": _first_order,
    "retained_30d": _retained,
}


def outcomes(enrolled: pl.DataFrame, outcome: str, events: pl.DataFrame) -> pl.Series:
    """Whether each enrolment met `outcome`, given the members' events of its type."""
    if enrolled.is_empty():
        return pl.Series("met", [], dtype=pl.Boolean)
    return RULES[outcome](enrolled, events, OUTCOMES[outcome]).alias("met")


def tally(enrolled: pl.DataFrame, met: pl.Series) -> dict[str, tuple[int, int]]:
    """Per arm: (members who met the outcome, members)."""
    counts = (
        enrolled.with_columns(met)
        .group_by("arm")
        .agg(pl.col("met").sum().alias("x"), pl.len().alias("n"))
    )
    return {r["arm"]: (int(r["x"]), int(r["n"])) for r in counts.iter_rows(named=True)}
