"""Exporting the event log from a workspace (`shequn export events`)."""

from __future__ import annotations

from pathlib import Path

from shequn.export import events
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace


def export_events(
    ws: Workspace, out: Path, fmt: str, *, persons: bool = False, sop: bool = False
) -> int:
    """Write the workspace's event log to `out` in the format `fmt`; returns the count.

    One read transaction, so the file is one consistent snapshot. See
    `shequn.export.events.export_events` for `persons` and `sop`.
    """
    with read_transaction(ws.engine) as conn:
        return events.export_events(conn, out, fmt, persons=persons, sop=sop)
