"""`shequn sop plan`: what will be sent, from the events known now; nothing is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from shequn.cli import app
from shequn.clock import FrozenClock, to_micros
from shequn.errors import InputError
from shequn.services.sop import tick
from shequn.services.sop_plan import plan
from shequn.store.schema import metadata
from shequn.workspace import Workspace
from tests.sop.helpers import NEWCOMER, add_events, at, write_playbook

DAILY = """
    name: daily
    applies_to:
      communities: [club]
    trigger:
      type: schedule
      every: "every day 08:00"
    steps:
      - id: morning
        at: "+0m"
        action:
          type: send_group
          text: "早安 {{ community.name }}\\nsecond line"
        owner: alice
        emergency: {do: "post it by hand", alert: "role:lead"}
"""


def us(iso: str) -> int:
    return to_micros(datetime.fromisoformat(iso))


def row_counts(ws: Workspace) -> dict[str, int]:
    """Rows in every table of the store."""
    with ws.engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(t)) for t in metadata.sorted_tables
        }


def _setup(ws: Workspace, clock: FrozenClock) -> None:
    """newcomer + daily; the engine ticked at 09:30 local and queued alice's welcome."""
    write_playbook(ws, "newcomer", NEWCOMER)
    write_playbook(ws, "daily", DAILY)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))  # the first tick records the time
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster"),
            ("2026-11-01T10:00:00+08:00", "club", "wx:bob", "join", "poster"),
            ("2026-11-01T11:00:00+08:00", "club", "wx:bob", "message", ""),
        ],
    )
    tick(ws, at(clock, "2026-11-01T09:30:00+08:00"))


ALICE, BOB = us("2026-11-01T09:00:00+08:00"), us("2026-11-01T10:00:00+08:00")
EXPECTED = [
    # (when, status, key, action, target, text)
    (ALICE, "pending", f"newcomer|welcome|wx:alice|{ALICE}", "send_private", "wx:alice",
     "欢迎 wx:alice 加入 club"),
    (BOB, "overdue", f"newcomer|welcome|wx:bob|{BOB}", "send_private", "wx:bob",
     "欢迎 wx:bob 加入 club"),
    (us("2026-11-02T08:00:00+08:00"), "planned",
     f"daily|morning|club|{us('2026-11-02T08:00:00+08:00')}", "send_group", "club", "早安 club"),
    # bob spoke, so only alice gets the evening step (silent_since_trigger, as of now).
    (us("2026-11-02T20:00:00+08:00"), "planned", f"newcomer|evening|wx:alice|{ALICE}",
     "send_private", "wx:alice", "day one: wx:alice"),
    (us("2026-11-03T08:00:00+08:00"), "planned",
     f"daily|morning|club|{us('2026-11-03T08:00:00+08:00')}", "send_group", "club", "早安 club"),
]  # fmt: skip


def test_plan_lists_pending_overdue_and_future_steps(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws, clock)
    result = plan(ws, at(clock, "2026-11-01T12:00:00+08:00"), days=2)
    got = [(a.when, a.status, a.key, a.action, a.target, a.text) for a in result.actions]
    assert got == EXPECTED
    assert result.based_on == us("2026-11-01T11:00:00+08:00")
    assert result.until == us("2026-11-03T12:00:00+08:00")
    assert result.rejected == []
    assert {a.owner for a in result.actions} == {"role:assistant", "alice"}
    assert [a.member for a in result.actions] == ["wx:alice", "wx:bob", None, "wx:alice", None]


def test_plan_filters_by_playbook_and_community(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws, clock)
    now = at(clock, "2026-11-01T12:00:00+08:00")
    only = plan(ws, now, days=2, playbook="daily")
    assert [a.key for a in only.actions] == [EXPECTED[2][2], EXPECTED[4][2]]
    assert plan(ws, now, days=2, community="elsewhere").actions == []
    short = plan(ws, now, days=1, playbook="newcomer")
    assert [a.status for a in short.actions] == ["pending", "overdue"]  # evening is 32 h away


def engine_rows(ws: Workspace) -> dict[str, list[tuple]]:
    """The engine's own small tables in full: an update would show, not only an insert."""
    with ws.engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
            for t in metadata.sorted_tables
            if t.name in ("sop_state", "sop_leases", "sop_playbooks", "sop_outbox")
        }


def test_plan_and_replay_write_nothing(ws: Workspace, clock: FrozenClock) -> None:
    from datetime import date

    from shequn.services.sop_replay import replay

    _setup(ws, clock)
    before, rows = row_counts(ws), engine_rows(ws)
    assert before["sop_outbox"] == 1 and before["events"] >= 3  # the store is not empty
    assert len(rows["sop_state"]) >= 1  # last_tick
    plan(ws, at(clock, "2026-11-01T12:00:00+08:00"), days=7)
    replay(ws, date(2026, 10, 30), date(2026, 11, 5))
    assert row_counts(ws) == before
    assert engine_rows(ws) == rows


def test_rejected_playbook_is_reported_and_its_last_valid_version_kept(
    ws: Workspace, clock: FrozenClock
) -> None:
    _setup(ws, clock)
    path = ws.root / "playbooks" / "newcomer.yaml"
    path.write_text(path.read_text().replace('at: "+0m"', 'at: "soon"'))
    result = plan(ws, at(clock, "2026-11-01T12:00:00+08:00"), days=2)
    assert [str(p).splitlines()[0] for p in result.rejected] == [
        f"{path}:8 (field 'steps.0.at'): 'soon' is not a step time"
    ]
    # The engine keeps running the stored valid version: the plan does too.
    assert [a.key for a in result.actions] == [row[2] for row in EXPECTED]


def test_before_any_tick_the_plan_starts_now(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster")])
    result = plan(ws, at(clock, "2026-11-01T12:00:00+08:00"), days=2)
    assert [(a.key, a.status) for a in result.actions] == [
        (f"newcomer|evening|wx:alice|{ALICE}", "planned")
    ]


def test_plan_does_not_see_events_after_now(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    add_events(
        ws,
        [
            ("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster"),
            ("2026-11-01T15:00:00+08:00", "club", "wx:alice", "message", ""),
            ("2026-11-01T16:00:00+08:00", "club", "wx:carol", "join", "poster"),
        ],
    )
    # At noon alice is silent and carol has not joined: events after now are unknown.
    result = plan(ws, at(clock, "2026-11-01T12:00:00+08:00"), days=2)
    assert [a.key for a in result.actions] == [f"newcomer|evening|wx:alice|{ALICE}"]
    assert result.based_on == ALICE


def test_cli_plan_json_and_table(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws, clock)
    runner = CliRunner()
    args = ["sop", "plan", "--days", "2", "--at", "2026-11-01T12:00+08:00", "-w", str(ws.root)]
    out = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    items = json.loads(out.stdout)
    assert [(i["at"], i["status"], i["key"]) for i in items] == [
        ("2026-11-01T09:00:00+08:00", "pending", EXPECTED[0][2]),
        ("2026-11-01T10:00:00+08:00", "overdue", EXPECTED[1][2]),
        ("2026-11-02T08:00:00+08:00", "planned", EXPECTED[2][2]),
        ("2026-11-02T20:00:00+08:00", "planned", EXPECTED[3][2]),
        ("2026-11-03T08:00:00+08:00", "planned", EXPECTED[4][2]),
    ]
    table = runner.invoke(app, args, catch_exceptions=False, env={"COLUMNS": "200"}).output
    assert "based on events up to 2026-11-01T11:00" in table
    assert "conditions are checked as of now" in table
    assert "2026-11-02 Mon" in table and "2026-11-03 Tue" in table
    assert "Total: 5 action(s): 1 overdue, 1 pending, 3 planned" in table.replace("\n", " ")


def test_cli_plan_bad_instant_names_the_option(ws: Workspace) -> None:
    result = CliRunner().invoke(app, ["sop", "plan", "--at", "tomorrow", "-w", str(ws.root)])
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == (
        "field '--at': 'tomorrow' is not an instant with its offset\n"
        "  fix: write e.g. 2026-11-20T09:00+08:00"
    )


def test_unknown_playbook_filter_is_an_error(ws: Workspace, clock: FrozenClock) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    with pytest.raises(InputError, match="no playbook 'nope' in force"):
        plan(ws, clock, playbook="nope")


def test_plan_of_the_system_clock_runs(ws: Workspace) -> None:
    write_playbook(ws, "newcomer", NEWCOMER)
    result = plan(ws)
    assert result.actions == [] and result.based_on is None
    assert result.until - result.now == 7 * 86_400_000_000
    assert abs(result.now - to_micros(datetime.now(UTC))) < 60_000_000


def test_content_items_are_rendered_and_a_missing_one_rejects(
    ws: Workspace, clock: FrozenClock
) -> None:
    text = NEWCOMER.replace('text: "day one: {{ member.key }}"', "content: day-one")
    write_playbook(ws, "newcomer", text)
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "poster")])
    now = at(clock, "2026-11-01T12:00:00+08:00")
    missing = plan(ws, now, days=2)
    assert missing.actions == []
    assert [p.field for p in missing.rejected] == ["steps.1.action.content"]
    (ws.root / "content").mkdir(exist_ok=True)
    (ws.root / "content" / "day-one.md").write_text("Hello {{ member.key }}\n\nmore", "utf-8")
    found = plan(ws, now, days=2)
    assert found.rejected == []
    assert [(a.step, a.text) for a in found.actions] == [("evening", "Hello wx:alice")]
