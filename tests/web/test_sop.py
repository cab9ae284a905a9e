"""SOP and tasks pages: playbooks, outbox, plan; mark a task done with a note."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import tick
from shequn.services.users import add_user
from shequn.services.workspace import init_workspace
from shequn.sop.dispatch import Dispatcher
from shequn.store.schema import events
from shequn.web import create_app
from tests.sop.helpers import add_events, at, call_newcomer, write_playbook
from tests.web.conftest import HOSTILE, PASSWORD, csrf_of, sign_in

CALL = call_newcomer(owner="operator", alert="owner")


@pytest.fixture
def sop_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FrozenClock(datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    ws = init_workspace(tmp_path / "ws", name="sop")
    write_playbook(ws, "call", CALL)
    tick(ws, clock)
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", ""),
            ("2026-11-01T09:30:00+08:00", "club", f"wx:{HOSTILE}", "join", ""),
        ],
    )
    later = at(clock, "2026-11-01T03:00:00+00:00")
    tick(ws, later)
    console = ConsolePlatform(ws.root / "data" / "c.jsonl")
    assert len(Dispatcher(ws.engine, {"console": console}, later, "a").drain_once().tasks) == 2
    for role in ("operator", "analyst", "viewer", "owner"):
        add_user(ws, role, PASSWORD, role, clock=later)
    # Half an hour after the first task fell due (+1h +2h after 09:00).
    now = at(clock, "2026-11-01T04:30:00+00:00")
    yield create_app(ws, now), ws
    ws.close()


def test_tasks_mine_content_and_done_with_a_note(sop_app) -> None:  # type: ignore[no-untyped-def]
    app, ws = sop_app
    client = sign_in(app, "operator")
    page = client.get("/tasks?view=mine").text
    assert page.count('class="card task') == 2
    assert "say hello to wx:alice" in page
    assert HOSTILE not in page and "say hello to wx:&lt;script&gt;" in page
    overdue = client.get("/tasks?view=overdue").text
    assert overdue.count('class="card task') == 1 and "call wx:alice" in overdue
    listed = client.get("/tasks.json?view=mine").json()
    alice = next(t for t in listed if t["title"] == "call wx:alice")
    token = csrf_of(client, "/tasks")
    answer = client.post(
        f"/tasks/{alice['id']}/done",
        data={"csrf": token, "note": "called, wants the book list"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert client.get("/tasks?view=mine").text.count('class="card task') == 1
    with ws.engine.connect() as conn:
        meta = conn.scalar(select(events.c.meta).where(events.c.type == "task_done"))
    assert json.loads(meta)["note"] == "called, wants the book list"
    assert json.loads(meta)["by"] == "operator"
    again = client.post(f"/tasks/{alice['id']}/done", data={"csrf": token})
    assert again.status_code == 400 and "was done at" in again.text


def test_analyst_reads_tasks_but_cannot_close_them(sop_app) -> None:  # type: ignore[no-untyped-def]
    app, _ws = sop_app
    client = sign_in(app, "analyst")
    assert client.get("/tasks").status_code == 200
    token = csrf_of(client, "/tasks")
    assert client.post("/tasks/1/done", data={"csrf": token}).status_code == 403
    assert sign_in(app, "viewer").get("/tasks").status_code == 403


def test_sop_page_lists_playbooks_and_the_outbox(sop_app) -> None:  # type: ignore[no-untyped-def]
    app, _ws = sop_app
    client = sign_in(app, "owner")
    page = client.get("/sop?state=sent&lang=en").text
    assert "call-newcomer" in page and ">valid<" in page
    assert "sent (2)" in page
    assert client.get("/sop?state=nonsense").status_code == 400
    assert client.get("/sop/plan").status_code == 200


def test_retry_and_cancel_a_dead_row(sop_app) -> None:  # type: ignore[no-untyped-def]
    from shequn.sop.outbox import enqueue, row
    from shequn.store.engine import write_transaction
    from shequn.store.sop_schema import outbox

    app, ws = sop_app
    # A row the engine wrote dead (as a template error does), through the outbox's own API.
    with write_transaction(ws.engine) as conn:
        enqueue(
            conn,
            [
                row(
                    key="k1",
                    playbook="p",
                    step="s",
                    community="club",
                    target="wx:alice",
                    platform="console",
                    action="send_private",
                    payload={"text": "hi"},
                    due_ts=1,
                    now=1,
                    state="dead",
                    reason="template: no such filter",
                )
            ],
        )
    with ws.engine.connect() as conn:
        dead = [r.id for r in conn.execute(select(outbox.c.id).where(outbox.c.state == "dead"))]
    assert len(dead) == 1
    client = sign_in(app, "operator")
    token = csrf_of(client, "/sop?state=dead")
    assert (
        client.post(
            f"/sop/outbox/{dead[0]}/retry", data={"csrf": token}, follow_redirects=False
        ).status_code
        == 303
    )
    with ws.engine.connect() as conn:
        state, reason = conn.execute(
            select(outbox.c.state, outbox.c.reason).where(outbox.c.id == dead[0])
        ).one()
    assert state == "retry" and reason.startswith("retried by operator")
    again = client.post(f"/sop/outbox/{dead[0]}/cancel", data={"csrf": token})
    assert again.status_code == 400 and "is not dead" in again.text
    assert (
        sign_in(app, "analyst")
        .post(f"/sop/outbox/{dead[0]}/cancel", data={"csrf": token})
        .status_code
        == 403
    )


def test_replay_page_filters_in_the_url_and_downloads(sop_app) -> None:  # type: ignore[no-untyped-def]
    app, _ws = sop_app
    client = sign_in(app, "analyst")
    period = "from=2026-11-01&to=2026-11-02"
    page = client.get(f"/sop/replay?{period}&lang=en").text
    # Two joins on 1 November, each due a call task an hour later: 2 actions, 2 members.
    assert '<td>call-newcomer</td><td>call</td><td>create_task</td><td class="num">2</td>' in page
    assert HOSTILE not in page and "wx:&lt;script&gt;" in page
    assert 'href="/sop/replay.csv?from=2026-11-01&amp;to=2026-11-02"' in page
    alice = client.get(f"/sop/replay.json?{period}&member=wx:alice").json()
    assert [(a["member"], a["step"], a["owner"], a["due"]) for a in alice] == [
        ("wx:alice", "call", "operator", "2026-11-01T10:00:00+08:00")
    ]
    csv_text = client.get(f"/sop/replay.csv?{period}").content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    header = "key,due,playbook,step,action,owner,community,member,member_name,target,trigger"
    assert lines[0] == header
    assert len(lines) == 3
    # The day before the joins: nothing due.
    quiet = client.get("/sop/replay.json?from=2026-10-31&to=2026-11-01").json()
    assert quiet == []
    assert client.get("/sop/replay?from=2026-11-02&to=2026-11-01").status_code == 400
    assert client.get("/sop/replay?from=2026-11-01").status_code == 400
    assert "sop/replay" in client.get("/sop").text
    assert sign_in(app, "viewer").get(f"/sop/replay?{period}").status_code == 403
