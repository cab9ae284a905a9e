"""SOP use cases: the tick (decisions into the outbox) and the engine loop.

A tick is one write transaction: the playbooks in force are recorded, the window
since the last tick is evaluated, due actions are written to the outbox with their
idempotency keys, and the window's end is stored, all or nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, delete, func, select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.platforms.base import Platform
from shequn.services import audit
from shequn.sop import lease, outbox
from shequn.sop.dispatch import Dispatcher, LeaseLost, Outcome, Policy
from shequn.sop.evaluate import DUE_SCHEMA, Window, now_window
from shequn.sop.loader import check, scan
from shequn.sop.model import Playbook
from shequn.sop.tick import Timing, evaluate, outbox_rows
from shequn.store import dialect
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import DEAD, MISSED, playbooks, state
from shequn.store.sop_schema import outbox as outbox_table
from shequn.workspace import Workspace

log = logging.getLogger("shequn.sop")
LAST_TICK = "last_tick"


def holder_name() -> str:
    """This engine's name in the lease: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class TickResult:
    """What one tick decided."""

    leased: bool
    window: Window | None = None
    due: int = 0
    queued: int = 0
    missed: int = 0
    dead: int = 0
    playbooks: int = 0
    rejected: list[InputError] = field(default_factory=list)
    evaluate_seconds: float = 0.0


def get_state(conn: Connection, name: str) -> str | None:
    return conn.scalar(select(state.c.value).where(state.c.name == name))


def put_state(conn: Connection, name: str, value: str) -> None:
    dialect.upsert(conn, state, [{"name": name, "value": value}], update=["value"])


def sync_playbooks(conn: Connection, folder: Path, now: int) -> tuple[list[Playbook], list]:
    """The playbooks in force: valid files, and the last valid version of invalid ones."""
    loaded, problems = scan(folder)
    stored = {row.name: row for row in conn.execute(select(playbooks))}
    running = [item.playbook for item in loaded]
    for item in loaded:
        old = stored.get(item.playbook.name)
        if old is None or old.digest != item.digest:
            row = {
                "name": item.playbook.name,
                "path": item.path,
                "digest": item.digest,
                "source": item.source,
                "activated_ts": old.activated_ts if old else now,
                "loaded_ts": now,
            }
            dialect.upsert(conn, playbooks, [row], update=["path", "digest", "source", "loaded_ts"])
            outbox.log_rows(conn, [_plog(now, "playbook_loaded", item.playbook.name, item.path)])
    bad_paths = {p.path for p in problems}
    names = {pb.name for pb in running}
    for name, row in stored.items():
        if name in names:
            continue
        if row.path in bad_paths:  # an invalid edit: the previous version keeps running
            previous, _ = check(row.source, row.path)
            if previous is not None:
                running.append(previous)
        else:
            conn.execute(delete(playbooks).where(playbooks.c.name == name))
    _log_rejections(conn, folder, problems, now)
    return running, problems


def _plog(now: int, kind: str, name: str, path: str, **detail: object) -> dict:
    return {"ts": now, "type": kind, "key": name, "detail": {"path": path, **detail}}


def _log_rejections(conn: Connection, folder: Path, problems: list, now: int) -> None:
    """Log each rejected version of a file once (not once per tick)."""
    for problem in problems:
        digest = hashlib.sha256(Path(problem.path).read_bytes()).hexdigest()
        name = f"rejected:{Path(problem.path).name}"[:64]
        if get_state(conn, name) != digest:
            put_state(conn, name, digest)
            entry = _plog(now, "playbook_rejected", "", problem.path, error=str(problem))
            outbox.log_rows(conn, [entry])


def tick(
    ws: Workspace,
    clock: Clock | None = None,
    *,
    holder: str | None = None,
    timing: Timing | None = None,
) -> TickResult:
    """Evaluate every playbook over the window since the last tick; fill the outbox."""
    clock, timing = clock or SystemClock(), timing or Timing()
    now = to_micros(clock.now())
    with write_transaction(ws.engine) as conn:
        if (
            holder is not None
            and lease.acquire(conn, lease.ENGINE_LEASE, holder, now, Policy().lease_ttl) is None
        ):
            return TickResult(leased=False)
        running, problems = sync_playbooks(conn, ws.root / "playbooks", now)
        last = get_state(conn, LAST_TICK)
        window = now_window(int(last) if last else None, clock.now())
        started = time.perf_counter()
        if running and window.end > window.start:
            due = evaluate(conn, ws.settings, running, window)
        else:
            due = pl.DataFrame(schema=DUE_SCHEMA)
        seconds = time.perf_counter() - started
        new = outbox.enqueue(conn, outbox_rows(conn, ws.settings, running, due, now, timing))
        outbox.log_rows(conn, [_due_log(row, now) for row in new])
        put_state(conn, LAST_TICK, str(window.end))
        result = TickResult(
            leased=True,
            window=window,
            due=due.height,
            queued=len(new),
            missed=sum(r["state"] == MISSED for r in new),
            dead=sum(r["state"] == DEAD for r in new),
            playbooks=len(running),
            rejected=problems,
            evaluate_seconds=seconds,
        )
        if new:
            audit.record(conn, clock, "sop_tick", queued=len(new), window_end=window.end)
    return result


def _due_log(row: dict, now: int) -> dict:
    kind = {MISSED: "sop_action_missed", DEAD: "action_dead"}.get(row["state"], "sop_action_due")
    return {
        "ts": now,
        "type": kind,
        "key": row["key"],
        "community": row["community"],
        "target": row["target"],
        "detail": {"due_ts": row["due_ts"], "late": bool(row["late"]), "reason": row["reason"]},
    }


@dataclass
class Engine:
    """The engine loop: tick every `tick_every` s, drain the outbox in between."""

    ws: Workspace
    platforms: Mapping[str, Platform]
    clock: Clock = field(default_factory=SystemClock)
    holder: str = field(default_factory=holder_name)
    policy: Policy = field(default_factory=Policy)
    tick_every: float = 60.0
    drain_every: float = 1.0
    health_every: float = 60.0

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set (SIGTERM); then release the lease."""
        dispatcher = Dispatcher(
            self.ws.engine, self.platforms, self.clock, self.holder, self.policy
        )
        totals = {"ticks": 0, "queued": 0, "sent": 0, "failed": 0, "dead": 0}
        next_tick = next_health = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_tick:
                result = tick(self.ws, self.clock, holder=self.holder)
                totals["ticks"] += result.leased
                totals["queued"] += result.queued
                next_tick = time.monotonic() + self.tick_every
            outcome = self._drain(dispatcher)
            totals["sent"] += outcome.done
            totals["failed"] += len(outcome.retry)
            totals["dead"] += len(outcome.dead)
            if time.monotonic() >= next_health:
                self._health(totals, outcome.leased)
                next_health = time.monotonic() + self.health_every
            if outcome.done == 0:
                stop.wait(self.drain_every)
        with write_transaction(self.ws.engine) as conn:
            lease.release(conn, lease.ENGINE_LEASE, self.holder)
        log.info("stopped; lease released")

    def _drain(self, dispatcher: Dispatcher) -> Outcome:
        try:
            return dispatcher.drain_once()
        except LeaseLost:
            log.warning("lease lost to another engine; waiting")
            return Outcome(leased=False)

    def _health(self, totals: dict[str, int], leased: bool) -> None:
        with write_transaction(self.ws.engine) as conn:
            waiting = conn.scalar(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.state.in_(("pending", "retry")))
            )
        fields = " ".join(f"{k}={v}" for k, v in totals.items())
        log.info("health: lease=%s waiting=%s %s", "held" if leased else "standby", waiting, fields)
