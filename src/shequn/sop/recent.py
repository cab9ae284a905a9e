"""The events a tick reads, kept by the engine between ticks.

A tick needs the events since its window's start minus the playbooks' lookback
(`evaluate.lookback`): at 100,000 members that is hundreds of thousands of rows, and
reading them from the store every minute took seconds (docs/performance.md). The
engine keeps them instead, and each tick reads only the events with an id above the
last one it saw, then drops those that fell out of the lookback.

This is exact because events are only ever appended and appends take turns until
they commit (SQLite has one writer; on PostgreSQL every append holds
`dialect.lock_appends`): no event with a smaller id can become visible later. The
tick runs in a write transaction and reads its own uncommitted events (the lifecycle
records stage moves first), so a tick that fails must `clear()` what it kept.

`read_frames` (a one-shot tick, `sop plan`, `sop replay`) reads the same rows once,
bounded by the window's end, and keeps nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, case, func, or_, select

from shequn.domain.events import BASELINE
from shequn.sop.evaluate import Window, lookback
from shequn.sop.model import Playbook
from shequn.sop.triggers import (
    EVENT_SCHEMA,
    EVENT_TYPES,
    SIGNUP_SCHEMA,
    STATE_TYPES,
    Frames,
    member_id,
    split,
)
from shequn.store.schema import events

FIRST_SCHEMA = {"community": pl.String, "member": pl.String, "ts": pl.Int64}
_CHUNKS = 32  # rechunk a part past this many appended pieces (keeps slices fast)


def _wants_first_orders(playbooks: Sequence[Playbook]) -> bool:
    return any(getattr(pb.trigger, "type", "") == "first_purchase" for pb in playbooks)


def _signup_activities(playbooks: Sequence[Playbook]) -> frozenset[str]:
    """The activities whose sign-ups a `signed_up` trigger selects."""
    return frozenset(
        str(getattr(pb.trigger, "activity", ""))
        for pb in playbooks
        if pb.trigger.type == "signed_up"
    )


@dataclass
class RecentEvents:
    """The events since `floor` (µs) up to event id `last_id`, split by type, and every
    member's first order."""

    parts: dict[str, pl.DataFrame] | None = None  # per type: EVENT_SCHEMA + mid, by time
    first_orders: pl.DataFrame | None = None  # FIRST_SCHEMA
    signups: pl.DataFrame | None = None  # SIGNUP_SCHEMA, of `signup_names`
    signup_names: frozenset[str] = frozenset()
    last_id: int = 0
    floor: int = 0
    full_reads: int = 0  # how often everything was read (at first, or reaching further)

    def rows(self) -> int:
        """How many events are kept (the engine's health line shows it)."""
        return sum(part.height for part in (self.parts or {}).values())

    def clear(self) -> None:
        """Forget everything: the next tick reads afresh."""
        self.parts, self.first_orders, self.last_id, self.floor = None, None, 0, 0
        self.signups, self.signup_names = None, frozenset()

    def frames(self, conn: Connection, playbooks: Sequence[Playbook], window: Window) -> Frames:
        """The frames of a tick at `window`, reading only what was appended since the
        last call (everything the first time, or when the lookback reaches further back)."""
        since = window.start - lookback(playbooks)
        top = conn.scalar(select(func.max(events.c.id))) or 0
        if self.parts is None or since < self.floor or top < self.last_id:
            self.clear()
            self.parts = split(_hashed(_read(conn, since, 0, top)))
            self.full_reads += 1
        else:
            fresh = split(_hashed(_read(conn, since, self.last_id, top)))
            kinds = self.parts.keys() | fresh.keys()
            self.parts = {k: _merged(self.parts.get(k), fresh.get(k), since) for k in kinds}
        if _wants_first_orders(playbooks):
            self.first_orders = _first_orders(conn, self.first_orders, self.last_id, top)
        else:
            self.first_orders = None  # not kept up to date: read whole if wanted again
        self._keep_signups(conn, _signup_activities(playbooks), top)
        self.last_id, self.floor = top, since
        first = self.first_orders
        if first is None:
            first = pl.DataFrame(schema=FIRST_SCHEMA)
        upto = {k: _upto(part, window.end) for k, part in self.parts.items()}
        signups = None if self.signups is None else self.signups.filter(pl.col("ts") <= window.end)
        return Frames.of_parts(upto, first.filter(pl.col("ts") > since), signups)

    def _keep_signups(self, conn: Connection, names: frozenset[str], top: int) -> None:
        """The sign-ups of these activities: read whole once (or when the activities
        change), then only those appended since the last tick, like the first orders."""
        if not names:
            self.signups, self.signup_names = None, names
        elif self.signups is None or names != self.signup_names:
            self.signups, self.signup_names = _signups(conn, names, 0, top), names
        else:
            fresh = _signups(conn, names, self.last_id, top)
            if not fresh.is_empty():
                self.signups = pl.concat([self.signups, fresh])


def read_frames(conn: Connection, playbooks: Sequence[Playbook], window: Window) -> Frames:
    """The events a tick needs, read afresh: those since the window's start minus the
    lookback, up to its end (nothing is kept for later). Only the text of the SOP state
    events is read (as `label`: the tag, the tier, the stage, the threshold id); message
    texts never leave the store here."""
    since = window.start - lookback(playbooks)
    top = conn.scalar(select(func.max(events.c.id))) or 0
    parts = split(_hashed(_read(conn, since, 0, top, until=window.end)))
    first = pl.DataFrame(schema=FIRST_SCHEMA)
    if _wants_first_orders(playbooks):
        first = _first_orders(conn, None, 0, top, since=since)
    names = _signup_activities(playbooks)
    signups = _signups(conn, names, 0, top, until=window.end) if names else None
    return Frames.of_parts(parts, first, signups)


def _read(
    conn: Connection, since: int, after: int, top: int, until: int | None = None
) -> pl.DataFrame:
    label = case((events.c.type.in_(STATE_TYPES), events.c.text), else_=None)
    query = (
        select(
            events.c.ts,
            events.c.community,
            events.c.member,
            events.c.type,
            events.c.channel,
            label.label("label"),
        )
        .where(events.c.id > after, events.c.id <= top)
        .where(events.c.ts > since, events.c.type.in_(EVENT_TYPES))
        .where(or_(events.c.source_id.is_(None), events.c.source_id.not_like(f"{BASELINE}%")))
        .order_by(events.c.ts, events.c.id)
    )
    if until is not None:
        query = query.where(events.c.ts <= until)
    return pl.DataFrame(conn.execute(query).all(), schema=EVENT_SCHEMA, orient="row")


def _hashed(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(member_id())


def _upto(part: pl.DataFrame, end: int) -> pl.DataFrame:
    """The rows with ts <= end (later ones wait for their tick): a zero-copy head."""
    return part.head(part["ts"].search_sorted(end, side="right"))


def _merged(kept: pl.DataFrame | None, fresh: pl.DataFrame | None, since: int) -> pl.DataFrame:
    """A part without the rows at or before `since`, with the fresh rows added in order."""
    if kept is not None:
        kept = kept.slice(kept["ts"].search_sorted(since, side="right"))  # zero-copy
    if fresh is None or fresh.is_empty():
        assert kept is not None
        return kept
    if kept is None or kept.is_empty():
        return fresh
    # A late import can bring events older than the newest kept one: re-sort then.
    # polars types min()/max() as any Python value or None; both parts are non-empty Int64.
    in_order = fresh["ts"].min() >= kept["ts"].max()  # type: ignore[operator]
    merged = pl.concat([kept, fresh], rechunk=False)
    if not in_order:
        merged = merged.sort("ts", maintain_order=True)
    return merged.rechunk() if merged.n_chunks() > _CHUNKS else merged


def _first_orders(
    conn: Connection,
    known: pl.DataFrame | None,
    after: int,
    top: int,
    since: int | None = None,
) -> pl.DataFrame:
    """Each member's first order ever: read whole once, then folded with new orders
    (only those after `since`, when given: a one-off read keeps nothing)."""
    start = 0 if known is None else after
    first = func.min(events.c.ts)
    query = (
        select(events.c.community, events.c.member, first)
        .where(events.c.type == "order", events.c.member.is_not(None))
        .where(events.c.id > start, events.c.id <= top)
        .group_by(events.c.community, events.c.member)
    )
    if since is not None:
        query = query.having(first > since)
    fresh = pl.DataFrame(conn.execute(query).all(), schema=FIRST_SCHEMA, orient="row")
    if known is None:
        return fresh.sort("ts")
    if fresh.is_empty():
        return known
    both = pl.concat([known, fresh])
    return both.group_by("community", "member").agg(pl.col("ts").min()).sort("ts")


def _signups(
    conn: Connection, names: frozenset[str], after: int, top: int, until: int | None = None
) -> pl.DataFrame:
    """The `activity_signup` events of these activities (by `content_id`), ever.

    The one read without a time bound: a member may sign up months before a reminder.
    It happens once per engine start (and per new activity); later ticks read by id.
    """
    query = (
        select(events.c.community, events.c.member, events.c.content_id, events.c.ts)
        .where(events.c.type == "activity_signup", events.c.content_id.in_(sorted(names)))
        .where(events.c.member.is_not(None), events.c.id > after, events.c.id <= top)
    )
    if until is not None:
        query = query.where(events.c.ts <= until)
    return pl.DataFrame(conn.execute(query).all(), schema=SIGNUP_SCHEMA, orient="row")
