"""The store actions (tag, untag, add_points, start_activity), content items and alert
routing, on SQLite and PostgreSQL: the exact events, and exactly once after a crash."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.platforms.console import deliveries
from shequn.services.sop import tick
from shequn.sop import dispatch, state
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.action_helpers import JOIN, configure, drain, join_alice, meta, sop_events
from tests.sop.helpers import at, write_playbook

HOUR = 3_600_000_000

STATE = """
    name: vip
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: tag
        at: "+0m"
        action: {type: tag, tag: VIP}
        owner: alice
        emergency: {do: "tag by hand", alert: bob}
      - id: tag-again
        at: "+1h"
        action: {type: tag, tag: VIP}
        owner: alice
        emergency: {do: "tag by hand", alert: bob}
      - id: untag
        at: "+2h"
        action: {type: untag, tag: VIP}
        owner: alice
        emergency: {do: "untag by hand", alert: bob}
      - id: untag-again
        at: "+3h"
        action: {type: untag, tag: VIP}
        owner: alice
        emergency: {do: "untag by hand", alert: bob}
      - id: p1
        at: "+0m"
        action: {type: add_points, points: 10, reason: 打卡}
        owner: alice
        emergency: {do: "add by hand", alert: bob}
      - id: p2
        at: "+0m"
        action: {type: add_points, points: 10, reason: 打卡}
        owner: alice
        emergency: {do: "add by hand", alert: bob}
      - id: p3
        at: "+0m"
        action: {type: add_points, points: 10, reason: 分享}
        owner: alice
        emergency: {do: "add by hand", alert: bob}
"""


def test_tags_and_points_record_exact_events_and_tiers(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws)
    join_alice(ws, clock, "vip", STATE)
    tick(ws, at(clock, "2026-11-01T01:00:00+00:00"))
    drain(ws, clock)
    key = f"|wx:alice|{JOIN}"
    # Steps due at the same time run as written: the tag step comes before the points.
    assert sop_events(ws, "tag_added", "tag_removed", "points_added", "tier_changed") == [
        ("tag_added", "wx:alice", "VIP", None, f"tag_added|vip|tag{key}"),
        ("points_added", "wx:alice", "打卡", "10", f"points_added|vip|p1{key}"),
        ("tier_changed", "wx:alice", "银卡", None, f"tier_changed|vip|p1{key}"),
        ("points_added", "wx:alice", "打卡", "10", f"points_added|vip|p2{key}"),
        ("points_added", "wx:alice", "分享", "10", f"points_added|vip|p3{key}"),
        ("tier_changed", "wx:alice", "金卡", None, f"tier_changed|vip|p3{key}"),
    ]
    assert meta(ws, f"points_added|vip|p3{key}") == {"total": 30}
    assert meta(ws, f"tier_changed|vip|p3{key}") == {"from": "银卡"}
    assert meta(ws, f"tier_changed|vip|p1{key}") == {"from": None}
    # +1h: tag again (held: nothing); +2h: untag; +3h: untag again (not held: nothing).
    for hour in ("02", "03", "04"):
        tick(ws, at(clock, f"2026-11-01T{hour}:00:00+00:00"))
        drain(ws, clock)
    assert sop_events(ws, "tag_added", "tag_removed") == [
        ("tag_added", "wx:alice", "VIP", None, f"tag_added|vip|tag{key}"),
        ("tag_removed", "wx:alice", "VIP", None, f"tag_removed|vip|untag{key}"),
    ]
    with ws.engine.connect() as conn:
        assert (state.member_tags(conn, "wx:alice"), state.member_points(conn, "wx:alice")) == (
            set(),
            30,
        )
        states = dict(conn.execute(select(outbox.c.step, outbox.c.state)).all())
    assert set(states.values()) == {"sent"}
    assert deliveries(ws.root / "data" / "console.jsonl") == []  # nothing went out


def test_a_crash_in_the_record_transaction_executes_nothing_then_once(
    ws: Workspace, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(ws)
    join_alice(ws, clock, "vip", STATE)
    tick(ws, at(clock, "2026-11-01T01:00:00+00:00"))

    def crash(*_args: object) -> None:
        raise RuntimeError("killed before commit")

    with monkeypatch.context() as patch:
        patch.setattr(dispatch.journal, "record", crash)
        with pytest.raises(RuntimeError):
            drain(ws, clock)
    assert sop_events(ws, "points_added", "tag_added", "tier_changed") == []
    assert len(drain(ws, clock).state) == 4
    assert drain(ws, clock).done == 0  # a dispatcher re-run finds nothing left
    found = sop_events(ws, "points_added", "tag_added", "tier_changed")
    assert [t for t, *_ in found] == [
        "tag_added",
        "points_added",
        "tier_changed",
        "points_added",
        "points_added",
        "tier_changed",
    ]


ACTIVITY = """
    name: challenge
    applies_to:
      communities: [club]
    trigger:
      type: schedule
      every: "every monday 09:00"
    steps:
      - id: launch
        at: "+0m"
        action:
          type: start_activity
          activity: checkin-week
          title: "{{ community.name }} 打卡周"
          ends: "+6d"
          text: "{{ community.name }} 打卡周开始！目标：{{ goal.text }}"
        owner: alice
        emergency: {do: "announce by hand", alert: bob}
"""
MONDAY = 1_793_581_200_000_000  # 2026-11-02 09:00 +08:00 = 01:00 UTC


def test_start_activity_records_the_event_and_announces_once(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    write_playbook(ws, "challenge", ACTIVITY)
    tick(ws, at(clock, "2026-11-02T00:00:00+00:00"))
    tick(ws, at(clock, "2026-11-02T01:00:00+00:00"))
    first = drain(ws, clock)
    assert ([r.key for r in first.state], first.sent) == ([f"challenge|launch|club|{MONDAY}"], [])
    second = drain(ws, clock)  # the announcement queued by the first drain
    assert [r.key for r in second.sent] == [f"challenge|launch|club|{MONDAY}|announce"]
    assert drain(ws, clock).done == 0
    key = f"challenge|launch|club|{MONDAY}"
    assert sop_events(ws, "activity_started", "message_sent") == [
        ("activity_started", None, "checkin-week", None, f"activity_started|{key}"),
        ("message_sent", None, None, None, f"message_sent|{key}|announce"),
    ]
    assert meta(ws, f"activity_started|{key}") == {
        "ends_ts": MONDAY + 6 * 24 * HOUR,
        "title": "读书会 打卡周",
    }
    [sent] = deliveries(ws.root / "data" / "console.jsonl")
    assert (sent["target"], sent["action"], sent["text"]) == (
        "club",
        "send_group",
        "读书会 打卡周开始！目标：每周 100 条消息",
    )


ALERT = """
    name: watch
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: to-bob
        at: "+0m"
        action: {type: alert_owner, text: "{{ member.key }} joined"}
        owner: bob
        emergency: {do: "call", alert: alice}
      - id: to-alice
        at: "+0m"
        action: {type: alert_owner, text: "{{ member.key }} joined"}
        owner: alice
        emergency: {do: "call", alert: bob}
      - id: to-role
        at: "+0m"
        action: {type: alert_owner, text: "{{ member.key }} joined"}
        owner: "role:lead"
        emergency: {do: "call", alert: bob}
"""


def test_alerts_go_to_the_operator_contact_and_are_recorded(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    join_alice(ws, clock, "watch", ALERT)
    tick(ws, at(clock, "2026-11-01T01:00:00+00:00"))
    with ws.engine.connect() as conn:
        routed = conn.execute(
            select(outbox.c.step, outbox.c.platform, outbox.c.target).order_by(outbox.c.step)
        ).all()
    # bob is reached on his contact's platform; alice (console contact) and an unknown
    # role go to the console.
    assert [tuple(r) for r in routed] == [
        ("to-alice", "console", "alice"),
        ("to-bob", "tg", "tg:bob"),
        ("to-role", "console", "role:lead"),
    ]
    outcome = drain(ws, clock)
    assert sorted(r.step for r in outcome.sent) == ["to-alice", "to-role"]
    assert [(r.step, why) for r, why in outcome.dead] == [
        ("to-bob", "no platform 'tg' is configured")
    ]
    key = f"watch|to-alice|wx:alice|{JOIN}"
    assert ("alert_sent", None, "wx:alice joined", None, f"alert_sent|{key}") in sop_events(
        ws, "alert_sent"
    )
    assert meta(ws, f"alert_sent|{key}") == {"engine": "a", "to": "alice", "why": "step"}


TAG_ON_SCHEDULE = """\
name: weekly-tag
applies_to:
  communities: [club]
trigger:
  type: schedule
  every: "every monday 09:00"
steps:
  - id: tag
    at: "+0m"
    action: {type: tag, tag: VIP}
    owner: alice
    emergency: {do: a, alert: b}
"""


def test_a_member_action_in_a_schedule_playbook_is_refused() -> None:
    from shequn.sop.loader import check

    _, problems = check(TAG_ON_SCHEDULE, "pb.yaml")
    [problem] = problems
    # The wording belongs to the trigger side; what matters here: the file, the step, why.
    assert str(problem).startswith("pb.yaml:1: step 'tag': a schedule")
    assert "send_private/tag/untag/add_points" in str(problem)
