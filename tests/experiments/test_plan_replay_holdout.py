"""`sop plan`, `sop replay` and the console's plan page show held-out members as held
out, with their experiment, instead of leaving them out or listing them as sent.

Hand-checked arms (the salted hash of docs/experiments.md is fixed): of wx:m0…wx:m5,
`hello.welcome` (30% holdout) holds out wx:m2 and wx:m3; `hello.tip` gives `long` to
wx:m0, wx:m3, wx:m5 and `short` to wx:m1, wx:m2, wx:m4.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli import app
from shequn.clock import FrozenClock
from shequn.services.sop import tick
from shequn.services.sop_plan import plan
from shequn.services.sop_replay import replay
from shequn.web import create_app
from shequn.workspace import Workspace
from tests.experiments.test_tick_experiments import MEMBERS, PLAYBOOK
from tests.sop.helpers import add_events, at, write_playbook
from tests.web.conftest import make_workspace, sign_in

SIX = MEMBERS[:6]
HELD = {"wx:m2", "wx:m3"}
TIP = {"wx:m0": "long", "wx:m1": "short", "wx:m2": "short", "wx:m3": "long", "wx:m4": "short"}
TIP["wx:m5"] = "long"


def _history(ws: Workspace, clock: FrozenClock, community: str = "club") -> FrozenClock:
    """Six joins at 09:00 Shanghai; the engine last ticked a minute before them."""
    write_playbook(ws, "hello", PLAYBOOK)
    joins = [("2026-11-01T09:00:00+08:00", community, m, "join", "") for m in SIX]
    add_events(ws, joins, tag="hold")  # ids of its own: the console workspace has e0…
    tick(ws, at(clock, "2026-11-01T00:59:00+00:00"))
    return at(clock, "2026-11-01T01:30:00+00:00")


def test_the_plan_lists_held_out_members_as_held_out(ws: Workspace, clock: FrozenClock) -> None:
    result = plan(ws, _history(ws, clock), days=1)
    welcome = {a.member: a for a in result.actions if a.step == "welcome"}
    assert set(welcome) == set(SIX)  # nobody silently absent
    assert {m for m, a in welcome.items() if a.status == "held_out"} == HELD
    held = welcome["wx:m2"]
    assert (held.experiment, held.arm) == ("hello.welcome", "holdout")
    assert held.text == "not sent: held out by experiment hello.welcome"
    assert (welcome["wx:m0"].status, welcome["wx:m0"].arm) == ("overdue", "treated")
    tips = {a.member: a.arm for a in result.actions if a.step == "tip"}
    assert tips == TIP


def test_the_replay_counts_and_lists_them(ws: Workspace, clock: FrozenClock) -> None:
    _history(ws, clock)
    result = replay(ws, date(2026, 11, 1), date(2026, 11, 2))
    counts = {r["step"]: r for r in result.counts().to_dicts()}
    assert (counts["welcome"]["actions"], counts["welcome"]["members"]) == (4, 6)
    assert counts["welcome"]["held_out"] == 2
    assert (counts["tip"]["actions"], counts["tip"]["held_out"]) == (6, 0)
    arms = {(r["member"], r["step"]): r["arm"] for r in result.actions.to_dicts()}
    assert {m for (m, s), arm in arms.items() if s == "welcome" and arm == "holdout"} == HELD
    assert {m: arms[(m, "tip")] for m in SIX} == TIP
    assert result.held_out == 2


def test_the_cli_shows_them(
    ws: Workspace, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no cell is cut short
    at_ = _history(ws, clock).now().isoformat()
    root = str(ws.root)
    runner = CliRunner()
    shown = runner.invoke(app, ["sop", "plan", "-w", root, "--days", "1", "--at", at_])
    assert shown.exit_code == 0, shown.output
    held = [line for line in shown.output.splitlines() if "held_out " in line]
    assert len(held) == 2
    assert all("not sent: held out by experiment hello.welcome" in line for line in held)
    assert "Total: 12 action(s): 2 held_out, 4 overdue, 6 planned" in shown.output
    assert "planned (long)" in shown.output
    listed = runner.invoke(app, ["sop", "plan", "-w", root, "--days", "1", "--at", at_, "--json"])
    rows = [r for r in json.loads(listed.output) if r["member"] == "wx:m3"]
    assert {(r["step"], r["status"], r["arm"]) for r in rows} == {
        ("welcome", "held_out", "holdout"),
        ("tip", "planned", "long"),
    }
    back = ["sop", "replay", "-w", root, "--from", "2026-11-01", "--to", "2026-11-02"]
    replayed = runner.invoke(app, [*back, "--member", "wx:m2"])
    assert replayed.exit_code == 0, replayed.output
    assert "holdout (not sent)" in replayed.output
    assert "hello.welcome" in replayed.output
    assert "Total: 10 action(s), 2 held out (not sent)" in replayed.output
    body = json.loads(runner.invoke(app, [*back, "--json"]).output)
    assert {(a["member"], a["arm"]) for a in body["actions"] if a["step"] == "welcome"} == {
        (m, "holdout" if m in HELD else "treated") for m in SIX
    }


def test_the_console_plan_page_shows_them(tmp_path: Path, clock: FrozenClock) -> None:
    ws = make_workspace(tmp_path / "ws", "analyst")
    try:
        now = _history(ws, clock, "my-community")  # the console workspace's community
        client = sign_in(create_app(ws, now), "analyst")
        page = client.get("/sop/plan?days=1&lang=zh_CN")
        assert page.status_code == 200
        rows = [r for r in page.text.split("<tr>") if "hello · welcome" in r]
        held = [r for r in rows if "对照组（不发送）" in r]
        assert len(rows) == 6 and len(held) == 2
        assert all("(hello.welcome: holdout)" in r for r in held)
    finally:
        ws.close()
