"""Answers that depend only on the log and the settings, kept until either changes.

The version of a workspace is the newest event id and the settings file's mtime: an
import, a simulated history, an SOP action (all events) or an edited goal makes every
cached answer stale at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from threading import Lock
from typing import Any, TypeVar

from sqlalchemy import func, select

from shequn.config import SETTINGS_FILE
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace

T = TypeVar("T")
SIZE = 64


class Memo:
    """A small LRU of computed answers per workspace version."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = Lock()

    def get(self, ws: Workspace, key: Hashable, compute: Callable[[], T]) -> T:
        full = (version(ws), key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]
        value = compute()
        with self._lock:
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


class Timed:
    """Answers kept for `ttl` after they were computed, per workspace and settings version.

    For answers too slow to recompute after every new event (a live group adds events
    every few seconds): the member profiles behind tier, state and churn risk.
    """

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[datetime, Any]] = {}
        self._lock = Lock()

    def get(self, ws: Workspace, key: Hashable, now: datetime, compute: Callable[[], T]) -> T:
        full = (str(ws.root), version(ws)[1], key)
        with self._lock:
            found = self._items.get(full)
        if found is not None and now - found[0] < self.ttl:
            return found[1]
        value = compute()
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if now - v[0] < self.ttl}
            self._items[full] = (now, value)
        return value


def version(ws: Workspace) -> tuple[int, int]:
    with read_transaction(ws.engine) as conn:
        newest = conn.scalar(select(func.max(events.c.id))) or 0
    settings = ws.root / SETTINGS_FILE
    return int(newest), settings.stat().st_mtime_ns if settings.exists() else 0
