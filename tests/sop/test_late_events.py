"""Events imported after the tick that covered their time still trigger, or are
recorded as missed with the reason; the import warns."""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.services.imports import import_path
from shequn.services.sop import tick
from shequn.sop.late import LATE_REASON
from shequn.store.schema import events
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import NEWCOMER, add_events, at, write_playbook


def _rows(ws: Workspace) -> list[tuple]:
    query = select(outbox.c.target, outbox.c.step, outbox.c.state, outbox.c.late, outbox.c.reason)
    with ws.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(query))


def _journal(ws: Workspace, kind: str) -> list[dict]:
    query = select(events.c.meta).where(events.c.type == kind)
    with ws.engine.connect() as conn:
        return [json.loads(m) for m in conn.scalars(query)]


def test_a_late_join_within_the_grace_is_welcomed_late(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    tick(ws, at(clock, "2026-11-01T02:00:00+00:00"))  # evaluated up to 02:00
    path = ws.root / "late.csv"
    path.write_text(
        "ts,community,member,type,source_id\n2026-11-01T01:00:00Z,club,wx:late,join,l1\n",
        encoding="utf-8",
    )
    result = import_path(ws, path)
    assert result.late == (1, to_micros(clock.now()))  # one event behind the 02:00 tick
    after = tick(ws, at(clock, "2026-11-01T02:10:00+00:00"))
    assert after.late_events == 1, after
    assert not after.superseded and after.queued == 1, after
    assert _rows(ws) == [("wx:late", "welcome", "pending", 1, None)]  # sent, marked late
    again = tick(ws, at(clock, "2026-11-01T02:20:00+00:00"))
    assert again.late_events == 0 and len(_rows(ws)) == 1


def test_a_late_join_past_the_grace_is_recorded_as_missed(
    ws: Workspace, clock: FrozenClock
) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    tick(ws, at(clock, "2026-11-01T10:00:00+00:00"))
    add_events(ws, [("2026-11-01T01:00:00+00:00", "club", "wx:old", "join", "")], tag="o")
    tick(ws, at(clock, "2026-11-01T10:05:00+00:00"))  # the join is 9 h old: grace is 6 h
    assert _rows(ws) == [("wx:old", "welcome", "missed", 1, LATE_REASON)]
    missed = _journal(ws, "sop_action_missed")
    assert [m["reason"] for m in missed] == [LATE_REASON]


def test_events_in_a_window_not_yet_ticked_are_not_late(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    add_events(ws, [("2026-11-01T01:00:00+00:00", "club", "wx:a", "join", "")])
    tick(ws, at(clock, "2026-11-01T00:30:00+00:00"))
    assert tick(ws, at(clock, "2026-11-01T01:30:00+00:00")).late_events == 0
    # Queued by the window that covers it (30 min after: marked late, not "late event").
    assert _rows(ws) == [("wx:a", "welcome", "pending", 1, None)]


def test_history_from_before_the_first_tick_is_not_missed_work(
    ws: Workspace, clock: FrozenClock
) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))  # the engine starts here
    add_events(ws, [("2026-10-30T01:00:00+00:00", "club", "wx:past", "join", "")], tag="p")
    result = tick(ws, at(clock, "2026-11-01T00:10:00+00:00"))
    assert result.late_events == 1 and _rows(ws) == []  # counted, but nothing to do
