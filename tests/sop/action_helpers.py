"""Helpers of the SOP action tests: settings with operators and tiers, a drain, events.

Shared by test_actions, test_actions_content, test_content_sent, test_escalation,
test_journal and test_webhook.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.config import load_settings
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import tick
from shequn.sop import dispatch
from shequn.sop.dispatch import Dispatcher
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.sop.helpers import add_events, at, write_playbook

# 2026-11-01 09:00 +08:00 (alice joins) is 01:00 UTC.
JOIN = 1_793_494_800_000_000
SETTINGS = """
[[communities]]
key = "club"
name = "读书会"

[[communities.short_term_goals]]
text = "每周 100 条消息"

[[tiers]]
name = "银卡"
min_points = 10

[[tiers]]
name = "金卡"
min_points = 25

[[operators]]
name = "alice"
roles = ["assistant"]
contact = "console"
escalate_to = "bob"

[[operators]]
name = "bob"
contact = "tg:bob"
"""


def configure(ws: Workspace, extra: str = SETTINGS) -> None:
    """Add communities, tiers and operators to the test workspace's shequn.toml."""
    path = ws.root / "shequn.toml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    ws.settings = load_settings(ws.root)


def drain(ws: Workspace, clock: FrozenClock) -> dispatch.Outcome:
    console = ConsolePlatform(ws.root / "data" / "console.jsonl")
    return Dispatcher(
        ws.engine, {"console": console}, clock, "a", settings=ws.settings
    ).drain_once()


def sop_events(ws: Workspace, *types: str) -> list[tuple]:
    query = (
        select(events.c.type, events.c.member, events.c.text, events.c.amount, events.c.source_id)
        .where(events.c.source == "sop", events.c.type.in_(types))
        .order_by(events.c.id)
    )
    with ws.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


def meta(ws: Workspace, source_id: str) -> dict:
    with ws.engine.connect() as conn:
        found = conn.scalar(select(events.c.meta).where(events.c.source_id == source_id))
    return json.loads(found)


def join_alice(ws: Workspace, clock: FrozenClock, name: str, text: str) -> None:
    write_playbook(ws, name, text)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "")])
