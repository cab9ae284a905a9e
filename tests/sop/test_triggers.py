"""Each trigger kind through the tick, with exact occurrences (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.services.sop import tick
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import add_events, at, write_playbook

STEP = """
    steps:
      - id: s
        at: "{at}"
        action: {{type: {action}, text: "{text}"}}
        owner: alice
        emergency: {{do: x, alert: bob}}
"""


def _playbook(
    ws: Workspace, trigger: str, at_: str = "+0m", action: str = "send_private", text: str = "hi"
) -> None:
    head = f"""
    name: pb
    applies_to:
      communities: ["*"]
    trigger: {trigger}
    """
    write_playbook(ws, "pb", head + STEP.format(at=at_, action=action, text=text))


def _rows(ws: Workspace) -> list[tuple]:
    with ws.engine.connect() as conn:
        query = select(outbox.c.key, outbox.c.platform, outbox.c.state, outbox.c.reason)
        return [tuple(r) for r in conn.execute(query.order_by(outbox.c.key))]


HISTORY = [
    ("2026-10-01T09:00:00+00:00", "club", "m:a", "join", ""),
    ("2026-10-01T09:00:00+00:00", "club", "m:b", "join", ""),
    ("2026-10-02T09:00:00+00:00", "club", "m:a", "order", ""),
    ("2026-10-20T10:00:00+00:00", "club", "m:a", "message", ""),
    ("2026-10-21T10:00:00+00:00", "club", "m:b", "message", ""),
    ("2026-10-25T10:00:00+00:00", "club", "m:b", "leave", ""),
    ("2026-11-01T10:00:00+00:00", "club", "m:a", "order", ""),
    ("2026-11-01T11:00:00+00:00", "club", "m:b", "order", ""),
]


def _us(iso: str) -> int:
    return to_micros(datetime.fromisoformat(iso))


def _run(
    ws: Workspace, clock: FrozenClock, trigger: str, until: str = "2026-11-04T00:00", **kw: str
) -> list[tuple]:
    _playbook(ws, trigger, **kw)
    tick(ws, at(clock, "2026-10-28T00:00:00+00:00"))
    add_events(ws, HISTORY)
    tick(ws, at(clock, until + ":00+00:00"))
    return _rows(ws)


def test_member_inactive_for_n_days_who_did_not_leave(ws: Workspace, clock: FrozenClock) -> None:
    # a's last activity 10-20 10:00 + 14 days = 11-03 10:00; b left, so b is not inactive.
    rows = _run(ws, clock, "{type: member_inactive, days: 14}", until="2026-11-03T12:00")
    assert rows == [(f"pb|s|m:a|{_us('2026-11-03T10:00+00:00')}", "console", "pending", None)]


def test_first_purchase_counts_the_whole_history(ws: Workspace, clock: FrozenClock) -> None:
    # a bought before (10-02), so only b's 11-01 order is a first purchase.
    rows = _run(ws, clock, "{type: first_purchase}", at_="+1d")
    assert [r[0] for r in rows] == [f"pb|s|m:b|{_us('2026-11-01T11:00+00:00')}"]


def test_every_purchase(ws: Workspace, clock: FrozenClock) -> None:
    rows = _run(ws, clock, "{type: purchase}", at_="+1d")
    assert [r[0].split("|")[2] for r in rows] == ["m:a", "m:b"]


def test_schedule_targets_each_community(ws: Workspace, clock: FrozenClock) -> None:
    rows = _run(ws, clock, '{type: schedule, every: "every day 08:00"}', action="send_group")
    # 08:00 Shanghai = 00:00 UTC on 10-29 .. 11-04 (the tick window is (10-28, 11-04]);
    # those more than 6 h before the tick are missed, the last one is sent on time.
    # "*" means every community: those of shequn.toml and those seen in events.
    states = [(r[0].split("|")[2], r[2]) for r in rows]
    assert "club" in {c for c, _ in states}
    assert [s for c, s in states if c == "club"] == ["missed"] * 6 + ["pending"]


def test_a_template_that_fails_to_render_is_dead_with_the_reason(
    ws: Workspace, clock: FrozenClock
) -> None:
    # A variable that does not exist is refused before (sop validate, the engine's
    # check); this one exists but fails at run time: a text plus a number.
    rows = _run(ws, clock, "{type: purchase}", text="{{ member.name + 1 }}")
    actions = [r for r in rows if not r[0].endswith("|emergency")]  # each dead one alerts
    assert {r[2] for r in actions} == {"dead"}
    assert actions[0][3].startswith("template: ")
