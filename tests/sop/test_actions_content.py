"""Content items from content/: rendered into messages and tasks; missing ones reported
by `shequn sop validate` and by the tick with the playbook's file, line and the path."""

from __future__ import annotations

import json

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli.sop import sop_app
from shequn.clock import FrozenClock
from shequn.services.sop import tick
from shequn.sop.content import ContentError, Library, read_item
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.action_helpers import configure, join_alice, sop_events

WELCOME = """
    name: welcome
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: pack
        at: "+0m"
        action:
          type: send_private
          content: welcome-pack
        owner: alice
        emergency: {do: "send the pack by hand", alert: bob}
      - id: task
        at: "+0m"
        action:
          type: create_task
          title: "跟进 {{ member.key }}"
          text: "先打个招呼："
          content: welcome-pack
          image: custom.png
        owner: alice
        emergency: {do: "lead follows up", alert: bob}
"""
PACK = """---
title: 新人礼包
image: pack.png
link: https://example.org/pack
---
欢迎 {{ member.key }} 来到{{ community.name }}！本周目标：{{ goal.text }}
"""


def _payloads(ws: Workspace) -> dict[str, dict]:
    with ws.engine.connect() as conn:
        query = select(outbox.c.step, outbox.c.payload, outbox.c.state)
        rows = conn.execute(query.where(outbox.c.action != "alert_owner"))
        return {step: {**json.loads(p), "_state": state} for step, p, state in rows}


def test_a_content_item_renders_with_member_community_and_goal(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    (ws.root / "content").mkdir(exist_ok=True)
    (ws.root / "content" / "welcome-pack.md").write_text(PACK, encoding="utf-8")
    join_alice(ws, clock, "welcome", WELCOME)
    tick(ws, clock.__class__(clock.at.replace(hour=1)))
    found = _payloads(ws)
    body = "欢迎 wx:alice 来到读书会！本周目标：每周 100 条消息"
    pack, task = found["pack"], found["task"]
    assert (pack["_state"], pack["text"], pack["title"], pack["image"], pack["link"]) == (
        "pending",
        body,
        "新人礼包",
        "pack.png",
        "https://example.org/pack",
    )
    assert pack["content"] == "welcome-pack"
    # A task keeps its own title; the action's text comes first, the item's image yields.
    assert (task["title"], task["text"], task["image"]) == (
        "跟进 wx:alice",
        f"先打个招呼：\n\n{body}",
        "custom.png",
    )


def test_a_missing_item_is_reported_by_validate_and_the_tick(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    join_alice(ws, clock, "welcome", WELCOME)
    path = ws.root / "playbooks" / "welcome.yaml"
    looked = (
        f"{ws.root / 'content' / 'welcome-pack.md'} and {ws.root / 'content' / 'welcome-pack.txt'}"
    )
    expected = (
        f"{path}:{{line}} (field 'steps.{{step}}.action.content'): content item "
        f"'welcome-pack' not found: looked for {looked}\n"
        "  fix: create content/welcome-pack.md in the workspace, or fix the name"
    )
    app = typer.Typer()
    app.add_typer(sop_app, name="sop")
    out = CliRunner().invoke(app, ["sop", "validate", "-w", str(ws.root)])
    assert out.exit_code == 2
    assert out.output == (
        "error: "
        + expected.format(line=11, step=0)
        + "\nerror: "
        + expected.format(line=20, step=1)
        + "\n"
    )
    result = tick(ws, clock.__class__(clock.at.replace(hour=1)))
    assert [str(p) for p in result.rejected] == [
        expected.format(line=11, step=0),
        expected.format(line=20, step=1),
    ]
    assert (result.playbooks, _payloads(ws)) == (0, {})


def test_an_item_removed_after_loading_makes_the_action_dead_with_an_alert(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws)
    (ws.root / "content").mkdir(exist_ok=True)
    item = ws.root / "content" / "welcome-pack.txt"
    item.write_text("hello {{ member.key }}", encoding="utf-8")
    join_alice(ws, clock, "welcome", WELCOME)
    item.write_text("hello {{ member.nickname }}", encoding="utf-8")  # renders for nobody
    tick(ws, clock.__class__(clock.at.replace(hour=1)))
    found = _payloads(ws)
    assert found["pack"]["_state"] == "dead"
    assert [e[0] for e in sop_events(ws, "action_dead")] == ["action_dead", "action_dead"]
    with ws.engine.connect() as conn:
        alerts = list(conn.scalars(select(outbox.c.key).where(outbox.c.key.like("%|emergency"))))
    assert sorted(a.split("|")[1] for a in alerts) == ["pack", "task"]


def test_front_matter_errors_name_the_file(ws: Workspace) -> None:
    folder = ws.root / "content"
    folder.mkdir(exist_ok=True)
    (folder / "bad.md").write_text("---\ncolour: red\n---\nhi\n", encoding="utf-8")
    (folder / "open.md").write_text("---\ntitle: x\nhi\n", encoding="utf-8")
    library = Library(folder)
    for name, message in (
        (
            "bad",
            f"{folder / 'bad.md'}: front matter may hold only title, image, link (found colour)",
        ),
        ("open", f"{folder / 'open.md'}:1: front matter opened with --- is never closed"),
    ):
        try:
            library.get(name)
        except ContentError as exc:
            assert str(exc) == message
        else:
            raise AssertionError(f"{name} was accepted")
    assert read_item(folder, "fine" if (folder / "fine.md").write_text("x") else "").body == "x"
