"""Events as numeric columns, before any string is built.

The engine works on integer codes (member numbers, message numbers, phrase codes) and
turns them into the strings of FRAME_SCHEMA only when a frame is yielded, so the hot
loop never touches Python strings. -1 means "absent" in every column.
"""

from __future__ import annotations

import numpy as np

from shequn.domain.events import EventType

TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
TYPE_CODE: dict[str, int] = {name: code for code, name in enumerate(TYPES)}

# Parametric meta (built from a number): see frames.META_PARTS.
META_MENTION = 0
META_REMOVED_BY = 1
META_ACTIVITY = 2
META_ORDER = 3

COLUMNS: dict[str, type] = {
    "ts": np.int64,  # microseconds since the epoch, UTC
    "type": np.int8,  # code into TYPES
    "member": np.int64,  # member number
    "channel": np.int16,  # channel code
    "inviter": np.int64,  # member number
    "visitor": np.int64,  # visitor number
    "msg": np.int64,  # message number (message_id)
    "reply": np.int64,  # message number replied or reacted to
    "content": np.int64,  # content item number
    "order": np.int64,  # order number
    "amount": np.int64,  # code into the community's amount strings
    "text": np.int64,  # phrase code
    "meta_fixed": np.int64,  # code into the community's fixed meta strings
    "meta_kind": np.int8,  # META_* for meta built from meta_arg
    "meta_arg": np.int64,
}

Batch = dict[str, np.ndarray]


class DayEvents:
    """Collects one day's events of one community, part by part."""

    def __init__(self) -> None:
        self.parts: list[Batch] = []

    def add(self, event_type: str, ts: np.ndarray, **columns: np.ndarray | int) -> None:
        """Events of one type at times ``ts``; other columns are arrays or one value."""
        n = len(ts)
        if n == 0:
            return
        part: Batch = {
            "ts": np.asarray(ts, dtype=np.int64),
            "type": np.full(n, TYPE_CODE[event_type], dtype=np.int8),
        }
        for name, value in columns.items():
            array: np.ndarray = np.asarray(value, dtype=COLUMNS[name])
            part[name] = np.broadcast_to(array, (n,)) if array.ndim == 0 else array
        self.parts.append(part)

    def finish(self) -> Batch:
        """All parts as one batch, sorted by time (stable, so ties keep their order)."""
        batch = concat(self.parts)
        order = np.argsort(batch["ts"], kind="stable")
        return {name: array[order] for name, array in batch.items()}


def concat(parts: list[Batch]) -> Batch:
    """Parts with possibly missing columns as one batch with every column."""
    out: Batch = {}
    for name, dtype in COLUMNS.items():
        arrays = [
            part[name] if name in part else np.full(len(part["ts"]), -1, dtype=dtype)
            for part in parts
        ]
        out[name] = np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
    return out


def rows(batch: Batch) -> int:
    """Number of events in a batch."""
    return len(batch["ts"])


def take(batch: Batch, start: int, stop: int) -> Batch:
    """Rows ``start .. stop - 1`` of a batch."""
    return {name: array[start:stop] for name, array in batch.items()}
