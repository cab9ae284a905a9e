"""`shequn sop replay`: a backtest over history equals what the ticking engine queues."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli import app
from shequn.clock import FrozenClock, to_micros
from shequn.services.sop import tick
from shequn.services.sop_replay import replay
from shequn.sop.recent import RecentEvents
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import NEWCOMER, add_events, write_playbook

PLAYBOOKS = {
    "newcomer": NEWCOMER,  # welcome +0m; evening +1d 20:00 if silent since the join
    "referral": """
        name: referral
        applies_to: {communities: ["*"]}
        trigger: {type: member_joined, channel: referral}
        steps:
          - id: thank
            at: "+0m"
            action: {type: send_private, text: "thanks for coming"}
            owner: role:assistant
            emergency: {do: "thank them in the group", alert: "role:lead"}
        """,
    "inactive": """
        name: inactive
        applies_to: {communities: ["*"]}
        trigger: {type: member_inactive, days: 1}
        steps:
          - id: nudge
            at: "+0m"
            action: {type: send_private, text: "we miss you"}
            owner: role:assistant
            emergency: {do: "ask a friend", alert: "role:lead"}
          - id: call
            at: "+0d 21:00"
            action: {type: create_task, title: "call {{ member.key }}", text: "call"}
            condition: still_member
            owner: bob
            emergency: {do: "skip", alert: "role:lead"}
        """,
    "buyer": """
        name: buyer
        applies_to: {communities: ["*"]}
        trigger: {type: first_purchase}
        steps:
          - id: thanks
            at: "+10m"
            action: {type: send_private, text: "thank you"}
            owner: role:sales
            emergency: {do: "skip", alert: "role:lead"}
          - id: again
            at: "+1d"
            action: {type: send_private, text: "one more?"}
            condition: not_purchased_since_trigger
            owner: role:sales
            emergency: {do: "skip", alert: "role:lead"}
        """,
    "early": """
        name: early
        applies_to: {communities: ["*"]}
        trigger: {type: member_joined}
        steps:
          - id: hello
            at: "+0d 11:00"
            action: {type: send_private, text: "hello"}
            owner: role:assistant
            emergency: {do: "skip", alert: "role:lead"}
        """,
    "daily": """
        name: daily
        applies_to: {communities: [club]}
        trigger: {type: schedule, every: "every day 08:00"}
        steps:
          - id: morning
            at: "+0m"
            action: {type: send_group, text: "good morning"}
            owner: alice
            emergency: {do: "post by hand", alert: "role:lead"}
        """,
}

# Two local days (Asia/Shanghai), 2026-11-01 and -02.
EVENTS = [
    ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster"),
    ("2026-11-01T10:00:00+08:00", "club", "wx:bob", "join", "referral"),
    ("2026-11-01T11:00:00+08:00", "club", "wx:bob", "message", ""),
    ("2026-11-01T12:00:00+08:00", "club", "wx:carol", "join", "poster"),
    ("2026-11-01T15:00:00+08:00", "club", "wx:carol", "order", ""),
    # bob comes back the day his inactivity matured, two hours after it did
    ("2026-11-02T13:00:00+08:00", "club", "wx:bob", "message", ""),
    ("2026-11-02T14:00:00+08:00", "club", "wx:carol", "order", ""),
    ("2026-11-02T18:00:00+08:00", "club", "wx:carol", "leave", ""),
    ("2026-11-02T23:53:00+08:00", "club", "wx:dave", "join", "poster"),
]


def us(iso: str) -> int:
    return to_micros(datetime.fromisoformat(iso))


A, B, C = us("2026-11-01T09:00+08:00"), us("2026-11-01T10:00+08:00"), us("2026-11-01T12:00+08:00")
B_SPOKE, C_ORDER = us("2026-11-01T11:00+08:00"), us("2026-11-01T15:00+08:00")
D = us("2026-11-02T23:53+08:00")
DAY = 86_400_000_000
# Worked out by hand from EVENTS and PLAYBOOKS (due time, key).
EXPECTED = [
    (us("2026-11-01T08:00+08:00"), f"daily|morning|club|{us('2026-11-01T08:00+08:00')}"),
    (A, f"newcomer|welcome|wx:alice|{A}"),
    (B, f"newcomer|welcome|wx:bob|{B}"),
    (B, f"referral|thank|wx:bob|{B}"),
    # 11:00 on the join's day: carol joined at 12:00, after it; the engine never saw it in time
    (us("2026-11-01T11:00+08:00"), f"early|hello|wx:alice|{A}"),
    (us("2026-11-01T11:00+08:00"), f"early|hello|wx:bob|{B}"),
    (C, f"newcomer|welcome|wx:carol|{C}"),
    (C_ORDER + 600_000_000, f"buyer|thanks|wx:carol|{C_ORDER}"),
    (us("2026-11-02T08:00+08:00"), f"daily|morning|club|{us('2026-11-02T08:00+08:00')}"),
    # alice: silent since joining, inactive a day after it
    (A + DAY, f"inactive|nudge|wx:alice|{A + DAY}"),
    # bob: his message at 11:00 is his last activity until 13:00 the next day
    (B_SPOKE + DAY, f"inactive|nudge|wx:bob|{B_SPOKE + DAY}"),
    (C + DAY, f"inactive|nudge|wx:carol|{C + DAY}"),
    # carol ordered again at 14:00, before her +1d step at 15:00: no "again"
    (us("2026-11-02T20:00+08:00"), f"newcomer|evening|wx:alice|{A}"),  # bob spoke
    (us("2026-11-02T20:00+08:00"), f"newcomer|evening|wx:carol|{C}"),
    (us("2026-11-02T21:00+08:00"), f"inactive|call|wx:alice|{A + DAY}"),
    (us("2026-11-02T21:00+08:00"), f"inactive|call|wx:bob|{B_SPOKE + DAY}"),
    # carol left at 18:00, before her 21:00 call: still_member at the due time says no
    (D, f"newcomer|welcome|wx:dave|{D}"),
]


def _history(ws: Workspace) -> None:
    for name, text in PLAYBOOKS.items():
        write_playbook(ws, name, text)
    add_events(ws, EVENTS)


def test_replay_finds_the_hand_checked_actions(ws: Workspace) -> None:
    _history(ws)
    seen: list[tuple[int, int]] = []
    result = replay(ws, date(2026, 11, 1), date(2026, 11, 3), progress=lambda *p: seen.append(p))
    assert list(result.actions.select("due_ts", "key").iter_rows()) == sorted(EXPECTED)
    assert seen == [(1, 2), (2, 2)]
    assert result.windows == 2 and result.rejected == []
    assert result.counts().rows() == [
        ("buyer", "thanks", "send_private", 1, 1, 0),
        ("daily", "morning", "send_group", 2, 0, 0),
        ("early", "hello", "send_private", 2, 2, 0),
        ("inactive", "call", "create_task", 2, 2, 0),
        ("inactive", "nudge", "send_private", 3, 3, 0),
        ("newcomer", "evening", "send_private", 2, 2, 0),
        ("newcomer", "welcome", "send_private", 4, 4, 0),
        ("referral", "thank", "send_private", 1, 1, 0),
    ]
    bob = result.of_member("wx:bob").select("playbook", "step", "owner").rows()
    assert bob == [
        ("newcomer", "welcome", "role:assistant"),
        ("referral", "thank", "role:assistant"),
        ("early", "hello", "role:assistant"),
        ("inactive", "nudge", "role:assistant"),
        ("inactive", "call", "bob"),
    ]


def _ticks(
    ws: Workspace, start: str, end: str, every: timedelta, recent: RecentEvents | None
) -> set[str]:
    """Run the real engine's tick over the history with a frozen clock; the queued keys.

    With `recent`, the ticks keep their events between them as the engine does.
    """
    clock = FrozenClock(datetime.fromisoformat(start))
    stop = datetime.fromisoformat(end)
    while clock.at <= stop:  # the first tick only records the time, as in production
        tick(ws, clock, recent=recent)
        clock.at += every
    with ws.engine.connect() as conn:
        return set(conn.scalars(select(outbox.c.key)))


@pytest.mark.parametrize(
    ("every", "keep"),
    [
        pytest.param(timedelta(hours=1), False, id="hourly"),
        pytest.param(timedelta(hours=1), True, id="hourly-kept"),
        pytest.param(timedelta(minutes=1), True, id="1min-kept", marks=pytest.mark.slow),
    ],
)
def test_replay_equals_the_ticking_engine(ws: Workspace, every: timedelta, keep: bool) -> None:
    """Replay first (it writes nothing), then the engine ticks through the same history.

    No event lies between a step's due time and the tick after it, so any tick
    interval queues the same keys; `pytest -m slow tests/sop` ticks every minute.
    """
    _history(ws)
    replayed = set(replay(ws, date(2026, 11, 1), date(2026, 11, 3)).actions["key"])
    recent = RecentEvents() if keep else None
    queued = _ticks(ws, "2026-11-01T00:00+08:00", "2026-11-03T00:00+08:00", every, recent)
    assert queued == replayed == {key for _, key in EXPECTED}


def test_a_shorter_period_gives_its_own_days(ws: Workspace) -> None:
    _history(ws)
    first = replay(ws, date(2026, 11, 1), date(2026, 11, 2))
    assert list(first.actions.select("due_ts", "key").iter_rows()) == sorted(EXPECTED)[:8]


def test_bad_period_is_an_error(ws: Workspace) -> None:
    from shequn.errors import InputError

    with pytest.raises(InputError, match="--to 2026-11-01 is not after --from 2026-11-01"):
        replay(ws, date(2026, 11, 1), date(2026, 11, 1))


def test_invalid_playbook_is_printed_not_fatal(ws: Workspace) -> None:
    _history(ws)
    write_playbook(ws, "broken", "name: broken\napplies_to: {communities: ['*']}\n")
    result = replay(ws, date(2026, 11, 1), date(2026, 11, 3))
    assert result.actions.height == len(EXPECTED)
    broken = ws.root / "playbooks" / "broken.yaml"
    assert [str(p) for p in result.rejected] == [
        f"{broken}:1: Field required\n  fix: add `trigger:` here",
        f"{broken}:1: Field required\n  fix: add `steps:` here",
    ]
    out = CliRunner().invoke(
        app,
        ["sop", "replay", "--from", "2026-11-01", "--to", "2026-11-03", "-w", str(ws.root)],
        catch_exceptions=False,
    )
    assert out.exit_code == 0
    assert f"rejected: {broken}:1: Field required" in out.output.replace("\n", "")


def test_cli_replay_json_member_and_csv(ws: Workspace, tmp_path: Path) -> None:
    _history(ws)
    runner = CliRunner()
    period = ["--from", "2026-11-01", "--to", "2026-11-03", "-w", str(ws.root)]
    out = runner.invoke(
        app, ["sop", "replay", *period, "--json", "--member", "wx:carol"], catch_exceptions=False
    )
    body = json.loads(out.stdout)
    assert (body["from"], body["to"]) == ("2026-11-01", "2026-11-03")
    assert sum(c["actions"] for c in body["counts"]) == len(EXPECTED)
    assert [(a["due"], a["playbook"], a["step"]) for a in body["actions"]] == [
        ("2026-11-01T12:00:00+08:00", "newcomer", "welcome"),
        ("2026-11-01T15:10:00+08:00", "buyer", "thanks"),
        ("2026-11-02T12:00:00+08:00", "inactive", "nudge"),
        ("2026-11-02T20:00:00+08:00", "newcomer", "evening"),
    ]
    target = tmp_path / "actions.csv"
    text = runner.invoke(
        app, ["sop", "replay", *period, "--out", str(target)], env={"COLUMNS": "200"}
    ).output
    assert f"Total: {len(EXPECTED)} action(s)" in text
    welcome = next(line for line in text.splitlines() if "welcome" in line)
    assert [cell.strip() for cell in welcome.split("│")[1:6]] == [
        "newcomer", "welcome", "send_private", "4", "4"
    ]  # fmt: skip
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["key"] for r in rows] == [key for _, key in sorted(EXPECTED)]
    assert rows[0]["due"] == "2026-11-01T08:00:00+08:00" and rows[0]["member"] == ""


def test_an_emergency_threshold_alert_is_an_alert_to_its_contact(ws: Workspace) -> None:
    from shequn.sop import journal
    from shequn.store.engine import write_transaction

    write_playbook(
        ws,
        "watch",
        """
        name: watch
        applies_to: {communities: [club]}
        trigger: {type: member_joined}
        steps:
          - id: welcome
            at: "+0m"
            action: {type: send_private, text: "hi"}
            owner: role:assistant
            emergency:
              do: "start a topic"
              alert: lead
              threshold: {metric: active_rate, below: 0.3, days: 3}
        """,
    )
    crossed = us("2026-11-01T12:00+08:00")
    with write_transaction(ws.engine) as conn:
        row = journal.entry("metric_crossed", crossed, "club", "c1", text="active_rate<0.3x3d")
        journal.record(conn, [row])
    result = replay(ws, date(2026, 11, 1), date(2026, 11, 2))
    assert result.actions.select("key", "action", "owner", "target", "member").rows() == [
        (f"watch|welcome|emergency|club|{crossed}", "alert_owner", "lead", "lead", None)
    ]
