"""Trigger occurrences and step conditions, vectorized over an events frame.

The frame holds the events a tick needs (columns ts µs, community, member, type,
channel), read once per tick. Each trigger kind is one function from the frame to
its occurrences (community, member, occ_ts); each condition is one function that
keeps the due rows it allows. None of them loops over members in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from shequn.sop.model import EventTrigger

DAY_US = 86_400_000_000
ACTIVITY = ("message", "reaction", "checkin", "join")
KEYS = ["community", "member"]
TYPE_ENUM = pl.Enum(["join", "leave", "message", "reaction", "checkin", "order"])


@dataclass
class Frames:
    """What the tick read: recent events, and each member's first order ever."""

    events: pl.DataFrame
    first_orders: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"community": pl.String, "member": pl.String, "ts": pl.Int64}
        )
    )
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Time ranges are cut by binary search, so the events must be in time order.
        if not self.events["ts"].is_sorted():
            self.events = self.events.sort("ts")
        # An enum compares as small integers: type filters on millions of rows stay cheap.
        self.events = self.events.with_columns(pl.col("type").cast(TYPE_ENUM))

    def between(self, types: tuple[str, ...], lo: int, hi: int | None = None) -> pl.DataFrame:
        """Events of these types with lo < ts <= hi.

        The time range is a zero-copy slice found by bisection; only the slice is
        filtered by type, so a narrow band never scans the whole frame.
        """
        ts = self.events["ts"]
        start = ts.search_sorted(lo, side="right")
        end = self.events.height if hi is None else ts.search_sorted(hi, side="right")
        part = self.events.slice(start, max(end - start, 0))
        return part.filter(pl.col("type").is_in(types))

    def fell_inactive(self, days: int, lo: int, hi: int) -> pl.DataFrame:
        """Members whose last activity + `days` lies in (lo, hi], who did not leave after.

        Only members active in the band (lo - N, hi - N] qualify; of those, anyone active
        again later is dropped. Probing the later events with a small set of candidates
        avoids grouping the whole history. Cached: playbooks share triggers and bands.
        """
        name = f"_inactive:{days}:{lo}:{hi}"
        if name not in self._cache:
            n = days * DAY_US
            band = self.between(ACTIVITY, lo - n, hi - n)
            last = band.group_by(KEYS).agg(pl.col("ts").max().alias("last"))
            mine = pl.col("member").is_in(last["member"].unique().implode())
            again = self.between((*ACTIVITY, "leave"), hi - n).filter(mine).select(KEYS)
            self._cache[name] = last.join(again.unique(), on=KEYS, how="anti").select(
                *KEYS, (pl.col("last") + n).alias("occ_ts")
            )
        return self._cache[name]


Rule = Callable[[Frames, EventTrigger, int, int], pl.DataFrame]


def _events(kind: str) -> Rule:
    def occurrences(frames: Frames, trigger: EventTrigger, lo: int, hi: int) -> pl.DataFrame:
        found = frames.between((kind,), lo, hi)
        if trigger.channel is not None:
            found = found.filter(pl.col("channel") == trigger.channel)
        return found.select(*KEYS, pl.col("ts").alias("occ_ts"))

    return occurrences


def _first_purchase(frames: Frames, _trigger: EventTrigger, lo: int, hi: int) -> pl.DataFrame:
    first = frames.first_orders.filter((pl.col("ts") > lo) & (pl.col("ts") <= hi))
    return first.select(*KEYS, pl.col("ts").alias("occ_ts"))


def _inactive(frames: Frames, trigger: EventTrigger, lo: int, hi: int) -> pl.DataFrame:
    """Inactive N days after the last activity, unless they left after it."""
    assert trigger.days is not None
    return frames.fell_inactive(trigger.days, lo, hi)


TRIGGER_RULES: dict[str, Rule] = {
    "member_joined": _events("join"),
    "member_left": _events("leave"),
    "purchase": _events("order"),
    "first_purchase": _first_purchase,
    "member_inactive": _inactive,
}


def _none_since(*types: str) -> Callable[[Frames, pl.DataFrame, int], pl.DataFrame]:
    """Keep due rows whose member had no event of these types after the trigger."""

    def keep(frames: Frames, due: pl.DataFrame, now: int) -> pl.DataFrame:
        since = frames.between(types, due["occ_ts"].min(), now)  # type: ignore[arg-type]
        later = (
            due.select(*KEYS, "occ_ts")
            .unique()
            .join(since.select(*KEYS, "ts"), on=KEYS)
            .filter((pl.col("ts") > pl.col("occ_ts")) & (pl.col("ts") <= now))
            .select(*KEYS, "occ_ts")
            .unique()
        )
        return due.join(later, on=[*KEYS, "occ_ts"], how="anti")

    return keep


CONDITION_RULES: dict[str, Callable[[Frames, pl.DataFrame, int], pl.DataFrame]] = {
    "still_member": _none_since("leave"),
    "silent_since_trigger": _none_since("message"),
    "not_purchased_since_trigger": _none_since("order"),
}
