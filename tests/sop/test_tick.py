"""The tick on SQLite and PostgreSQL: due steps, keys, late and missed, playbook edits."""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.services.sop import tick
from shequn.store.schema import events
from shequn.store.sop_schema import log, outbox
from shequn.workspace import Workspace
from tests.sop.helpers import NEWCOMER, add_events, at, write_playbook

# 2026-11-01 09:00 +08:00 is 01:00 UTC.
ALICE_JOIN = 1_793_494_800_000_000
HOUR = 3_600_000_000


def _outbox(ws: Workspace) -> list[tuple]:
    with ws.engine.connect() as conn:
        query = select(outbox.c.key, outbox.c.state, outbox.c.due_ts, outbox.c.late)
        return [tuple(r) for r in conn.execute(query.order_by(outbox.c.key))]


def _log_types(ws: Workspace) -> list[tuple[str, str | None]]:
    with ws.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(log.c.type, log.c.key).order_by(log.c.id))]


def _start(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster"),
            ("2026-11-01T10:00:00+08:00", "club", "wx:bob", "join", "poster"),
            ("2026-11-01T11:00:00+08:00", "club", "wx:bob", "message", ""),
        ],
    )


def test_joins_fall_due_with_keys_and_rendered_text(ws: Workspace, clock: FrozenClock) -> None:
    _start(ws, clock)
    result = tick(ws, at(clock, "2026-11-01T01:30:00+00:00"))
    assert (result.due, result.queued) == (1, 1)
    assert _outbox(ws) == [
        (f"newcomer|welcome|wx:alice|{ALICE_JOIN}", "pending", ALICE_JOIN, 1),
    ]
    with ws.engine.connect() as conn:
        payload = json.loads(conn.scalar(select(outbox.c.payload)))
    assert payload["text"] == "欢迎 wx:alice 加入 club"
    assert payload["emergency"] == {"do": "welcome them in the group", "alert": "role:lead"}


def test_a_second_tick_over_the_same_time_adds_nothing(ws: Workspace, clock: FrozenClock) -> None:
    _start(ws, clock)
    tick(ws, at(clock, "2026-11-01T03:00:00+00:00"))
    again = tick(ws, clock)
    assert (again.due, again.queued) == (0, 0)
    assert len(_outbox(ws)) == 2


def test_clock_time_offset_and_silence_condition(ws: Workspace, clock: FrozenClock) -> None:
    _start(ws, clock)
    tick(ws, at(clock, "2026-11-01T03:00:00+00:00"))
    result = tick(ws, at(clock, "2026-11-02T12:00:00+00:00"))  # 20:00 in Shanghai
    # bob spoke after joining, so only alice gets the evening step, exactly on time.
    evening = 1_793_620_800_000_000
    assert result.queued == 1
    assert (f"newcomer|evening|wx:alice|{ALICE_JOIN}", "pending", evening, 0) in _outbox(ws)


def test_after_downtime_late_within_grace_missed_beyond(ws: Workspace, clock: FrozenClock) -> None:
    _start(ws, clock)
    # The engine was down from 00:00 to 05:30 UTC: alice's welcome (01:00) is 4.5 h late.
    tick(ws, at(clock, "2026-11-01T05:30:00+00:00"))
    assert _outbox(ws)[0] == (f"newcomer|welcome|wx:alice|{ALICE_JOIN}", "pending", ALICE_JOIN, 1)
    # Down again until the 4th: the evening step (2nd, 12:00 UTC) is past the 6 h grace.
    tick(ws, at(clock, "2026-11-04T00:00:00+00:00"))
    states = {key.split("|")[1]: state for key, state, _, _ in _outbox(ws) if "alice" in key}
    assert states == {"welcome": "pending", "evening": "missed"}
    with ws.engine.connect() as conn:
        recorded = set(conn.execute(select(events.c.type, events.c.source_id)).all())
    key = f"newcomer|evening|wx:alice|{ALICE_JOIN}"
    assert ("sop_action_missed", f"sop_action_missed|{key}") in recorded


def test_edit_takes_effect_next_tick_invalid_edit_keeps_previous(
    ws: Workspace, clock: FrozenClock
) -> None:
    _start(ws, clock)
    path = ws.root / "playbooks" / "newcomer.yaml"
    path.write_text(path.read_text().replace('at: "+0m"', 'at: "+3h"'))
    tick(ws, at(clock, "2026-11-01T02:30:00+00:00"))
    assert _outbox(ws) == []  # the edited welcome is due 3 h after the join: not yet
    path.write_text(path.read_text().replace('at: "+3h"', 'at: "soon"'))
    result = tick(ws, at(clock, "2026-11-01T04:30:00+00:00"))
    assert [str(p).splitlines()[0] for p in result.rejected] == [
        f"{path}:8 (field 'steps.0.at'): 'soon' is not a step time"
    ]
    # The +3h version keeps running: alice's welcome fell due at 04:00 UTC.
    assert [row[0] for row in _outbox(ws)] == [f"newcomer|welcome|wx:alice|{ALICE_JOIN}"]
    tick(ws, at(clock, "2026-11-01T04:40:00+00:00"))
    assert [t for t, _ in _log_types(ws)].count("playbook_rejected") == 1
