"""Trigger occurrences and step conditions, vectorized over an events frame.

The frame holds the events a tick needs (columns ts µs, community, member, type,
channel, label), read once per tick or kept by the engine. `label` is the `text` of
the SOP state events (the tag, the new tier, the stage, the threshold id) and empty
for every other type: message texts are never read. Each trigger kind is one function
from the frame and a band of trigger instants to its occurrences (community, member,
mid, occ_ts); each condition is one function that keeps the due rows it allows.
None of them loops over members in Python.

Speed (docs/performance.md): the events are split by type once, each part sorted by
time, so "events of type t in (lo, hi]" is a zero-copy slice found by bisection, and
each (community, member) carries a 64-bit hash `mid` so probes and joins compare one
integer instead of two strings. A hash can collide, so every join on `mid` also
checks the community and member before it counts as a match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

DAY_US = 86_400_000_000
ACTIVITY = ("message", "reaction", "checkin", "join")
# SOP state events whose `text` the triggers match (docs/events.md).
STATE_TYPES = (
    "tag_added",
    "tag_removed",
    "tier_changed",
    "community_created",
    "stage_entered",
    "metric_crossed",
    "churn_risk_crossed",
)
EVENT_TYPES = ("join", "leave", "message", "reaction", "checkin", "order", *STATE_TYPES)
KEYS = ["community", "member"]
# The columns a tick reads (sop.recent); `label` is the text of the SOP state events.
EVENT_SCHEMA = {
    "ts": pl.Int64,
    "community": pl.String,
    "member": pl.String,
    "type": pl.String,
    "channel": pl.String,
    "label": pl.String,
}
OCC_SCHEMA = {"community": pl.String, "member": pl.String, "mid": pl.UInt64, "occ_ts": pl.Int64}
# Sign-ups of the activities a `signed_up` trigger names, whenever they were (sop.recent).
SIGNUP_SCHEMA = {"community": pl.String, "member": pl.String, "activity": pl.String, "ts": pl.Int64}
_SEED = 0x5E0  # any fixed seed: the hash only has to agree within one process


def member_id() -> pl.Expr:
    """The 64-bit key of (community, member); equal keys still need a string check."""
    return pl.struct("community", "member").hash(_SEED).alias("mid")


def same_member(suffix: str = "_r") -> pl.Expr:
    """After a join on `mid`: the rows really are the same (community, member)."""
    return (pl.col("community") == pl.col(f"community{suffix}")) & pl.col("member").eq_missing(
        pl.col(f"member{suffix}")
    )


def _empty_occ() -> pl.DataFrame:
    return pl.DataFrame(schema=OCC_SCHEMA)


@dataclass
class Frames:
    """What the tick read: recent events (split by type), first orders ever, and the
    sign-ups of the activities that `signed_up` triggers name."""

    events: pl.DataFrame
    first_orders: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"community": pl.String, "member": pl.String, "ts": pl.Int64}
        )
    )
    signups: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SIGNUP_SCHEMA))
    _parts: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    _cache: dict[Any, pl.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        first = self.first_orders
        if not first["ts"].is_sorted():
            first = first.sort("ts")
        self.first_orders = first.with_columns(member_id())
        if self._parts:  # split already, in time order, with hashes (of_parts)
            return
        events = self.events
        if "label" not in events.columns:
            events = events.with_columns(pl.lit(None, dtype=pl.String).alias("label"))
        # Time ranges are cut by binary search, so every part must be in time order.
        if not events["ts"].is_sorted():
            events = events.sort("ts", maintain_order=True)
        self.events = events.with_columns(member_id())
        self._parts = split(self.events)

    @classmethod
    def of_parts(
        cls,
        parts: dict[str, pl.DataFrame],
        first_orders: pl.DataFrame,
        signups: pl.DataFrame | None = None,
    ) -> Frames:
        """Frames from events split by type already (`split`), as the engine keeps them
        between ticks (sop.recent): nothing is sorted, hashed or split again."""
        kept = {kind: part for kind, part in parts.items() if part.height}
        events = pl.concat(list(kept.values()), rechunk=False) if kept else None
        if events is None:
            events = pl.DataFrame(schema={**EVENT_SCHEMA, "mid": pl.UInt64})
        if signups is None:
            signups = pl.DataFrame(schema=SIGNUP_SCHEMA)
        return cls(events, first_orders, signups, _parts=kept)

    def between(
        self,
        types: tuple[str, ...],
        lo: int,
        hi: int | None = None,
        mids: pl.Series | None = None,
    ) -> pl.DataFrame:
        """Events of these types with lo < ts <= hi (of these member ids, if given).

        Each type's part is sliced by bisection (zero-copy); only the slices are
        filtered, so a narrow band never scans the whole log.
        """
        found = []
        for kind in types:
            part = self._parts.get(kind)
            if part is None:
                continue
            piece = _slice(part, lo, hi)
            if mids is not None:
                piece = piece.filter(pl.col("mid").is_in(mids.implode()))
            found.append(piece)
        if not found:
            return self.events.clear()
        return found[0] if len(found) == 1 else pl.concat(found)

    def fell_inactive(self, days: int, lo: int, hi: int) -> pl.DataFrame:
        """Occurrences t + N in (lo, hi] of an activity t not followed by one within N days.

        An activity (message, reaction, checkin, join) at t followed by no activity and
        no leave in (t, t + N] makes the member inactive at t + N. The candidates are
        the activities in the band (lo - N, hi - N]; only their members' later events
        are probed. Cached: playbooks share triggers and bands.
        """
        name = ("inactive", days, lo, hi)
        if name not in self._cache:
            n = days * DAY_US
            cand = self.between(ACTIVITY, lo - n, hi - n).select("mid", *KEYS, "ts")
            if cand.is_empty():
                return _empty_occ()
            later = self.between((*ACTIVITY, "leave"), lo - n, hi, cand["mid"].unique())
            broken = (
                cand.join(later.select("mid", *KEYS, "ts"), on="mid", suffix="_r")
                .filter(
                    same_member(), pl.col("ts_r") > pl.col("ts"), pl.col("ts_r") <= pl.col("ts") + n
                )
                .select("mid", *KEYS, "ts")
            )
            self._cache[name] = (
                cand.join(broken, on=["mid", *KEYS, "ts"], how="anti")
                .select(*KEYS, "mid", (pl.col("ts") + n).alias("occ_ts"))
                .unique()
            )
        return self._cache[name]

    def joined_through(self, channels: tuple[str, ...]) -> pl.DataFrame:
        """(mid, community, member) of every join the tick read through these channels."""
        name = ("joined", channels)
        if name not in self._cache:
            joins = self.between(("join",), -(2**62))
            self._cache[name] = (
                joins.filter(pl.col("channel").is_in(list(channels))).select("mid", *KEYS).unique()
            )
        return self._cache[name]


def split(events: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Events (in time order, with `mid`) split by type, each part still in time order."""
    parts = events.partition_by("type", as_dict=True, maintain_order=True)
    return {key[0]: part for key, part in parts.items()}


def _slice(part: pl.DataFrame, lo: int, hi: int | None) -> pl.DataFrame:
    ts = part["ts"]
    start = ts.search_sorted(lo, side="right")
    end = part.height if hi is None else ts.search_sorted(hi, side="right")
    return part.slice(start, max(end - start, 0))


Rule = Callable[[Frames, Any, int, int], pl.DataFrame]


def _occ(found: pl.DataFrame) -> pl.DataFrame:
    found = found.select(*KEYS, "mid", pl.col("ts").alias("occ_ts"))
    # The same event twice (same member, time and type) is one occurrence. Checking the
    # two integer columns first keeps string hashing for the rare frame that has one.
    if found.height > 1 and found.select(pl.struct("mid", "occ_ts").is_duplicated().any()).item():
        found = found.unique(maintain_order=True)
    return found


def _events(kind: str) -> Rule:
    def occurrences(frames: Frames, trigger: Any, lo: int, hi: int) -> pl.DataFrame:
        found = frames.between((kind,), lo, hi)
        if getattr(trigger, "channel", None) is not None:
            found = found.filter(pl.col("channel") == trigger.channel)
        return _occ(found)

    return occurrences


def _labelled(types: Callable[[Any], tuple[str, ...]], label: Callable[[Any], str | None]) -> Rule:
    """State events of these types whose text (label) is the trigger's value, if it has one."""

    def occurrences(frames: Frames, trigger: Any, lo: int, hi: int) -> pl.DataFrame:
        found = frames.between(types(trigger), lo, hi)
        wanted = label(trigger)
        if wanted is not None:
            found = found.filter(pl.col("label") == wanted)
        return _occ(found)

    return occurrences


def _first_purchase(frames: Frames, _trigger: Any, lo: int, hi: int) -> pl.DataFrame:
    first = frames.first_orders
    if "mid" not in first.columns:  # assigned after the frames were built
        frames.first_orders = first = first.sort("ts").with_columns(member_id())
    return _occ(_slice(first, lo, hi))


def _churn_risk(frames: Frames, trigger: Any, lo: int, hi: int) -> pl.DataFrame:
    found = frames.between(("churn_risk_crossed",), lo, hi)
    return _occ(found.filter(pl.col("label").cast(pl.Float64, strict=False) >= trigger.above))


def _signed_up(frames: Frames, trigger: Any, lo: int, hi: int) -> pl.DataFrame:
    """At the trigger's fixed instant, when it lies in (lo, hi]: every member signed up
    for its activity by then, once (in member order, so keys and rows are stable)."""
    at = trigger.instant
    if not lo < at <= hi:
        return _empty_occ()
    found = (
        frames.signups.filter(pl.col("activity") == trigger.activity, pl.col("ts") <= at)
        .select(KEYS)
        .unique()
        .sort(KEYS)
    )
    return found.select(*KEYS, member_id(), pl.lit(at, dtype=pl.Int64).alias("occ_ts"))


def _inactive(frames: Frames, trigger: Any, lo: int, hi: int) -> pl.DataFrame:
    assert trigger.days is not None
    return frames.fell_inactive(trigger.days, lo, hi)


TRIGGER_RULES: dict[str, Rule] = {
    "member_joined": _events("join"),
    "member_left": _events("leave"),
    "purchase": _events("order"),
    "first_purchase": _first_purchase,
    "member_inactive": _inactive,
    "tag_changed": _labelled(lambda t: t.event_types, lambda t: t.tag),
    "tier_changed": _labelled(lambda t: ("tier_changed",), lambda t: t.to),
    "community_created": _labelled(lambda t: ("community_created",), lambda t: None),
    "stage_entered": _labelled(lambda t: ("stage_entered",), lambda t: t.stage),
    "metric_threshold": _labelled(lambda t: ("metric_crossed",), lambda t: t.threshold.id),
    "churn_risk_above": _churn_risk,
    "signed_up": _signed_up,
}

Condition = Callable[[Frames, pl.DataFrame], pl.DataFrame]


def _none_since(*types: str) -> Condition:
    """Keep due rows whose member had no event of these types in (occ_ts, due_ts]."""

    def keep(frames: Frames, due: pl.DataFrame) -> pl.DataFrame:
        rows = due.select("mid", *KEYS, "occ_ts", "due_ts").with_row_index("row")
        lo, hi = rows["occ_ts"].min(), rows["due_ts"].max()
        # polars types min()/max() as any Python value or None; both are non-empty Int64.
        since = frames.between(types, lo, hi, rows["mid"])  # type: ignore[arg-type]
        # Rows are dropped by number: no string hashing on the (possibly large) due set.
        blocked = (
            rows.join(since.select("mid", *KEYS, "ts"), on="mid", suffix="_r")
            .filter(
                pl.col("ts") > pl.col("occ_ts"), pl.col("ts") <= pl.col("due_ts"), same_member()
            )
            .get_column("row")
        )
        if blocked.is_empty():
            return due
        return due.filter(~pl.int_range(pl.len(), dtype=pl.UInt32).is_in(blocked.implode()))

    return keep


CONDITION_RULES: dict[str, Condition] = {
    "still_member": _none_since("leave"),
    "silent_since_trigger": _none_since("message"),
    "not_purchased_since_trigger": _none_since("order"),
}
