"""Exactly once under SIGKILL, and one engine at a time (on SQLite and PostgreSQL).

The fast run dispatches 2,000 actions; `pytest -m slow tests/sop` runs 10,000.
"""

from __future__ import annotations

import collections
import json
import random
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from shequn.clock import FrozenClock, SystemClock, to_micros
from shequn.platforms.console import deliveries
from shequn.store.schema import events
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.helpers.paths import ROOT
from tests.helpers.process import child_env
from tests.sop.helpers import queue


def _now() -> int:
    """The engine processes run on the system clock: due now, not in the frozen past."""
    return to_micros(SystemClock().now())


def _start(ws: Workspace, ttl: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.sop.engine_proc", str(ws.root), str(ttl)],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
    )


def _started(ws: Workspace, ttl: float) -> subprocess.Popen[bytes]:
    """An engine process that has imported its modules and opened the workspace: the
    kill clock starts there, so a slow start (a loaded machine) cannot eat the window."""
    proc = _start(ws, ttl)
    assert proc.stdout is not None
    proc.stdout.readline()  # "ready" (or nothing, if it died first)
    return proc


def _kill_and_restart(ws: Workspace, count: int, seed: int) -> int:
    """Run the engine, SIGKILL it at random moments until it finishes; the kills made.

    The first three kills wait until the engine has delivered something more since the
    last start, so every run kills it mid-dispatch at least three times.
    """
    rng = random.Random(seed)
    record = ws.root / "data" / "console.jsonl"
    kills = 0
    while True:
        proc = _started(ws, ttl=0.3)
        if kills < 3:
            seen = len(deliveries(record))
            while proc.poll() is None and len(deliveries(record)) <= seen:
                time.sleep(0.01)
        try:
            proc.wait(timeout=rng.uniform(0.0, 0.2) if kills < 3 else rng.uniform(0.2, 1.2))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0
        return kills


def _check_exactly_once(ws: Workspace, count: int) -> None:
    keys = [d["key"] for d in deliveries(ws.root / "data" / "console.jsonl")]
    twice = [k for k, n in collections.Counter(keys).items() if n > 1]
    assert (len(keys), len(set(keys)), twice) == (count, count, [])
    assert set(keys) == {f"k{i:06d}" for i in range(count)}
    with ws.engine.connect() as conn:
        states = dict(
            conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all()
        )
        logged = conn.scalar(
            select(func.count()).select_from(events).where(events.c.type == "message_sent")
        )
    assert states == {"sent": count}
    assert logged == count


def _run(ws: Workspace, clock: FrozenClock, count: int) -> int:
    queue(ws, count, _now())
    ws.close()  # the engine processes open their own connections
    kills = _kill_and_restart(ws, count, seed=count)
    print(f"{count} actions, {kills} SIGKILLs")
    _check_exactly_once(ws, count)
    return kills


def test_sigkill_at_random_moments_delivers_each_action_once(
    ws: Workspace, clock: FrozenClock
) -> None:
    kills = _run(ws, clock, 2_000)
    assert kills >= 3


@pytest.mark.slow
def test_sigkill_ten_thousand_actions(ws: Workspace, clock: FrozenClock) -> None:
    kills = _run(ws, clock, 10_000)
    assert kills >= 3


def test_two_engines_on_one_workspace_do_not_both_send(ws: Workspace, clock: FrozenClock) -> None:
    queue(ws, 1_000, _now())
    ws.close()
    first, second = _start(ws, ttl=30), _start(ws, ttl=30)
    started = time.monotonic()
    while first.poll() is None and time.monotonic() - started < 60:
        time.sleep(0.05)
    while second.poll() is None and time.monotonic() - started < 60:
        time.sleep(0.05)
    assert (first.returncode, second.returncode) == (0, 0)
    _check_exactly_once(ws, 1_000)
    with ws.engine.connect() as conn:
        sent = select(events.c.meta).where(events.c.type == "message_sent")
        engines = {json.loads(d)["engine"] for d in conn.scalars(sent)}
    assert len(engines) == 1  # the other engine never held the lease while work remained
