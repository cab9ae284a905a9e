"""SOP use cases: the tick (decisions into the outbox) and the engine loop.

A tick is two write transactions with the rendering between them, outside any
transaction (docs/adr/0005-render-outside-the-lock.md). The first takes the lease,
records the playbooks in force, moves the lifecycle and evaluates the window since
the last tick into due steps. The second checks that nobody ticked or took the lease
meanwhile (a compare-and-swap of the last tick), then writes the rendered actions to
the outbox with their idempotency keys, records them as events (`sop_action_due`,
`sop_action_missed`, `action_dead`), escalates overdue operator tasks and stores the
window's end, all or nothing; a stale tick writes nothing.
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
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, func, select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.platforms.base import Platform
from shequn.services import audit
from shequn.services.sop_decisions import decision_events, emergencies
from shequn.sop import alerts, journal, late, lease, outbox, recommended, selection
from shequn.sop.content import FOLDER, Library
from shequn.sop.dispatch import Dispatcher, LeaseLost, Outcome, Policy
from shequn.sop.evaluate import DUE_SCHEMA, Window, now_window, thresholds_of
from shequn.sop.kinds import Context
from shequn.sop.model import Playbook
from shequn.sop.outbox import OutboxRow
from shequn.sop.recent import RecentEvents
from shequn.sop.tick import Timing, due_names, evaluate, outbox_rows
from shequn.store import dialect
from shequn.store import state as store_state
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import DEAD, MISSED, playbooks
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
    escalated: int = 0
    playbooks: int = 0
    rejected: list[InputError] = field(default_factory=list)
    evaluate_seconds: float = 0.0
    late_events: int = 0  # events imported after the tick that covered their time
    # Another tick covered the window, or another engine took the lease, while this one
    # rendered: its rows were discarded (docs/adr/0005-render-outside-the-lock.md).
    superseded: bool = False


def sync_playbooks(
    conn: Connection,
    folder: Path,
    now: int,
    library: Library | None = None,
    generated: tuple[list[Playbook], list] = ([], []),
) -> tuple[list[Playbook], list]:
    """The playbooks in force (`sop.selection`), recording what changed.

    With a content `library`, a playbook whose content item is missing or malformed is
    rejected like an invalid edit (the problem names the file, line and path looked for).
    """
    stored = {row.name: row for row in conn.execute(select(playbooks))}
    chosen = selection.select(folder, library, stored, generated)
    for item in chosen.loaded:
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
    if chosen.gone:
        conn.execute(delete(playbooks).where(playbooks.c.name.in_(chosen.gone)))
    _log_rejections(conn, folder, chosen.problems, now)
    return chosen.running, chosen.problems


def _plog(now: int, kind: str, name: str, path: str, **detail: object) -> dict:
    return {"ts": now, "type": kind, "key": name, "detail": {"path": path, **detail}}


def _log_rejections(conn: Connection, folder: Path, problems: list, now: int) -> None:
    """Log each rejected version of a file once (not once per tick)."""
    for problem in problems:
        digest = hashlib.sha256(Path(problem.path).read_bytes()).hexdigest()
        name = f"rejected:{Path(problem.path).name}"[:64]
        if store_state.get(conn, name) != digest:
            store_state.put(conn, name, digest)
            entry = _plog(now, "playbook_rejected", "", problem.path, error=str(problem))
            outbox.log_rows(conn, [entry])


def tick(
    ws: Workspace,
    clock: Clock | None = None,
    *,
    holder: str | None = None,
    timing: Timing | None = None,
    recent: RecentEvents | None = None,
) -> TickResult:
    """Evaluate every playbook over the window since the last tick; fill the outbox.

    A tick that another tick or engine overtook while it rendered queues nothing
    (`TickResult.superseded`). `recent` holds the events between ticks (the engine
    keeps one), so a tick reads only the events appended since the last; a tick that
    fails forgets them.
    """
    # Imported here: they pull in the analytics (DuckDB, ~0.6 s), which a process that
    # only dispatches (and the SIGKILL test's engine, killed 0.2 s after start) must not pay.
    from shequn.sop import watch

    clock, timing = clock or SystemClock(), timing or Timing()
    # Daily metric values are measured before the write lock (only once a day ended).
    readings = watch.prefetch(ws, clock.now())
    try:
        return _tick(ws, clock, holder, timing, recent, readings)
    except BaseException:
        if recent is not None:  # it may hold events of the transaction rolled back
            recent.clear()
        raise


def _due(
    conn: Connection,
    ws: Workspace,
    stages: Any,
    running: list[Playbook],
    window: Window,
    recent: RecentEvents | None,
) -> tuple[pl.DataFrame, late.Late]:
    """The steps due in the window, with those of events imported late (sop.late)."""
    if running and window.end > window.start:
        due = evaluate(conn, ws.settings, stages, running, window, recent)
    else:
        due = pl.DataFrame(schema=DUE_SCHEMA)
    remembered = store_state.get(conn, late.SEEN)
    found = late.find(conn, ws.settings, stages, running, window, remembered)
    return (pl.concat([due, found.due]) if found.due.height else due), found


@dataclass(frozen=True)
class _Decided:
    """What the tick's first transaction decided: due steps, not yet rendered, and what
    the second transaction checks before it queues them."""

    window: Window
    last: str | None  # the last tick as read (the compare-and-swap's expected value)
    token: int | None  # the lease token held (None: a tick without a holder)
    running: list[Playbook]
    problems: list
    due: pl.DataFrame
    found: late.Late
    names: dict[str, str | None]  # the due members' display names
    library: Library
    seconds: float  # spent evaluating


def _tick(
    ws: Workspace,
    clock: Clock,
    holder: str | None,
    timing: Timing,
    recent: RecentEvents | None,
    readings: Any,
) -> TickResult:
    """Decide (a write transaction), render (no transaction), queue (a write
    transaction that first checks nobody ticked or took the lease meanwhile)."""
    now = to_micros(clock.now())
    decided = _decide(ws, clock, holder, now, recent, readings)
    if decided is None:
        return TickResult(leased=False)
    # Rendering is bounded per template but not per tick (thousands of members): it
    # runs outside any transaction, so imports and other writers never wait for it.
    # Recommendations read months of clicks: a read of its own, never under the lock.
    with ws.engine.connect() as conn:
        picks = recommended.for_due(
            conn, ws.root, ws.settings, decided.running, decided.due, decided.library, now
        )
    ctx = Context(ws.settings, decided.library, picks)
    rows = outbox_rows(ws.settings, decided.running, decided.due, decided.names, now, timing, ctx)
    rows = late.explain(rows, set(decided.found.due["key"].to_list()))
    return _queue(ws, clock, holder, decided, rows, now)


def _decide(
    ws: Workspace,
    clock: Clock,
    holder: str | None,
    now: int,
    recent: RecentEvents | None,
    readings: Any,
) -> _Decided | None:
    """The first transaction: lease, playbooks in force, lifecycle, due steps; None
    when another engine holds the lease."""
    from shequn.activities.plan import promotion_playbooks  # off the engine's start-up
    from shequn.sop import lifecycle  # see tick(): it pulls in the analytics

    with write_transaction(ws.engine) as conn:
        token = None
        if holder is not None:
            token = lease.acquire(conn, lease.ENGINE_LEASE, holder, now, Policy().lease_ttl)
            if token is None:
                return None
        library = Library(ws.root / FOLDER)
        plans = promotion_playbooks(ws.root, ws.settings.zone, now)
        running, problems = sync_playbooks(conn, ws.root / "playbooks", now, library, plans)
        # The plan and positions, loaded once: `advance` moves them, the scopes read them.
        stages = lifecycle.load(conn, ws.root)
        lifecycle.advance(conn, ws.settings, ws.root, stages, now, thresholds_of(running), readings)
        last = store_state.get(conn, LAST_TICK)
        window = now_window(int(last) if last else None, clock.now())
        started = time.perf_counter()
        due, found = _due(conn, ws, stages, running, window, recent)
        seconds = time.perf_counter() - started
        names = due_names(conn, due)
    return _Decided(window, last, token, running, problems, due, found, names, library, seconds)


def _queue(
    ws: Workspace,
    clock: Clock,
    holder: str | None,
    decided: _Decided,
    rows: list[OutboxRow],
    now: int,
) -> TickResult:
    """The second transaction: if this tick is still the next one (the last tick and
    the lease unchanged since `_decide`), queue the rendered rows and move on;
    otherwise discard them (another tick covers the window; keys keep it once)."""
    window = decided.window
    with write_transaction(ws.engine) as conn:
        if not _still_next(conn, holder, decided, to_micros(clock.now())):
            return TickResult(leased=False, window=window, superseded=True)
        new = outbox.enqueue(conn, rows)
        journal.record(conn, [e for row in new for e in decision_events(row, now)])
        outbox.enqueue(conn, emergencies(ws.settings, new, now))
        escalated = alerts.queue_overdue(conn, ws.settings, now)
        store_state.put(conn, late.SEEN, decided.found.state)
        if new:
            audit.record(conn, clock, "sop_tick", queued=len(new), window_end=window.end)
    return TickResult(
        leased=True,
        window=window,
        due=decided.due.height,
        queued=len(new),
        missed=sum(r.state == MISSED for r in new),
        dead=sum(r.state == DEAD for r in new),
        escalated=escalated,
        playbooks=len(decided.running),
        rejected=decided.problems,
        evaluate_seconds=decided.seconds,
        late_events=decided.found.events,
    )


def _still_next(conn: Connection, holder: str | None, decided: _Decided, now: int) -> bool:
    """Keep the lease (if nobody took it) and move the last tick from what `_decide`
    read to this window's end (if nobody moved it): both, or this tick is stale.

    The lease goes first: it writes only when kept, and the swap only when it wins,
    so a stale tick returns having changed nothing but its own lease's expiry.
    """
    if holder is not None and decided.token is not None:
        ttl = Policy().lease_ttl
        if not lease.keep(conn, lease.ENGINE_LEASE, holder, decided.token, now, ttl):
            return False
    return store_state.swap(conn, LAST_TICK, decided.last, str(decided.window.end))


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
    # Set by live ingest when events arrive: tick now instead of at the next interval.
    wake: threading.Event = field(default_factory=threading.Event)

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set (SIGTERM); then release the lease. Whoever sets
        `stop` also sets `wake`, so a waiting engine stops at once."""
        dispatcher = Dispatcher(
            self.ws.engine, self.platforms, self.clock, self.holder, self.policy, self.ws.settings
        )
        recent = RecentEvents()  # the events ticks read, kept between them
        totals = {"ticks": 0, "queued": 0, "sent": 0, "failed": 0, "dead": 0, "kept_events": 0}
        next_tick = next_health = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_tick or self.wake.is_set():
                self.wake.clear()
                result = tick(self.ws, self.clock, holder=self.holder, recent=recent)
                totals["ticks"] += result.leased
                totals["queued"] += result.queued
                totals["kept_events"] = recent.rows()
                if result.superseded:
                    log.warning(
                        "another engine ticked or took the lease while this tick rendered: "
                        "its rows were discarded (the window is the other engine's)"
                    )
                if result.late_events:
                    log.warning(
                        "%d events were imported after the tick that covered their time: "
                        "their steps were evaluated now (missed when past the grace)",
                        result.late_events,
                    )
                next_tick = time.monotonic() + self.tick_every
            outcome = self._drain(dispatcher)
            totals["sent"] += outcome.done
            totals["failed"] += len(outcome.retry)
            totals["dead"] += len(outcome.dead)
            if time.monotonic() >= next_health:
                self._health(totals, outcome.leased)
                next_health = time.monotonic() + self.health_every
            if outcome.done == 0:
                self.wake.wait(self.drain_every)
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
