"""Holdouts and variants in the real tick: arms, recorded assignments, nothing sent."""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.analytics.sync import open_copy
from shequn.clock import FrozenClock, from_micros
from shequn.experiments.results import enrolments, results
from shequn.reports.tables import extra_table
from shequn.review.experiments import experiments_section
from shequn.services.sop import tick
from shequn.simulate.effects import EffectModel, outcome_rows
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


def test_end_to_end_the_result_recovers_a_known_effect(ws: Workspace, clock: FrozenClock) -> None:
    """The engine assigns 1,200 newcomers; the effect model makes the treated arm speak
    20 points more often (40% against 20%); the final result recovers it."""
    write_playbook(ws, "hello", PLAYBOOK)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    joins = [
        (f"2026-11-01T09:{i % 60:02d}:00+08:00", "club", f"wx:n{i}", "join", "")
        for i in range(1200)
    ]
    add_events(ws, joins, tag="j")
    tick(ws, at(clock, "2026-11-01T02:30:00+00:00"))
    with open_copy(ws) as (con, _synced):
        enrolled = enrolments(con, ["hello.welcome"])
    messages = outcome_rows(enrolled, EffectModel(base=0.2, lift=0.2), seed=5)
    add_events(
        ws,
        [(from_micros(ts).isoformat(), c, m, "message", "") for c, m, ts in messages.iter_rows()],
        tag="m",
    )
    interim = {r.declared.id: r for r in results(ws, at(clock, "2026-11-05T00:00:00+00:00"))}
    assert interim["hello.welcome"].status == "interim"
    assert interim["hello.welcome"].counts == {}  # no member's 7 days have passed: no peeking
    final = {r.declared.id: r for r in results(ws, at(clock, "2026-11-30T00:00:00+00:00"))}
    welcome = final["hello.welcome"]
    assert welcome.status == "final"
    assert sum(n for _, n in welcome.counts.values()) == 1200
    (cmp,) = welcome.comparisons
    assert (cmp.arm, cmp.reference) == ("treated", "holdout")
    # One run: the estimate lies within 3 standard errors of the truth (a 99.7% band;
    # the 95% coverage itself is tested over 4,000 runs in test_stats.py).
    se = (cmp.high - cmp.low) / (2 * 1.959964)
    assert abs(cmp.diff - 0.2) <= 3 * se
    assert cmp.verdict == "moved it up"
    # The review shows the same result, one row per comparison.
    section = experiments_section(ws, "en", at(clock, "2026-11-30T00:00:00+00:00").at)
    (row,) = [r for r in section.rows if r[0] == "hello.welcome"]
    assert row[2] == "final" and row[-1] == "moved it up"
    assert row[3] == f"treated {cmp.n} vs holdout {cmp.n_reference}"
    assert extra_table(section).title == "7. SOP step experiments"
