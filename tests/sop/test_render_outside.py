"""The tick renders outside any transaction (SQLite and PostgreSQL): while it renders,
an import and another engine's lease check go through; a tick whose window another
tick covered, or whose lease another engine took, while it rendered queues nothing,
and every action is queued exactly once.

The engines are child processes (`tests.sop.slow_render`) with an action kind whose
first render waits for the test: a slow template, held as long as the test needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.services.sop import LAST_TICK, tick
from shequn.sop import lease
from shequn.sop.dispatch import Policy
from shequn.store import state
from shequn.store.engine import write_transaction
from shequn.store.schema import events
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.helpers.paths import ROOT
from tests.helpers.process import child_env
from tests.sop.helpers import add_events, at, write_playbook

SLOW = """
    name: slow
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: welcome
        at: "+0m"
        action: {type: slow, text: "hi {{ member.key }}"}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
"""
JOINED = ("wx:a", "wx:b", "wx:c")  # joined at 01:00 UTC
START = "2026-11-01T00:00:00+00:00"
# 01:00 UTC in µs: the joins' time, so their welcome's key.
JOIN_US = 1_793_494_800_000_000


def _engine(ws: Workspace, gate: Path, holder: str, instant: str) -> subprocess.Popen[str]:
    gate.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sop.slow_render", str(ws.root), str(gate), holder, instant],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )


def _rendering(gate: Path, proc: subprocess.Popen[str]) -> None:
    """Wait until the engine is inside its first render."""
    deadline = time.monotonic() + 60
    while not (gate / "rendering").exists():
        assert proc.poll() is None, "the engine ended before it rendered"
        assert time.monotonic() < deadline, "the engine never rendered"
        time.sleep(0.01)


def _result(proc: subprocess.Popen[str]) -> dict:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


def _tick_free(ws: Workspace, tmp_path: Path, holder: str, instant: str) -> dict:
    """A whole tick of an engine whose renders are never held."""
    gate = tmp_path / f"free-{holder}-{instant[11:16]}"
    gate.mkdir()
    (gate / "go").touch()
    return _result(_engine(ws, gate, holder, instant))


def _start(ws: Workspace, clock: FrozenClock) -> None:
    tick(ws, at(clock, START))  # no playbook yet: the first tick records the time
    write_playbook(ws, "slow", SLOW)
    add_events(ws, [("2026-11-01T01:00:00+00:00", "club", m, "join", "") for m in JOINED])


def _queued(ws: Workspace) -> list[tuple[str, bool]]:
    with ws.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.key, outbox.c.payload).order_by(outbox.c.key))
        return [(key, json.loads(payload)["go_before_render"]) for key, payload in rows]


def _decisions(ws: Workspace) -> Counter[str]:
    with ws.engine.connect() as conn:
        query = select(events.c.source_id).where(events.c.type == "sop_action_due")
        return Counter(conn.scalars(query))


def _last_tick(ws: Workspace) -> str | None:
    with ws.engine.connect() as conn:
        return state.get(conn, LAST_TICK)


def _micros(instant: str) -> str:
    return str(to_micros(datetime.fromisoformat(instant)))


def _keys(members: tuple[str, ...], due: int = JOIN_US) -> list[str]:
    return [f"slow|welcome|{m}|{due}" for m in members]


def test_an_import_and_a_lease_check_go_through_while_the_tick_renders(
    ws: Workspace, clock: FrozenClock, tmp_path: Path
) -> None:
    _start(ws, clock)
    gate = tmp_path / "gate"
    engine = _engine(ws, gate, "engine-a", "2026-11-01T01:30:00+00:00")
    _rendering(gate, engine)
    # Before: the tick held the write lock while it rendered, so on SQLite this import
    # waited for it (and on PostgreSQL the lease check waited on the lease row).
    add_events(ws, [("2026-11-01T01:20:00+00:00", "club", "wx:during", "join", "")], tag="d")
    now = to_micros(at(clock, "2026-11-01T01:30:00+00:00").now())
    with write_transaction(ws.engine) as conn:
        taken = lease.acquire(conn, lease.ENGINE_LEASE, "engine-b", now, Policy().lease_ttl)
    assert taken is None  # engine-a's lease, answered at once
    (gate / "go").touch()  # only now may the render finish
    assert _result(engine) == {
        "leased": True,
        "superseded": False,
        "due": 3,
        "queued": 3,
        "late_events": 0,
    }
    # Every row rendered after the import and the lease check were done.
    assert _queued(ws) == [(key, True) for key in _keys(JOINED)]
    # The join imported during the render is behind that tick: the next one finds it.
    after = _tick_free(ws, tmp_path, "engine-a", "2026-11-01T02:00:00+00:00")
    assert (after["queued"], after["late_events"]) == (1, 1)
    during = _keys(("wx:during",), JOIN_US + 20 * 60_000_000)
    assert [key for key, _ in _queued(ws)] == sorted(_keys(JOINED) + during)


@pytest.mark.parametrize("other", ["ticks", "takes-the-lease-and-ticks", "takes-the-lease"])
def test_a_tick_overtaken_while_it_renders_queues_nothing(
    ws: Workspace, clock: FrozenClock, tmp_path: Path, other: str
) -> None:
    """Engine a decides, then renders (held); meanwhile the other ticks the same window
    (without a lease, as `sop tick`), or takes the expired lease and ticks, or only
    takes the lease. Engine a must then queue nothing; each action is queued once."""
    _start(ws, clock)
    gate = tmp_path / "gate"
    holder = "-" if other == "ticks" else "engine-a"
    engine = _engine(ws, gate, holder, "2026-11-01T01:30:00+00:00")
    _rendering(gate, engine)
    later = "2026-11-01T01:31:00+00:00"  # engine-a's 30 s lease has expired
    if other == "takes-the-lease":
        with write_transaction(ws.engine) as conn:
            now = to_micros(at(clock, later).now())
            assert lease.acquire(conn, lease.ENGINE_LEASE, "engine-b", now, Policy().lease_ttl)
    else:
        won = _tick_free(ws, tmp_path, "-" if other == "ticks" else "engine-b", later)
        assert (won["superseded"], won["queued"]) == (False, 3)
    (gate / "go").touch()
    lost = _result(engine)
    assert (lost["leased"], lost["superseded"], lost["queued"]) == (False, True, 0)
    if other == "takes-the-lease":  # nothing queued, the window still open
        assert (_queued(ws), _last_tick(ws)) == ([], _micros(START))
        won = _tick_free(ws, tmp_path, "engine-b", "2026-11-01T01:32:00+00:00")
        assert won["queued"] == 3
    assert [key for key, _ in _queued(ws)] == _keys(JOINED)
    assert _decisions(ws) == Counter(f"sop_action_due|{key}" for key in _keys(JOINED))


def test_swap_moves_a_value_only_from_what_was_read(ws: Workspace) -> None:
    with write_transaction(ws.engine) as conn:
        assert state.swap(conn, "x", None, "1")  # no value yet: stored
        assert not state.swap(conn, "x", None, "2")  # someone stored one meanwhile
        assert not state.swap(conn, "x", "2", "3")  # not what it holds
        assert state.swap(conn, "x", "1", "3")
        assert state.get(conn, "x") == "3"


def test_keep_renews_an_expired_lease_nobody_took(ws: Workspace) -> None:
    ttl = 30
    with write_transaction(ws.engine) as conn:
        token = lease.acquire(conn, lease.ENGINE_LEASE, "a", 100, ttl)
        assert token == 1
        assert lease.keep(conn, lease.ENGINE_LEASE, "a", token, 200, ttl)  # expired, untaken
        assert lease.holds(conn, lease.ENGINE_LEASE, "a", token, 220)  # renewed to 230
        assert lease.acquire(conn, lease.ENGINE_LEASE, "b", 300, ttl) == 2
        assert not lease.keep(conn, lease.ENGINE_LEASE, "a", token, 301, ttl)
        assert lease.acquire(conn, lease.ENGINE_LEASE, "a", 400, ttl) == 3
        assert not lease.keep(conn, lease.ENGINE_LEASE, "a", token, 401, ttl)  # an old token
