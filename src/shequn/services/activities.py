"""Activity use cases: list, measure, the calendar, comparisons, follow-up tasks.

Reading is read-only; `follow_up_low_scores` is the one writer: an operator task (an
outbox row of kind `create_task`, key `activity|<name>|feedback|<member>`) per low score,
so running it twice queues nothing new and the dispatcher makes the tasks as for any
playbook step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shequn.activities.loader import scan
from shequn.activities.model import Activity
from shequn.activities.results import Results, measure
from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.services.sop import decision_events
from shequn.sop import journal, outbox
from shequn.sop.kinds import TASK
from shequn.store.engine import read_transaction, write_transaction
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


def follow_up_low_scores(ws: Workspace, name: str, clock: Clock | None = None) -> int:
    """Queue an operator task for the activity's owner per low score; the number queued."""
    clock = clock or SystemClock()
    found = report(ws, name)
    activity = found.activity
    now = to_micros(clock.now())
    rows = [
        outbox.row(
            key=f"activity|{activity.name}|feedback|{member}",
            playbook=f"activity-{activity.name}",
            step="feedback-follow-up",
            community=activity.community,
            target=member,
            platform=TASK,
            action="create_task",
            payload={
                "owner": activity.owner,
                "member": member,
                "emergency": {"do": "call them", "alert": activity.owner},
                "title": f"{activity.title}: follow up a score of {score:g} from {member}",
                "text": comment,
                "task_due_ts": now + DAY,
            },
            due_ts=now,
            now=now,
        )
        for member, score, comment in found.low
    ]
    with write_transaction(ws.engine) as conn:
        new = outbox.enqueue(conn, rows)
        journal.record(conn, [e for row in new for e in decision_events(row, now)])
        if new:
            audit.record(conn, clock, "activity_follow_up", activity=name, queued=len(new))
    return len(new)
