"""The activities of a workspace, read: listed by time with their status, one found by
name, measured (results), compared across communities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shequn.activities.loader import scan
from shequn.activities.model import Activity
from shequn.activities.results import Results, measure
from shequn.clock import Clock, SystemClock
from shequn.errors import InputError
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace

DAY = 86_400_000_000


@dataclass(frozen=True)
class Listed:
    activity: Activity
    start: datetime  # local
    end: datetime
    status: str  # upcoming | running | ended


def activities(ws: Workspace, clock: Clock | None = None) -> list[Listed]:
    """Every valid activity by start time, with its status.

    Raises:
        InputError: the first problem of an invalid activity file.
    """
    found, problems = scan(ws.root)
    if problems:
        raise problems[0]
    now = (clock or SystemClock()).now()
    zone = ws.settings.zone
    out = []
    for a in found:
        start, end = (t.astimezone(zone) for t in a.window(zone))
        status = "upcoming" if now < start else "running" if now < end else "ended"
        out.append(Listed(a, start, end, status))
    return sorted(out, key=lambda item: (item.start, item.activity.name))


def get(ws: Workspace, name: str) -> Activity:
    found = {a.activity.name: a.activity for a in activities(ws)}
    if name not in found:
        raise InputError(
            f"no activity {name!r}",
            hint=f"use one of: {', '.join(found) or '(none in activities/)'}",
        )
    return found[name]


def report(ws: Workspace, name: str) -> Results:
    """One activity's results."""
    activity = get(ws, name)
    with read_transaction(ws.engine) as conn:
        return measure(conn, activity, ws.settings.zone)


def compare(ws: Workspace, kind: str) -> list[Results]:
    """Every ended activity of one kind, across communities (which format works where)."""
    ended = [a.activity for a in activities(ws) if a.status == "ended" and a.activity.kind == kind]
    with read_transaction(ws.engine) as conn:
        return [measure(conn, a, ws.settings.zone) for a in ended]
