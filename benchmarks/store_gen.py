"""A store workspace with many members: ~M people over ~N events in a year, seeded.

The year starts at START (2026-01-01) unless the caller gives another start (`--start`;
members_cli_bench.py gives one a year before the day it runs, so no event is dated
after the wall clock its refreshes run at).

Every member joins once, in one of three communities of unequal size (60/30/10%),
through a channel (poster, invite, article, search; an invited join names its
inviter); 8% leave later. The other events are messages (30% reply to an earlier
message), reactions to earlier messages, check-ins and orders, each after its
sender's join, from heavy-tailed senders (`senders`: 70% Zipf-like, 30% spread evenly,
so nearly every member has a few events). The frames are those of the import contract,
validated by the import pipeline and appended through `store.bulk.EventSink`, so the
workspace is what importing the same events would leave.

    python benchmarks/store_gen.py ROOT --members 100000 --events 1000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

START = datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
YEAR_US = 365 * 86_400_000_000
CHUNK = 1_000_000  # events per frame: bounds memory at 10M
COMMUNITIES = ("c1", "c2", "c3")
CHANNELS = ("poster", "invite", "article", "search")
ACTIVITY = ("message", "message", "message", "reaction", "checkin", "order")
AMOUNTS = ("9.90", "19.90", "99.00", "199.00")
LEAVE_SHARE = 0.08
REPLY_SHARE = 0.3


def senders(rng: np.random.Generator, members: int, n: int) -> np.ndarray:
    """Member numbers of n events: 70% from a heavy tail, 30% spread evenly; the heavy
    senders are spread over the number range (not all low numbers)."""
    heavy = np.minimum(rng.zipf(1.3, n) - 1, members - 1)
    who = np.where(rng.random(n) < 0.7, heavy, rng.integers(0, members, n))
    return (who * 2_654_435_761) % members


def _joined_us(who: np.ndarray) -> np.ndarray:
    """Each member's join time (µs since START), a fixed function of the member number:
    spread over the first 80% of the year."""
    spread = (who.astype(np.int64) * 2_246_822_519) % 1_000_003
    return (spread / 1_000_003 * 0.8 * YEAR_US).astype(np.int64)


def _community(who: np.ndarray) -> np.ndarray:
    return np.array(COMMUNITIES)[np.searchsorted([6, 9], who % 10, side="right")]


def _key(column: str) -> pl.Expr:
    return pl.format("bench:u{}", pl.col(column))


def event_frames(
    members: int, events: int, seed: int, start: datetime = START
) -> Iterator[pl.DataFrame]:
    """The events of a year from `start`, in frames of at most CHUNK rows (the import
    contract's columns)."""
    rng = np.random.default_rng(seed)
    chunks = max(1, -(-events // CHUNK))
    first = 0
    for c in range(chunks):
        people = np.arange(c * members // chunks, (c + 1) * members // chunks)
        size = events // chunks + (1 if c < events % chunks else 0)
        arrivals = pl.concat([_joins(rng, people, members), _leaves(rng, people)], how="diagonal")
        activity = _activity(rng, members, max(size - arrivals.height, 0), first + arrivals.height)
        frame = pl.concat([arrivals, activity], how="diagonal")
        yield _finish(frame, first, start)
        first += frame.height


def _joins(rng: np.random.Generator, people: np.ndarray, members: int) -> pl.DataFrame:
    pick = rng.choice(len(CHANNELS), len(people), p=[0.4, 0.3, 0.2, 0.1])
    channel = np.array(CHANNELS)[pick]
    inviter = senders(rng, members, len(people))
    return pl.DataFrame(
        {
            "who": people,
            "at": _joined_us(people),
            "type": "join",
            "channel": channel,
            "inviter": np.where(channel == "invite", inviter, -1),
        }
    ).with_columns(
        pl.when(pl.col("inviter") >= 0).then(_key("inviter")).alias("inviter"),
        pl.format("用户{}", pl.col("who")).alias("member_name"),
    )


def _leaves(rng: np.random.Generator, people: np.ndarray) -> pl.DataFrame:
    who = people[rng.random(len(people)) < LEAVE_SHARE]
    joined = _joined_us(who)
    at = joined + (rng.random(len(who)) * (YEAR_US - joined)).astype(np.int64)
    return pl.DataFrame({"who": who, "at": at, "type": "leave"})


def _activity(rng: np.random.Generator, members: int, n: int, first: int) -> pl.DataFrame:
    """Messages, reactions, check-ins and orders in time order (ids from `first`);
    replies and reactions point to one of the 500 messages before them."""
    who = senders(rng, members, n)
    joined = _joined_us(who)
    at = joined + (rng.random(n) * (YEAR_US - joined)).astype(np.int64)
    ordered = np.argsort(at, kind="stable")
    who, at = who[ordered], at[ordered]
    kind = np.array(ACTIVITY)[rng.integers(0, len(ACTIVITY), n)]
    ids = np.arange(first, first + n)
    messages = ids[kind == "message"]
    before = np.searchsorted(messages, ids)  # how many messages come earlier
    pick = np.clip(before - rng.integers(1, 500, n), 0, max(len(messages) - 1, 0))
    answers = (rng.random(n) < REPLY_SHARE) & (kind == "message") | (kind == "reaction")
    reply = np.where(answers & (before > 0), messages[pick] if len(messages) else -1, -1)
    amount = np.array(AMOUNTS)[rng.integers(0, len(AMOUNTS), n)]
    own = pl.format("{}", pl.col("id"))
    return pl.DataFrame(
        {"id": ids, "who": who, "at": at, "type": kind, "reply": reply, "amount": amount}
    ).with_columns(
        pl.when(pl.col("type") == "message").then(pl.lit("m") + own).alias("message_id"),
        pl.when(pl.col("reply") >= 0).then(pl.format("m{}", pl.col("reply"))).alias("reply_to"),
        pl.when(pl.col("type") == "order").then(pl.lit("o") + own).alias("order_id"),
        pl.when(pl.col("type") == "order").then(pl.col("amount")).alias("amount"),
    )


def _finish(frame: pl.DataFrame, first: int, start: datetime = START) -> pl.DataFrame:
    """The import contract's columns: UTC time (`at`: µs since `start`), community,
    member key, source id."""
    origin = int(start.timestamp() * 1_000_000)
    return frame.select(
        (pl.col("at") + origin).cast(pl.Datetime("us", "UTC")).alias("ts"),
        pl.Series("community", _community(frame["who"].to_numpy())),
        _key("who").alias("member"),
        "type",
        *(c for c in ("channel", "inviter", "member_name") if c in frame.columns),
        *(c for c in ("message_id", "reply_to", "order_id", "amount") if c in frame.columns),
        pl.format("{}", pl.int_range(first, first + frame.height)).alias("source_id"),
    )


def store_into(
    root: Path, members: int, events: int, seed: int = 7, start: datetime = START
) -> None:
    """A new workspace at root with the generated events (a year from `start`), stored
    in one transaction."""
    from shequn.importers.pipeline import frames
    from shequn.services.workspace import init_workspace
    from shequn.store.bulk import EventSink

    ws = init_workspace(root, name=root.name)
    try:
        with EventSink(ws.engine, ws.root / "data") as sink:
            for frame in frames(event_frames(members, events, seed, start), "store_gen"):
                sink.add(frame, "store_gen")
            with sink.commit():
                pass
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=START,
        help=f"the year's first instant, ISO 8601 with its offset (default {START.isoformat()})",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    store_into(args.root, args.members, args.events, args.seed, args.start)
    print(f"stored in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
