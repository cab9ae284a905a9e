"""Stylised facts of a group's participation, measured the same way on any event frame.

The simulator is calibrated against these figures and a test holds it to them; the
same function measures a real export once an importer has read it (its frames have
the same columns), so the two can be put side by side (docs/simulator.md).

Per community and per 30-day window from its first event (a trailing part window is
dropped unless it is the only one):

- **members**: members present at some time in the window. A member's presence runs
  from their first join (or, with no join in the data, their first event) to a leave
  with no later join. Exports only show members who did something, so there a
  member who never spoke and never joined in the export is not counted (the real
  rate is lower than the one an export shows).
- **monthly active rate**: members with at least one message in the window ÷ members.
- **top-10% share**: of the window's messages, the share written by the most active
  tenth of its senders (at least one sender).
- **median per sender**: the median number of messages of a sender in the window.

The figures of a community are the means over its windows; a window without a message
counts as 0 % active and has no share or median.

An export that holds no join or leave lines (a Slack or IRC archive cleaned of them)
knows its members only from what they wrote. ``senders_only`` measures any log that
way, so a simulation and such an export can be compared alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

WINDOW = timedelta(days=30)
WINDOW_US = int(WINDOW.total_seconds() * 1_000_000)


@dataclass(frozen=True, slots=True)
class Facts:
    """Participation figures of one community (means over its 30-day windows)."""

    community: str
    windows: int
    members: float
    active_rate: float
    top10_share: float
    median_per_sender: float
    messages: int


def _windows(events: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The events of the whole windows, with their window number; how many windows."""
    since = (pl.col("ts") - pl.col("ts").min()).dt.total_microseconds()
    events = events.with_columns((since // WINDOW_US).cast(pl.Int64).alias("window"))
    windows = max(int(events.select(since.max()).item()) // WINDOW_US, 1)
    return events.filter(pl.col("window") < windows), windows


def _presence(events: pl.DataFrame, windows: int) -> pl.DataFrame:
    """Members present in each window: (window, members)."""
    ends = events.group_by("member").agg(
        pl.col("window").min().alias("first"),
        pl.col("window").filter(pl.col("type") == "leave").max().alias("left"),
        pl.col("window").filter(pl.col("type") == "join").max().alias("joined"),
    )
    # Gone for good: left after the last join; else present until the end.
    gone = pl.col("left").is_not_null() & (pl.col("left") >= pl.col("joined").fill_null(-1))
    last = pl.when(gone).then(pl.col("left")).otherwise(windows - 1)
    return (
        ends.with_columns(pl.int_ranges("first", last + 1).alias("window"))
        .explode("window")
        .group_by("window")
        .agg(pl.len().alias("members"))
    )


def _senders(events: pl.DataFrame) -> pl.DataFrame:
    """Per window: senders, messages, the top tenth's messages, the median per sender."""
    sent = events.filter(pl.col("type") == "message").group_by("window", "member").len()
    top = (pl.len() / 10).ceil().clip(lower_bound=1)
    in_top = pl.col("len").rank("ordinal", descending=True) <= top
    return sent.group_by("window").agg(
        pl.len().alias("senders"),
        pl.col("len").sum().alias("messages"),
        pl.col("len").filter(in_top).sum().alias("top"),
        pl.col("len").median().alias("median"),
    )


def community_facts(community: str, events: pl.DataFrame) -> Facts:
    """The facts of one community's events (columns member, type, ts)."""
    events, windows = _windows(events.filter(pl.col("member").is_not_null()))
    present = _presence(events, windows)
    # A window without a message counts as 0 % active; its share and median are unknown.
    per_window = present.join(_senders(events), on="window", how="left").with_columns(
        pl.col("senders", "messages").fill_null(0)
    )
    means = per_window.select(
        pl.len().alias("windows"),
        (pl.col("senders") / pl.col("members")).mean().alias("active_rate"),
        (pl.col("top") / pl.col("messages")).mean().alias("top10_share"),
        pl.col("median").mean().alias("median_per_sender"),
        pl.col("messages").sum(),
    ).row(0, named=True)
    return Facts(
        community=community,
        windows=int(means["windows"]),
        members=float(present.select(pl.col("members").mean()).item()),
        active_rate=float(means["active_rate"]),
        top10_share=float(means["top10_share"] or 0.0),
        median_per_sender=float(means["median_per_sender"] or 0.0),
        messages=int(means["messages"]),
    )


def senders_only(events: pl.DataFrame) -> pl.DataFrame:
    """The log as an export without membership lines sees it: its messages only.

    A member is then present from their first message to the end of the log; members
    who never wrote, joins and leaves are gone.
    """
    return events.filter(pl.col("type") == "message")


def facts(events: pl.DataFrame) -> list[Facts]:
    """The facts of every community of an event frame, sorted by community key."""
    needed = events.select("community", "member", "type", "ts")
    return [
        community_facts(str(key), part)
        for (key,), part in sorted(needed.group_by("community"), key=lambda g: str(g[0][0]))
    ]
