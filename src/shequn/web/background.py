"""Answers too slow for a request, computed in a background thread and kept.

The member profiles behind the Members page (tier, lifecycle state, churn risk) read
every person's history and train the churn model: seconds at 300k events, tens of
seconds at a million members; the member directory takes seconds at a million. A
request never computes them: the first one starts the computation and answers a page
that polls it (HTMX) and reloads when it is done; later ones get the kept answer with
its age, and once it is stale (older than the time to live, or computed for another
version of what it depends on), one more computation starts in the background while
the kept answer is still served. The opinion leaders (a year of interactions, about
15 s at a million members) are kept the same way, one answer per scope and day.

Each `Refreshing` runs one computation at a time per workspace: a request for another
key meanwhile is told of the running one (its page reloads when that is done, and then
starts its own), so a burst of requests never runs many heavy computations at once.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from shequn.web.jobs import Job, in_thread
from shequn.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    """An answer and what it was computed for."""

    value: T
    at: datetime  # the clock's time it describes
    version: Hashable  # of what it was computed from (the caller's)

    def age(self, now: datetime) -> timedelta:
        return max(now - self.at, timedelta(0))


@dataclass(frozen=True)
class Found(Generic[T]):
    """What a request finds, all read at one instant."""

    kept: Kept[T] | None  # None until the first answer is ready
    job: Job | None  # the latest computation: running, or finished (with its error)
    running: bool


@dataclass
class _Slot(Generic[T]):
    kept: Kept[T] | None = None
    job: Job | None = None


def _idle(slot: _Slot[T]) -> bool:
    return slot.job is None or slot.job.finished


class Refreshing(Generic[T]):
    """Answers per workspace (and `key`, for answers that depend on the request: the
    last `size` of them kept per workspace), each refreshed in the background when its
    version changes or, with a `ttl`, once it is that old."""

    def __init__(self, name: str, ttl: timedelta | None = None, size: int = 32) -> None:
        self.name = name
        self.ttl = ttl
        self.size = size
        self._lock = threading.Lock()
        self._slots: OrderedDict[tuple[Path, Hashable], _Slot[T]] = OrderedDict()

    def get(
        self,
        ws: Workspace,
        user: str,
        now: datetime,
        version: Hashable,
        compute: Callable[[datetime], T],
        key: Hashable = None,
    ) -> Found[T]:
        """The kept answer and the latest computation. Starts one, as of `now`, when
        there is no answer yet or the kept one is stale, and none is running for the
        workspace; while one runs for another key, that one is the job found."""
        with self._lock:
            slot = self._slot((ws.root, key))
            kept = slot.kept
            stale = (
                kept is None
                or kept.version != version
                or (self.ttl is not None and kept.age(now) >= self.ttl)
            )
            if stale and (slot.job is None or slot.job.finished):
                busy = self._running(ws.root)
                if busy is not None:
                    return Found(kept, busy, True)
                slot.job = self._start(slot, user, now, version, compute)
            job = slot.job
            return Found(kept, job, job is not None and not job.finished)

    def _slot(self, key: tuple[Path, Hashable]) -> _Slot[T]:
        """The slot of `key`, made the newest; the workspace's oldest idle ones past
        `size` dropped (a process may serve several workspaces: tests do)."""
        slot = self._slots.setdefault(key, _Slot())
        self._slots.move_to_end(key)
        mine = [k for k in self._slots if k[0] == key[0]]
        idle = [k for k in mine if k != key and _idle(self._slots[k])]
        for old in idle[: max(0, len(mine) - self.size)]:
            del self._slots[old]
        return slot

    def _running(self, root: Path) -> Job | None:
        return next(
            (s.job for (where, _k), s in self._slots.items() if where == root and not _idle(s)),
            None,
        )

    def job(self, job_id: str) -> Job | None:
        with self._lock:
            return next((s.job for s in self._slots.values() if s.job and s.job.id == job_id), None)

    def _start(
        self,
        slot: _Slot[T],
        user: str,
        now: datetime,
        version: Hashable,
        compute: Callable[[datetime], T],
    ) -> Job:
        job = Job(id=secrets.token_urlsafe(12), name=self.name, user=user)

        done: list[Kept[T]] = []

        def finish() -> None:
            with self._lock:  # the answer and the end of its job are seen together
                slot.kept = done[0] if done else slot.kept
                job.finished = True

        in_thread(job, lambda: done.append(Kept(compute(now), now, version)), finish)
        return job
