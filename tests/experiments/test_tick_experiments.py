"""Holdouts and variants in the real tick: arms, recorded assignments, nothing sent."""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.services.sop import tick
from shequn.sop.experiments import arm_of, experiment_id, unit
from shequn.store.schema import events
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import add_events, at, write_playbook

PLAYBOOK = """
    name: hello
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: welcome
        at: "+0m"
        action: {type: send_private, text: "hi {{ member.key }}"}
        owner: alice
        emergency: {do: "greet them", alert: bob}
        holdout: 30%
        experiment: {outcome: spoke_7d, horizon: +14d}
      - id: tip
        at: "+1h"
        action: {type: send_private, text: "default"}
        owner: alice
        emergency: {do: "greet them", alert: bob}
        variants:
          - {name: short, text: "short {{ member.key }}"}
          - {name: long, text: "a longer text for {{ member.key }}"}
        experiment: {outcome: spoke_7d}
"""
MEMBERS = [f"wx:m{i}" for i in range(40)]


def _run(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "hello", PLAYBOOK)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", m, "join", "") for m in MEMBERS])
    tick(ws, at(clock, "2026-11-01T02:30:00+00:00"))


def test_held_out_members_are_recorded_and_not_sent(ws: Workspace, clock: FrozenClock) -> None:
    _run(ws, clock)
    with ws.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.target, outbox.c.state).where(outbox.c.step == "welcome")
        ).all()
        assigned = conn.execute(
            select(events.c.member, events.c.text, events.c.meta).where(
                events.c.type == "experiment_assigned"
            )
        ).all()
    expected = {m: arm_of(unit("hello.welcome", m), 0.3, []) for m in MEMBERS}
    held = {m for m, arm in expected.items() if arm == "holdout"}
    assert 0 < len(held) < len(MEMBERS)  # both arms exist among 40 members
    assert {t for t, s in rows if s == "held_out"} == held
    assert {t for t, s in rows if s == "pending"} == set(MEMBERS) - held
    welcome = {m: arm for m, arm, meta in assigned if json.loads(meta)["step"] == "welcome"}
    assert welcome == expected
    with ws.engine.connect() as conn:
        due = conn.execute(
            select(events.c.member).where(
                events.c.type == "sop_action_due", events.c.source_id.like("%hello|welcome|%")
            )
        ).scalars()
        assert set(due) == set(MEMBERS) - held


def test_variants_send_each_member_their_arm_text(ws: Workspace, clock: FrozenClock) -> None:
    _run(ws, clock)
    with ws.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.target, outbox.c.payload).where(outbox.c.step == "tip")
        ).all()
    assert len(rows) == len(MEMBERS)
    for target, payload in rows:
        data = json.loads(payload)
        arm = arm_of(unit(experiment_id("hello", "tip"), target), None, ["short", "long"])
        assert data["arm"] == arm
        expected = f"short {target}" if arm == "short" else f"a longer text for {target}"
        assert data["text"] == expected
    assert {json.loads(p)["arm"] for _, p in rows} == {"short", "long"}


def test_assignment_is_stable_across_a_restart(ws: Workspace, clock: FrozenClock) -> None:
    _run(ws, clock)
    with ws.engine.connect() as conn:
        before = conn.execute(select(outbox.c.key, outbox.c.state)).all()
    # Ticking the same window again (a restart replays nothing twice) changes nothing.
    tick(ws, at(clock, "2026-11-01T02:31:00+00:00"))
    with ws.engine.connect() as conn:
        after = conn.execute(select(outbox.c.key, outbox.c.state)).all()
    assert sorted(before) == sorted(after)
