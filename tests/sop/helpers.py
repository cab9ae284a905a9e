"""Helpers for SOP tests: events through the real import path, playbooks on disk."""

from __future__ import annotations

import csv
import textwrap
from datetime import datetime
from pathlib import Path

import msgspec

from shequn.clock import FrozenClock
from shequn.services.imports import import_path
from shequn.workspace import Workspace

FIELDS = ("ts", "community", "member", "type", "channel", "order_id", "amount", "source_id")


def add_events(ws: Workspace, rows: list[tuple[str, str, str, str, str]], tag: str = "e") -> None:
    """Append events (ts ISO, community, member, type, channel) via the canonical importer."""
    path = ws.root / f"events-{tag}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for i, (ts, community, member, kind, channel) in enumerate(rows):
            order = f"o-{tag}-{i}" if kind == "order" else ""
            amount = "10" if kind == "order" else ""
            writer.writerow((ts, community, member, kind, channel, order, amount, f"{tag}{i}"))
    import_path(ws, path)


def write_playbook(ws: Workspace, name: str, text: str) -> Path:
    path = ws.root / "playbooks" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def at(clock: FrozenClock, iso: str) -> FrozenClock:
    clock.at = datetime.fromisoformat(iso)
    return clock


NEWCOMER = """
    name: newcomer
    applies_to:
      communities: ["*"]
    trigger:
      type: member_joined
    steps:
      - id: welcome
        at: "+0m"
        action:
          type: send_private
          text: "欢迎 {{ member.name }} 加入 {{ community.name }}"
        owner: role:assistant
        emergency: {do: "welcome them in the group", alert: "role:lead"}
      - id: evening
        at: "+1d 20:00"
        action:
          type: send_private
          text: "day one: {{ member.key }}"
        condition: silent_since_trigger
        owner: role:assistant
        emergency: {do: "ask a KOL to greet them", alert: "role:lead"}
"""


def queue(
    ws: Workspace,
    count: int,
    due: int,
    *,
    platform: str = "console",
    prefix: str = "k",
    community: str = "club",
    payload: str | None = None,
) -> None:
    """Put `count` pending outbox rows straight into the outbox (as a tick would)."""
    from shequn.sop import outbox
    from shequn.store.engine import write_transaction

    rows = [
        outbox.row(
            key=f"{prefix}{i:06d}",
            playbook="pb",
            step="s",
            community=community,
            target=f"m{i}",
            platform=platform,
            action="send_private" if platform != "task" else "create_task",
            payload={"text": "hi", "owner": "alice", "title": "call m"},
            due_ts=due,
            now=due,
        )
        for i in range(count)
    ]
    if payload is not None:
        rows = [msgspec.structs.replace(r, payload=payload) for r in rows]
    with write_transaction(ws.engine) as conn:
        outbox.enqueue(conn, rows)


# A welcome in the group for each newcomer (the live tests and benchmark).
GROUP_WELCOME = """
    name: welcome
    applies_to:
      communities: ["*"]
    trigger:
      type: member_joined
    steps:
      - id: hello
        at: "+0m"
        action:
          type: send_group
          text: "welcome {{ member.name }}"
        owner: role:assistant
        emergency: {do: "welcome them by hand", alert: "role:lead"}
"""


def call_newcomer(owner: str, alert: str) -> str:
    """A playbook that gives `owner` a task to call each newcomer of `club` (1 h after)."""
    return f"""
    name: call-newcomer
    applies_to:
      communities: [club]
    trigger:
      type: member_joined
    steps:
      - id: call
        at: "+1h"
        action:
          type: create_task
          title: "call {{{{ member.key }}}}"
          text: "say hello to {{{{ member.key }}}}"
          checklist: [call, note]
          due: "+2h"
        owner: {owner}
        emergency: {{do: "lead calls", alert: {alert}}}
"""
