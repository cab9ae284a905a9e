"""Events imported after the tick that covered their time ("late" events).

A tick evaluates the window since the last tick; an import that arrives afterwards
with events inside an evaluated window (an export brought in the next morning)
would trigger nothing. Each tick therefore remembers the newest event id it has
seen; at the next tick, events with a larger id but a time at or before the last
window's start are late. Their steps are evaluated over the windows already passed
(at most `HORIZON` back, never before the first tick: older history imported later
is history, not missed work; schedules are not re-run) and go through the same rows
as any other: due within the grace, they are queued (and sent, marked late); older,
they are recorded as missed with `LATE_REASON` (a `sop_action_missed` event), so
nothing disappears silently.
Keys make it idempotent: actions already queued for that time are not queued twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec
import polars as pl
from sqlalchemy import Connection, func, select

from shequn.config import Settings
from shequn.sop.evaluate import DUE_SCHEMA, Window, due_steps
from shequn.sop.journal import SOURCE as SOP_SOURCE
from shequn.sop.model import Playbook, ScheduleTrigger
from shequn.sop.outbox import OutboxRow
from shequn.sop.recent import read_frames
from shequn.sop.tick import scopes
from shequn.sop.triggers import DAY_US
from shequn.store.schema import events
from shequn.store.sop_schema import MISSED

if TYPE_CHECKING:
    from shequn.sop.lifecycle import Lifecycle

SEEN = "late_events"  # engine state: "<newest event id seen> <covered since, µs>"
HORIZON = 7 * DAY_US  # how far back late events are evaluated
LATE_REASON = "its trigger was imported after the tick that covered its time"


@dataclass(frozen=True)
class Late:
    """What a tick found imported late."""

    due: pl.DataFrame  # DUE_SCHEMA: the steps they make due in windows already passed
    events: int  # late events (all of them, also those beyond the horizon)
    state: str  # what to remember for the next tick (`SEEN`)


def newest_id(conn: Connection) -> int:
    return int(conn.scalar(select(func.max(events.c.id))) or 0)


def late_events(conn: Connection, seen: int, covered: int) -> tuple[int, int | None]:
    """(count, earliest time) of events newer than id `seen` timed at or before
    `covered` (the engine's own journal excepted)."""
    row = conn.execute(
        select(func.count(), func.min(events.c.ts)).where(
            events.c.id > seen, events.c.ts <= covered, events.c.source != SOP_SOURCE
        )
    ).one()
    return int(row[0]), row[1]


def find(
    conn: Connection,
    settings: Settings,
    stages: Lifecycle | None,
    playbooks: Sequence[Playbook],
    window: Window,
    state: str | None,
) -> Late:
    """The late events since the last tick and the steps they make due before `window`.

    Args:
        stages: the lifecycle the tick loaded (routines run by stage, as in the tick).
        state: what the last tick remembered: the newest event id it had seen and
            the time from which ticks have covered (None: this is the first tick).
    """
    top = newest_id(conn)
    if state is None:  # the first tick covers from the end of its window
        return Late(pl.DataFrame(schema=DUE_SCHEMA), 0, f"{top} {window.end}")
    seen, since = (int(part) for part in state.split())
    remember = f"{top} {since}"
    # Schedules do not depend on events: their passed windows are already done.
    triggered = [pb for pb in playbooks if not isinstance(pb.trigger, ScheduleTrigger)]
    count, earliest = late_events(conn, seen, window.start)
    if not count or earliest is None or not triggered:
        return Late(pl.DataFrame(schema=DUE_SCHEMA), count, remember)
    # Due times from just before the earliest late event up to the last tick, never
    # before the ticks began (history imported later is history, not a missed step).
    passed = Window(max(earliest - 1, window.start - HORIZON, since), window.start)
    if passed.end <= passed.start:
        return Late(pl.DataFrame(schema=DUE_SCHEMA), count, remember)
    frames = read_frames(conn, triggered, passed)
    scope = scopes(conn, settings, triggered, stages)
    due = due_steps(triggered, frames, passed, settings.timezone, scope)
    return Late(due, count, remember)


def explain(rows: list[OutboxRow], late_keys: set[str]) -> list[OutboxRow]:
    """The rows, those of late events past the grace given the reason they were missed."""
    return [
        msgspec.structs.replace(row, reason=LATE_REASON)
        if row.key in late_keys and row.state == MISSED
        else row
        for row in rows
    ]
