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

The figures of a community are the means over its windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

WINDOW = timedelta(days=30)


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


def _windows(events: pl.DataFrame) -> pl.DataFrame:
    """The window number of each event, and the number of windows kept."""
    first = events["ts"].min()
    last = events["ts"].max()
    assert first is not None and last is not None
    span = last - first  # type: ignore[operator]
    full = int(span / WINDOW)
    keep = max(full, 1)
    window = (pl.col("ts") - first).dt.total_microseconds() // int(WINDOW.total_seconds() * 1e6)
    return events.with_columns(window.cast(pl.Int64).alias("window")).filter(
        pl.col("window") < keep
    )


def _presence(events: pl.DataFrame, windows: int) -> pl.DataFrame:
    """(member, window) for every window a member is present in."""
    ends = events.group_by("member").agg(
        pl.col("window").min().alias("first"),
        pl.col("window").filter(pl.col("type") == "leave").max().alias("left"),
        pl.col("window").filter(pl.col("type") == "join").max().alias("joined"),
    )
    # Gone for good: left after the last join; else present until the end.
    gone = pl.col("left").is_not_null() & (pl.col("left") >= pl.col("joined").fill_null(-1))
    last = pl.when(gone).then(pl.col("left")).otherwise(windows - 1)
    ends = ends.with_columns(last.alias("last"))
    return (
        ends.with_columns(pl.int_ranges("first", pl.col("last") + 1).alias("window"))
        .explode("window")
        .select("member", "window")
    )


def _top_share(counts: pl.Series) -> float:
    ordered = counts.sort(descending=True)
    top = max(1, math.ceil(len(ordered) / 10))
    return float(ordered.head(top).sum() / ordered.sum())


def community_facts(community: str, events: pl.DataFrame) -> Facts:
    """The facts of one community's events (columns member, type, ts)."""
    events = _windows(events.filter(pl.col("member").is_not_null()))
    windows = int(events["window"].max()) + 1  # type: ignore[operator]
    present = _presence(events, windows).group_by("window").len()
    sent = events.filter(pl.col("type") == "message").group_by("window", "member").len()
    rates, shares, medians = [], [], []
    for window in range(windows):
        counts = sent.filter(pl.col("window") == window)["len"]
        members = present.filter(pl.col("window") == window)["len"].sum()
        if not len(counts) or not members:
            continue
        rates.append(len(counts) / members)
        shares.append(_top_share(counts))
        medians.append(float(counts.median()))  # type: ignore[arg-type]
    n = max(len(rates), 1)
    return Facts(
        community=community,
        windows=len(rates),
        members=float(present["len"].mean() or 0.0),  # type: ignore[arg-type]
        active_rate=sum(rates) / n,
        top10_share=sum(shares) / n,
        median_per_sender=sum(medians) / n,
        messages=int(sent["len"].sum()),
    )


def facts(events: pl.DataFrame) -> list[Facts]:
    """The facts of every community of an event frame, sorted by community key."""
    needed = events.select("community", "member", "type", "ts")
    return [
        community_facts(str(key), part)
        for (key,), part in sorted(needed.group_by("community"), key=lambda g: str(g[0][0]))
    ]
