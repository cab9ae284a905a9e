"""`shequn run` with live platforms: listeners, reconciliation, the tick and the
dispatcher in one asyncio process.

Each adapter listens from its stored position and reconnects with backoff; a revoked
token stops that adapter alone (its health line says why) while the others go on.
The SOP engine (tick + dispatcher) runs in a worker thread and is woken as soon as
events are stored; deliveries go back to the loop through `AdapterPlatform`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from shequn.platforms.base import (
    Adapter,
    Capability,
    Platform,
    TransientError,
    Unauthorized,
    member_key,
)
from shequn.platforms.delivery import AdapterPlatform
from shequn.services import live
from shequn.services.bot_runner import Runner
from shequn.services.sop import Engine
from shequn.sop.dispatch import Policy
from shequn.store.engine import read_transaction
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace

log = logging.getLogger("shequn.run")


@dataclass
class Health:
    """What the health line says about one adapter."""

    connected: bool = False
    stopped: bool = False
    last_event: datetime | None = None
    last_batch: float | None = None  # monotonic time of the last stored batch
    events: int = 0
    last_error: str = ""

    def line(self, name: str, queued: int, now: datetime) -> str:
        lag = f"{(now - self.last_event).total_seconds():.1f}s" if self.last_event else "-"
        state = "stopped" if self.stopped else ("connected" if self.connected else "reconnecting")
        last = self.last_event.isoformat(timespec="seconds") if self.last_event else "-"
        return (
            f"{name}: {state} events={self.events} last_event={last} lag={lag} "
            f"queue={queued} last_error={self.last_error or '-'}"
        )


@dataclass
class Backoff:
    """1 s, 2 s, 4 s ... up to `most`; reset after a success."""

    first: float = 1.0
    most: float = 60.0
    current: float = 0.0

    def next(self, asked: float | None = None) -> float:
        self.current = min(self.most, self.current * 2 if self.current else self.first)
        return max(self.current, asked or 0.0)

    def reset(self) -> None:
        self.current = 0.0


@dataclass
class LiveRun:
    """One `shequn run` process with live adapters.

    Args:
        ws: the workspace.
        adapters: adapter name ([platforms.NAME]) -> adapter.
        extra: other dispatcher platforms (the console, webhooks).
        tick_every, health_every: seconds between ticks and between health lines.
        reconcile_every: seconds between member-list reconciliations.
        bots: the group bot of an adapter, handed every batch once it is stored.
        policy: the dispatcher's retries and lease.
    """

    ws: Workspace
    adapters: Mapping[str, Adapter]
    extra: Mapping[str, Platform] = field(default_factory=dict)
    tick_every: float = 60.0
    health_every: float = 60.0
    reconcile_every: float = 600.0
    policy: Policy = field(default_factory=Policy)
    health: dict[str, Health] = field(default_factory=dict)
    bots: Mapping[str, Runner] = field(default_factory=dict)  # by adapter name (docs/bot.md)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until SIGINT/SIGTERM (or `stop` is set); then stop everything cleanly."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        platforms: dict[str, Platform] = dict(self.extra)
        for name, adapter in self.adapters.items():
            platforms[name] = AdapterPlatform(adapter, self.ws.settings, loop)
            self.health[name] = Health()
        engine = Engine(
            self.ws,
            platforms,
            policy=self.policy,
            tick_every=self.tick_every,
            health_every=self.health_every,
        )
        engine_stop = threading.Event()
        engine_task = asyncio.create_task(asyncio.to_thread(engine.run, engine_stop))
        tasks = [asyncio.create_task(self._listen(n, a, engine)) for n, a in self.adapters.items()]
        tasks.append(asyncio.create_task(self._report()))
        await asyncio.wait(
            [asyncio.create_task(stop.wait()), engine_task], return_when="FIRST_COMPLETED"
        )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        engine_stop.set()
        engine.wake.set()
        await engine_task
        for adapter in self.adapters.values():
            await adapter.close()
        log.info("stopped")

    async def _listen(self, name: str, adapter: Adapter, engine: Engine) -> None:
        """Listen from the stored position; store each batch; reconnect with backoff."""
        health, backoff = self.health[name], Backoff()
        reconciled_at, seen = 0.0, {}  # type: float, dict[str, frozenset[str]]
        while True:
            try:
                position = await asyncio.to_thread(live.position, self.ws, name)
                async for batch in adapter.listen(position):
                    result = await asyncio.to_thread(live.ingest, self.ws, name, batch)
                    health.connected, health.last_error = True, ""
                    backoff.reset()
                    if batch.events:
                        health.last_event = max(e.ts for e in batch.events)
                        health.events += result.added
                    if result.added:
                        engine.wake.set()
                    if name in self.bots:
                        await self.bots[name].handle(batch)
                    if time.monotonic() - reconciled_at >= self.reconcile_every:
                        await self._reconcile(name, adapter, seen)
                        reconciled_at = time.monotonic()
            except Unauthorized as exc:
                health.connected, health.stopped, health.last_error = False, True, str(exc)
                log.error("%s stopped: %s", name, exc)
                return
            except TransientError as exc:
                health.connected, health.last_error = False, str(exc)
                wait = backoff.next(exc.retry_after)
                log.warning("%s: %s; reconnecting in %.0f s", name, exc, wait)
                await asyncio.sleep(wait)
            except Exception as exc:  # a bug or a refusal: keep the process, stop nothing else
                health.connected, health.last_error = False, f"{type(exc).__name__}: {exc}"
                log.exception("%s: listener failed; restarting", name)
                await asyncio.sleep(backoff.next())

    async def _reconcile(
        self, name: str, adapter: Adapter, seen: dict[str, frozenset[str]]
    ) -> None:
        """Compare each bound group's member list with the log (lost callbacks); a
        difference is appended once two runs in a row have found it (`seen`).
        Platforms whose bots cannot list members (Telegram) are left out."""
        if Capability.MEMBER_LIST not in adapter.capabilities:
            return
        bound = [c for c in self.ws.settings.communities if c.platform == name and c.group]
        me = member_key(name, (await adapter.identity()).user_id) if bound else ""
        for community in bound:
            listed = await adapter.members(community.group)
            present = [user for user in listed if member_key(name, user) != me]  # not the bot
            found = await asyncio.to_thread(
                live.reconcile,
                self.ws,
                name,
                community.group,
                present,
                datetime.now(UTC),
                seen.get(community.group, frozenset()),
            )
            seen[community.group] = found.differences
            if found.joined or found.left:
                log.info(
                    "%s: reconciled %s: +%d -%d",
                    name,
                    community.key,
                    len(found.joined),
                    len(found.left),
                )

    def _queued(self) -> dict[str, int]:
        with read_transaction(self.ws.engine) as conn:
            rows = conn.execute(
                select(outbox.c.platform, func.count())
                .where(outbox.c.state.in_(("pending", "retry")))
                .group_by(outbox.c.platform)
            )
            return {platform: n for platform, n in rows}

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.health_every)
            queued = await asyncio.to_thread(self._queued)
            now = datetime.now(UTC)
            for name, health in self.health.items():
                log.info("health: %s", health.line(name, queued.get(name, 0), now))
