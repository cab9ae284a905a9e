"""Content items the engine delivers are canonical `content_sent` events (source
`sop-delivery`), once per delivery however often it is recorded, and move content_ctr.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.analytics import compute
from shequn.clock import FrozenClock
from shequn.export.events import export_events
from shequn.platforms.base import Outgoing
from shequn.platforms.console import ConsolePlatform, deliveries
from shequn.services.imports import import_path
from shequn.services.sop import tick
from shequn.services.workspace import init_workspace
from shequn.sop import dispatch, outcomes
from shequn.store.schema import events
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.action_helpers import configure, drain, join_alice
from tests.sop.helpers import add_events, at

PLAYBOOK = """
    name: welcome
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: pack
        at: "+0m"
        action: {type: send_private, content: welcome-pack}
        owner: alice
        emergency: {do: "send the pack by hand", alert: bob}
      - id: tip
        at: "+0m"
        action: {type: send_group, text: "欢迎新朋友", content: weekly-tip}
        owner: alice
        emergency: {do: "post the tip by hand", alert: bob}
      - id: hello
        at: "+0m"
        action: {type: send_private, text: "hi {{ member.key }}"}
        owner: alice
        emergency: {do: "say hi by hand", alert: bob}
      - id: call
        at: "+0m"
        action: {type: create_task, title: "call {{ member.key }}", content: welcome-pack}
        owner: alice
        emergency: {do: "lead calls", alert: bob}
"""
# 2026-11-01 01:05 UTC (09:05 +08:00), five minutes after alice joined.
DRAIN = "2026-11-01T01:05:00+00:00"
DRAIN_TS = 1_793_495_100_000_000
KEY = "welcome|{step}|wx:alice|1793494800000000"


def _setup(ws: Workspace, clock: FrozenClock) -> None:
    """bob joined on Oct 30 (before the engine ran); alice joins at 09:00 +08:00."""
    configure(ws)
    folder = ws.root / "content"
    folder.mkdir(exist_ok=True)
    (folder / "welcome-pack.md").write_text("欢迎 {{ member.key }}", encoding="utf-8")
    (folder / "weekly-tip.txt").write_text("本周话题：读书", encoding="utf-8")
    add_events(ws, [("2026-10-30T10:00:00+08:00", "club", "wx:bob", "join", "")], tag="b")
    join_alice(ws, clock, "welcome", PLAYBOOK)
    tick(ws, at(clock, DRAIN))


def _sends(ws: Workspace) -> list[tuple]:
    query = (
        select(
            events.c.ts,
            events.c.community,
            events.c.member,
            events.c.content_id,
            events.c.channel,
            events.c.source,
            events.c.source_id,
        )
        .where(events.c.type == "content_sent")
        .order_by(events.c.source_id)
    )
    with ws.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


EXPECTED = [
    (DRAIN_TS, "club", "wx:alice", "welcome-pack", None, "sop-delivery", KEY.format(step="pack")),
    (
        DRAIN_TS,
        "club",
        "operator:alice",
        "weekly-tip",
        None,
        "sop-delivery",
        KEY.format(step="tip"),
    ),
]


def _click(ws: Workspace, member: str, content: str) -> None:
    path = ws.root / "clicks.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("ts", "community", "member", "type", "content_id", "source_id"))
        when = "2026-11-01T12:00:00+08:00"
        writer.writerow((when, "club", member, "content_click", content, "c1"))
    import_path(ws, path)


def test_a_delivered_content_item_is_one_content_sent_and_moves_content_ctr(
    ws: Workspace, clock: FrozenClock
) -> None:
    _setup(ws, clock)
    result = drain(ws, clock)
    # pack, tip, hello are messages; call is an operator task (no delivery, no send).
    assert sorted(r.step for r in result.sent) == ["hello", "pack", "tip"]
    assert [r.step for r in result.tasks] == ["call"]
    assert _sends(ws) == EXPECTED
    assert [e["source_id"] for e in result.events if e["type"] == "content_sent"] == [
        KEY.format(step="pack"),
        KEY.format(step="tip"),
    ]
    # Draining again finds nothing; recording the same outcome again stores nothing.
    assert drain(ws, clock).done == 0
    with ws.engine.begin() as conn:
        again = outcomes.record_content_sent(conn, result, DRAIN_TS + 1)
    assert len(again) == 2
    assert _sends(ws) == EXPECTED
    # Members at the first send (01:05 UTC): bob and alice. alice clicked the pack.
    _click(ws, "wx:alice", "welcome-pack")
    figures = compute(ws, date(2026, 11, 1), date(2026, 11, 2))
    expected_ctr = {"weekly-tip": 0.0, "welcome-pack": 1 / 2}
    assert figures["club"]["content_ctr"] == expected_ctr
    assert figures["*"]["content_ctr"] == expected_ctr


def test_a_crash_before_commit_then_a_recovered_delivery_records_one_send(
    ws: Workspace, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(ws, clock)
    record = outcomes.record_content_sent

    def crash(*args: object) -> list:
        record(*args)  # type: ignore[arg-type]
        raise RuntimeError("killed before commit")

    with monkeypatch.context() as patch:
        patch.setattr(dispatch.outcomes, "record_content_sent", crash)
        with pytest.raises(RuntimeError):
            drain(ws, clock)
    # Delivered on the console, but the transaction holding the sends rolled back.
    assert _sends(ws) == []
    path = ws.root / "data" / "console.jsonl"
    assert sorted(d["key"].split("|")[1] for d in deliveries(path)) == ["hello", "pack", "tip"]
    result = drain(ws, clock)
    assert (sorted(r.step for r in result.recovered), result.sent) == (
        ["hello", "pack", "tip"],
        [],
    )
    assert _sends(ws) == EXPECTED
    assert len(deliveries(path)) == 3  # nothing went out twice


def test_a_platform_record_of_a_send_the_store_never_saw_gets_its_content_sent(
    ws: Workspace, clock: FrozenClock
) -> None:
    _setup(ws, clock)
    with ws.engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.step == "pack")).one()
    console = ConsolePlatform(ws.root / "data" / "console.jsonl")
    console.send(Outgoing(row.key, row.community, row.target, row.action, {"text": "x"}))
    result = drain(ws, clock)
    assert [r.step for r in result.recovered] == ["pack"]
    assert _sends(ws) == EXPECTED
    assert drain(ws, clock).done == 0
    assert _sends(ws) == EXPECTED


def test_the_sends_export_and_import_back_unchanged(
    ws: Workspace, clock: FrozenClock, tmp_path: Path
) -> None:
    """Every canonical event but a visit has a member, so a group send names its sender."""
    _setup(ws, clock)
    drain(ws, clock)
    out = tmp_path / "events.csv"
    with ws.engine.connect() as conn:
        written = export_events(conn, out, "csv")
    assert written == 4  # bob's and alice's joins, the two sends
    other = init_workspace(tmp_path / "copy", name="copy")
    try:
        import_path(other, out)
        assert _sends(other) == EXPECTED
    finally:
        other.close()
