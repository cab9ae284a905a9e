"""SOP events in the log: one per fact, idempotent, and invisible to the metrics."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shequn.analytics import compute
from shequn.clock import FrozenClock
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import tick
from shequn.sop import journal
from shequn.sop.dispatch import Dispatcher
from shequn.store.engine import write_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.sop.action_helpers import configure
from tests.sop.helpers import add_events, at, write_playbook

EVERYTHING = """
    name: everything
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: hello
        at: "+0m"
        action: {type: send_private, text: "hi {{ member.key }}"}
        owner: alice
        emergency: {do: "greet", alert: bob}
      - id: vip
        at: "+0m"
        action: {type: tag, tag: VIP}
        owner: alice
        emergency: {do: "tag", alert: bob}
      - id: points
        at: "+0m"
        action: {type: add_points, points: 30, reason: 入群}
        owner: alice
        emergency: {do: "points", alert: bob}
      - id: call
        at: "+0m"
        action: {type: create_task, title: "call {{ member.key }}", text: "call", due: "+1h"}
        owner: alice
        emergency: {do: "lead calls", alert: bob}
      - id: launch
        at: "+0m"
        action: {type: start_activity, activity: intro, text: "自我介绍接龙"}
        owner: alice
        emergency: {do: "by hand", alert: bob}
"""
HISTORY = [
    ("2026-10-30T09:00:00+08:00", "club", "wx:old", "join", "poster"),
    ("2026-10-30T10:00:00+08:00", "club", "wx:old", "message", ""),
    ("2026-10-31T10:00:00+08:00", "club", "wx:old", "checkin", ""),
]
JOINS = [
    ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster"),
    ("2026-11-01T09:10:00+08:00", "club", "wx:bob", "join", ""),
    ("2026-11-01T09:20:00+08:00", "club", "wx:bob", "message", ""),
]

LIFECYCLE = ("community_created", "stage_entered", "metric_crossed")  # the lifecycle's own


def _sop_count(ws: Workspace) -> int:
    with ws.engine.connect() as conn:
        query = select(func.count()).select_from(events).where(events.c.source == "sop")
        return conn.scalar(query)


def test_record_is_idempotent(ws: Workspace) -> None:
    row = journal.entry("tag_added", 5, "club", "pb|s|m|1", member="m", text="VIP")
    with write_transaction(ws.engine) as conn:
        journal.record(conn, [row])
        journal.record(conn, [row])
    assert row["source_id"] == "tag_added|pb|s|m|1"
    assert _sop_count(ws) == 1


def test_metrics_are_identical_before_and_after_the_engine_wrote_its_events(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    add_events(ws, HISTORY, tag="h")
    write_playbook(ws, "everything", EVERYTHING)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, JOINS, tag="j")
    period = (date(2026, 10, 26), date(2026, 11, 9))
    before = compute(ws, *period)
    tick(ws, at(clock, "2026-11-01T02:00:00+00:00"))
    console = ConsolePlatform(ws.root / "data" / "c.jsonl")
    dispatcher = Dispatcher(ws.engine, {"console": console}, clock, "a", settings=ws.settings)
    while dispatcher.drain_once().done:
        pass
    # 2 members x 5 steps due (+1 tier change for 30 points each = 2), delivered: 2
    # messages, 2 tags, 2+2 points/tiers, 2 tasks, 2 activities, 2 announcements.
    with ws.engine.connect() as conn:
        kinds = dict(
            conn.execute(
                select(events.c.type, func.count())
                .where(events.c.source == "sop", events.c.type.not_in(LIFECYCLE))
                .group_by(events.c.type)
            ).all()
        )
    assert kinds == {
        "sop_action_due": 10,
        "message_sent": 4,
        "tag_added": 2,
        "points_added": 2,
        "tier_changed": 2,
        "task_created": 2,
        "activity_started": 2,
    }
    after = compute(ws, *period)
    changed = {
        (scope, name): (before[scope][name], after[scope][name])
        for scope in before
        for name in before[scope]
        if before[scope][name] != after[scope].get(name)
    }
    # Only the operations metric moves: 2 tasks fell due in the period, none done yet.
    assert changed == {
        ("club", "sop_on_time_rate"): (None, 0.0),
        ("*", "sop_on_time_rate"): (None, 0.0),
    }


def test_task_created_and_done_are_events_with_the_member(
    ws: Workspace, clock: FrozenClock
) -> None:
    from shequn.services.tasks import complete, list_tasks
    from tests.sop.action_helpers import JOIN, meta, sop_events

    configure(ws)
    write_playbook(ws, "everything", EVERYTHING)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, JOINS[:1], tag="j")
    tick(ws, at(clock, "2026-11-01T01:30:00+00:00"))
    console = ConsolePlatform(ws.root / "data" / "c.jsonl")
    Dispatcher(ws.engine, {"console": console}, clock, "a", settings=ws.settings).drain_once()
    [task] = list_tasks(ws, clock=clock)
    complete(ws, task.id, by="alice", clock=at(clock, "2026-11-01T02:00:00+00:00"))
    key = f"everything|call|wx:alice|{JOIN}"
    assert sop_events(ws, "task_created", "task_done") == [
        ("task_created", "wx:alice", "call wx:alice", None, f"task_created|{key}"),
        ("task_done", "wx:alice", None, None, f"task_done|{key}"),
    ]
    hour = 3_600_000_000
    assert meta(ws, f"task_created|{key}") == {
        "due_ts": JOIN + hour,
        "owner": "alice",
        "task": task.id,
    }
    assert meta(ws, f"task_done|{key}") == {
        "by": "alice",
        "due_ts": JOIN + hour,
        "on_time": True,  # done at 02:00 UTC, due at 02:00 UTC
        "task": task.id,
    }
