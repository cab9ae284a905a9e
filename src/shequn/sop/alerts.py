"""Alerts to operators: where they go, a step's emergency plan, overdue tasks.

An alert is an outbox row with action `alert_owner`, delivered like any message and
recorded as an `alert_sent` event. It goes to the operator's `contact` in shequn.toml
(`console`, or a member key `platform:id` on that platform); a name or role that is
not a configured operator goes to the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from shequn.clock import from_micros
from shequn.config import Settings
from shequn.sop import outbox
from shequn.sop.outbox import OutboxRow
from shequn.store.sop_schema import tasks

CONSOLE = "console"


def route(settings: Settings | None, name: str) -> tuple[str, str]:
    """(platform, target) of an alert to operator or role `name`."""
    operator = settings.operator(name) if settings is not None else None
    contact = operator.contact if operator is not None else CONSOLE
    if contact == CONSOLE or ":" not in contact:
        return CONSOLE, name
    return contact.split(":", 1)[0], contact


def alert_row(
    settings: Settings | None,
    *,
    key: str,
    community: str,
    to: str,
    text: str,
    why: str,
    now: int,
    playbook: str = "",
    step: str = "",
) -> OutboxRow:
    """A pending outbox row alerting operator `to`, due now."""
    platform, target = route(settings, to)
    return outbox.row(
        key=key,
        playbook=playbook,
        step=step,
        community=community,
        target=target,
        platform=platform,
        action="alert_owner",
        payload={"text": text, "to": to, "why": why},
        due_ts=now,
        now=now,
    )


def emergency_row(
    settings: Settings | None, row: OutboxRow, payload: dict[str, Any], reason: str, now: int
) -> OutboxRow | None:
    """The alert for an action that ended dead, or None when its step has no emergency
    plan (alerts themselves have none, so a failed alert raises no further alert)."""
    plan = payload.get("emergency")
    if not plan:
        return None
    text = (
        f"{row.playbook}/{row.step} for {row.target} in {row.community} failed: {reason}. "
        f"Emergency plan: {plan['do']}"
    )
    return alert_row(
        settings,
        key=f"{row.key}|emergency",
        community=row.community,
        to=plan["alert"],
        text=text,
        why="emergency",
        now=now,
        playbook=row.playbook,
        step=row.step,
    )


def queue_overdue(conn: Connection, settings: Settings, now: int) -> int:
    """One alert per open task past its due time, to the owner's `escalate_to` (or the
    owner); key `task|<id>|overdue`, so each task escalates once. The rows queued."""
    query = (
        select(tasks.c.id, tasks.c.owner, tasks.c.title, tasks.c.community, tasks.c.due_ts)
        .where(tasks.c.done_ts.is_(None), tasks.c.due_ts < now)
        .order_by(tasks.c.id)
    )
    rows = []
    for task in conn.execute(query):
        operator = settings.operator(task.owner)
        to = (operator.escalate_to if operator is not None else "") or task.owner
        due = _local(from_micros(task.due_ts), settings)
        text = (
            f"task {task.id} \u201c{task.title}\u201d ({task.community}, owner {task.owner}) "
            f"was due {due} and is not done"
        )
        rows.append(
            alert_row(
                settings,
                key=f"task|{task.id}|overdue",
                community=task.community,
                to=to,
                text=text,
                why="overdue",
                now=now,
            )
        )
    return len(outbox.enqueue(conn, rows))


def _local(when: datetime, settings: Settings) -> str:
    return when.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
