"""Answers that depend only on the log and the settings, kept until either changes.

The version of a workspace is the newest event id and the settings file's mtime: an
import, a simulated history, an SOP action (all events) or an edited goal makes every
cached answer stale at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
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


def version(ws: Workspace) -> tuple[int, int]:
    with read_transaction(ws.engine) as conn:
        newest = conn.scalar(select(func.max(events.c.id))) or 0
    settings = ws.root / SETTINGS_FILE
    return int(newest), settings.stat().st_mtime_ns if settings.exists() else 0
