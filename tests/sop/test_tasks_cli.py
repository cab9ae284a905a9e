"""Operator tasks end to end, and the `sop` and `tasks` commands."""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli.run import run
from shequn.cli.sop import sop_app
from shequn.cli.tasks import tasks_app
from shequn.clock import FrozenClock
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import tick
from shequn.services.tasks import complete, list_tasks
from shequn.sop.dispatch import Dispatcher
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.sop.helpers import add_events, at, call_newcomer, write_playbook

app = typer.Typer()
app.add_typer(sop_app, name="sop")
app.add_typer(tasks_app, name="tasks")
app.command("run")(run)
runner = CliRunner()

CALL = call_newcomer(owner="alice", alert="bob")


def _two_tasks(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "call", CALL)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", ""),
            ("2026-11-01T09:30:00+08:00", "club", "wx:bob", "join", ""),
        ],
    )
    tick(ws, at(clock, "2026-11-01T03:00:00+00:00"))
    console = ConsolePlatform(ws.root / "data" / "c.jsonl")
    assert len(Dispatcher(ws.engine, {"console": console}, clock, "a").drain_once().tasks) == 2


def test_tasks_are_listed_and_done(ws: Workspace, clock: FrozenClock) -> None:
    _two_tasks(ws, clock)
    listed = list_tasks(ws, owner="alice", clock=clock)
    assert [(t.title, t.content, t.checklist) for t in listed] == [
        ("call wx:alice", "say hello to wx:alice", ["call", "note"]),
        ("call wx:bob", "say hello to wx:bob", ["call", "note"]),
    ]
    # due 2 h after the step (02:00 UTC): 04:00 and 04:30 UTC
    assert [t.due.isoformat() for t in listed] == [
        "2026-11-01T04:00:00+00:00",
        "2026-11-01T04:30:00+00:00",
    ]
    assert list_tasks(ws, owner="bob", clock=clock) == []
    complete(ws, listed[0].id, by="alice", clock=at(clock, "2026-11-01T03:30:00+00:00"))
    clock.at += timedelta(hours=2)  # 05:30: bob's call is overdue, not done
    assert [t.title for t in list_tasks(ws, overdue=True, clock=clock)] == ["call wx:bob"]
    # sop_on_time_rate itself is a metric: tests/analytics/test_sop_tasks.py
    with ws.engine.connect() as conn:
        done = select(events.c.type).where(events.c.type == "task_done")
        assert list(conn.scalars(done)) == ["task_done"]


def test_cli_tasks_and_done(ws: Workspace, clock: FrozenClock) -> None:
    _two_tasks(ws, clock)
    out = runner.invoke(app, ["tasks", "-w", str(ws.root), "--owner", "alice"])
    assert out.exit_code == 0, out.output
    assert "call wx:alice" in out.output and "call wx:bob" in out.output
    task_id = list_tasks(ws, clock=clock)[0].id
    done = runner.invoke(app, ["tasks", "done", str(task_id), "-w", str(ws.root)])
    assert (done.exit_code, done.output) == (0, f"task {task_id} done (call wx:alice)\n")


def test_cli_validate_new_and_list(ws: Workspace) -> None:
    made = runner.invoke(app, ["sop", "new", "--from", "newcomer-7day", "-w", str(ws.root)])
    assert made.exit_code == 0, made.output
    valid = runner.invoke(app, ["sop", "validate", "-w", str(ws.root)])
    assert (valid.exit_code, valid.output) == (0, "1 playbook(s) valid\n")
    listed = runner.invoke(app, ["sop", "list", "-w", str(ws.root)])
    assert "newcomer-7day" in listed.output and "member_joined" in listed.output
    path = ws.root / "playbooks" / "newcomer-7day.yaml"
    path.write_text(path.read_text().replace('at: "+0m"', 'at: "now"', 1))
    bad = runner.invoke(app, ["sop", "validate", "-w", str(ws.root)])
    assert bad.exit_code == 2
    assert bad.output == (
        f"error: {path}:10 (field 'steps.0.at'): 'now' is not a step time\n"
        "  fix: write +30m, +2h, +1d or +1d 20:00 (days with a local clock time)\n"
    )
