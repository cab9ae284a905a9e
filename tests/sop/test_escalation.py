"""Overdue operator tasks escalate once; a dead action alerts its emergency contact."""

from __future__ import annotations

import json
from datetime import timedelta

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli.tasks import tasks_app
from shequn.clock import FrozenClock, to_micros
from shequn.platforms.base import Outgoing, PermanentError, TransientError
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import tick
from shequn.services.tasks import list_tasks
from shequn.sop.dispatch import Dispatcher, Policy
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.action_helpers import configure, drain, meta, sop_events
from tests.sop.helpers import at, queue

HOUR = 3_600_000_000
EMERGENCY = json.dumps(
    {"text": "hi", "member": "m0", "emergency": {"do": "call them", "alert": "alice"}}
)


def _alerts(ws: Workspace) -> list[tuple]:
    with ws.engine.connect() as conn:
        query = select(outbox.c.key, outbox.c.platform, outbox.c.target, outbox.c.state)
        rows = conn.execute(query.where(outbox.c.action == "alert_owner").order_by(outbox.c.key))
        return [tuple(r) for r in rows]


def test_overdue_tasks_escalate_once_to_escalate_to(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws)  # alice escalates to bob (contact tg:bob); carol is not an operator
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    now = to_micros(clock.now())
    queue(ws, 1, now, platform="task", prefix="a")  # owner alice, due now
    queue(
        ws,
        1,
        now,
        platform="task",
        prefix="c",
        payload=json.dumps(
            {"text": "hi", "owner": "carol", "title": "call m", "task_due_ts": now + 2 * HOUR}
        ),
    )
    drain(ws, clock)
    [alice_task, carol_task] = [t.id for t in list_tasks(ws, clock=clock)]
    assert tick(ws, at(clock, "2026-11-01T00:00:00.000001+00:00")).escalated == 1
    assert tick(ws, at(clock, "2026-11-01T01:00:00+00:00")).escalated == 0  # once only
    assert _alerts(ws) == [(f"task|{alice_task}|overdue", "tg", "tg:bob", "pending")]
    clock.at += timedelta(hours=1, seconds=1)  # carol's task is due at 02:00
    assert tick(ws, clock).escalated == 1
    assert _alerts(ws)[1] == (f"task|{carol_task}|overdue", "console", "carol", "pending")
    outcome = drain(ws, clock)
    assert [r.key for r in outcome.sent] == [f"task|{carol_task}|overdue"]
    assert [why for _, why in outcome.dead] == ["no platform 'tg' is configured"]
    key = f"task|{carol_task}|overdue"
    assert sop_events(ws, "alert_sent") == [
        (
            "alert_sent",
            None,
            f"task {carol_task} \u201ccall m\u201d (club, owner carol) was due "
            "2026-11-01 10:00 and is not done",
            None,
            f"alert_sent|{key}",
        )
    ]
    assert meta(ws, f"alert_sent|{key}") == {"engine": "a", "to": "carol", "why": "overdue"}


def test_cli_lists_overdue_tasks(ws: Workspace, clock: FrozenClock) -> None:
    now = to_micros(at(clock, "2026-11-01T00:00:00+00:00").now())
    queue(ws, 2, now - HOUR, platform="task")
    drain(ws, clock)
    app = typer.Typer()
    app.add_typer(tasks_app, name="tasks")
    out = CliRunner().invoke(app, ["tasks", "--overdue", "-w", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert out.output.count("call m") == 2


def test_a_dead_action_queues_one_emergency_alert_in_the_same_transaction(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    now = to_micros(clock.now())
    queue(ws, 1, now, payload=EMERGENCY, prefix="p")
    queue(ws, 1, now, payload=EMERGENCY, prefix="t")

    def fail(message: Outgoing) -> None:
        if message.key == "p000000":
            raise PermanentError("the member blocked the bot")
        if message.key == "t000000":
            raise TransientError("HTTP 502")

    console = ConsolePlatform(ws.root / "data" / "c.jsonl", fail=fail)
    policy = Policy(max_attempts=2, backoff=1_000_000)
    dispatcher = Dispatcher(ws.engine, {"console": console}, clock, "a", policy, ws.settings)
    dispatcher.drain_once()
    assert _alerts(ws) == [("p000000|emergency", "console", "alice", "pending")]
    clock.at += timedelta(seconds=1)
    outcome = dispatcher.drain_once()  # the first alert goes; the retry is exhausted
    assert [r.key for r in outcome.sent] == ["p000000|emergency"]
    assert [(r.key, why) for r, why in outcome.dead] == [("t000000", "HTTP 502")]
    assert _alerts(ws) == [
        ("p000000|emergency", "console", "alice", "sent"),
        ("t000000|emergency", "console", "alice", "pending"),
    ]
    dispatcher.drain_once()
    assert dispatcher.drain_once().done == 0
    assert [e[4] for e in sop_events(ws, "action_failed", "action_dead", "alert_sent")] == [
        "action_failed|t000000#1",  # one drain's events: failures, then the dead
        "action_dead|p000000",
        "alert_sent|p000000|emergency",
        "action_dead|t000000",
        "alert_sent|t000000|emergency",
    ]
    assert meta(ws, "alert_sent|t000000|emergency")["why"] == "emergency"
