"""A successor engine after a crash or a pause: no needless wait, never blocked."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shequn.clock import FrozenClock, to_micros
from shequn.platforms.console import ConsolePlatform, deliveries
from shequn.sop import lease
from shequn.sop.dispatch import SECOND, Dispatcher
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace
from tests.sop.helpers import queue

TTL = 30 * SECOND


def _take(ws: Workspace, holder: str, now: int) -> int | None:
    with write_transaction(ws.engine) as conn:
        return lease.acquire(conn, lease.ENGINE_LEASE, holder, now, TTL)


@pytest.fixture
def paused() -> Iterator[subprocess.Popen[bytes]]:
    """A live process of this host, stopped with SIGSTOP (then let go)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.send_signal(signal.SIGSTOP)
    yield proc
    proc.send_signal(signal.SIGCONT)
    proc.kill()
    proc.wait()


def test_a_dead_holder_on_this_host_is_taken_over_at_once(
    ws: Workspace, clock: FrozenClock, paused: subprocess.Popen[bytes]
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid no longer exists
    host, now = socket.gethostname(), to_micros(clock.now())
    assert _take(ws, f"{host}:{gone.pid}:dead", now) == 1
    assert _take(ws, f"{host}:{paused.pid}:me", now) == 2  # at once, not after 30 s
    # A paused process may still write: its lease is waited out.
    assert _take(ws, f"{host}:{gone.pid}:next", now + TTL // 2) is None
    # Another host's process cannot be checked: waited out too.
    assert _take(ws, "elsewhere:1:x", now + TTL) == 3
    assert _take(ws, f"{host}:{gone.pid}:last", now + TTL + 1) is None


def test_a_paused_engine_holding_the_delivery_lock_does_not_block(
    ws: Workspace, clock: FrozenClock
) -> None:
    path = ws.root / "data" / "console.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.touch()
    holder = subprocess.Popen(  # takes the lock as a sending engine would, then pauses
        [
            sys.executable,
            "-c",
            "import fcntl, os, signal, sys; f = open(sys.argv[1], 'a+b'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); "
            "os.kill(os.getpid(), signal.SIGSTOP)",
            str(path),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        queue(ws, 1, to_micros(clock.now()))
        console = ConsolePlatform(path, lock_wait=0.2)
        outcome = Dispatcher(ws.engine, {"console": console}, clock, "b").drain_once()
        assert [row.key for row, _ in outcome.retry] == ["k000000"]
        assert "is locked by another process" in outcome.retry[0][1]
    finally:
        holder.send_signal(signal.SIGCONT)
        holder.wait()
    clock.at = clock.at.replace(minute=clock.at.minute + 1)
    outcome = Dispatcher(ws.engine, {"console": console}, clock, "b").drain_once()
    assert [r.key for r in outcome.sent] == ["k000000"]
    assert [d["key"] for d in deliveries(Path(path))] == ["k000000"]
