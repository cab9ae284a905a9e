"""Operator tasks: list them, mark them done, and the SOP on-time rate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from shequn.clock import Clock, SystemClock, from_micros, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.sop import journal, outbox
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.sop_schema import tasks
from shequn.workspace import Workspace


@dataclass(frozen=True)
class Task:
    id: int
    owner: str
    title: str
    community: str
    target: str
    checklist: list[str]
    content: str
    due: datetime
    done: datetime | None


def list_tasks(
    ws: Workspace,
    *,
    owner: str = "",
    today: bool = False,
    overdue: bool = False,
    clock: Clock | None = None,
) -> list[Task]:
    """Open tasks, soonest due first: all, one owner's, due today (local), or overdue."""
    now = (clock or SystemClock()).now()
    query = select(tasks).where(tasks.c.done_ts.is_(None)).order_by(tasks.c.due_ts, tasks.c.id)
    if owner:
        query = query.where(tasks.c.owner == owner)
    if overdue:
        query = query.where(tasks.c.due_ts < to_micros(now))
    if today:
        local = now.astimezone(ws.settings.zone)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        query = query.where(tasks.c.due_ts >= to_micros(start), tasks.c.due_ts < to_micros(end))
    with read_transaction(ws.engine) as conn:
        return [_task(row) for row in conn.execute(query)]


def _task(row: object) -> Task:
    r = row._mapping  # type: ignore[attr-defined]
    return Task(
        id=r["id"],
        owner=r["owner"],
        title=r["title"],
        community=r["community"],
        target=r["target"],
        checklist=json.loads(r["checklist"]),
        content=r["content"],
        due=from_micros(r["due_ts"]),
        done=from_micros(r["done_ts"]) if r["done_ts"] is not None else None,
    )


def complete(
    ws: Workspace, task_id: int, *, by: str = "", note: str = "", clock: Clock | None = None
) -> Task:
    """Mark a task done, record the `task_done` event (with the operator's note) and audit it.

    Raises:
        InputError: no such task, or it is already done.
    """
    clock = clock or SystemClock()
    now = to_micros(clock.now())
    who = by or audit.actor()
    with write_transaction(ws.engine) as conn:
        row = conn.execute(select(tasks).where(tasks.c.id == task_id)).one_or_none()
        if row is None:
            raise InputError(f"no task {task_id}", field="ID", hint="see `shequn tasks`")
        if row.done_ts is not None:
            raise InputError(
                f"task {task_id} was done at {from_micros(row.done_ts):%Y-%m-%d %H:%M} UTC",
                field="ID",
                hint="nothing to do",
            )
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(done_ts=now, done_by=who))
        made_by = outbox.by_key(conn, row.key)
        member = made_by.data().get("member") if made_by is not None else None
        journal.record(
            conn,
            [
                journal.entry(
                    "task_done",
                    now,
                    row.community,
                    row.key,
                    member=member,
                    task=task_id,
                    by=who,
                    due_ts=row.due_ts,
                    on_time=now <= row.due_ts,
                    **({"note": note} if note else {}),
                )
            ],
        )
        audit.record(conn, clock, "task_done", task=task_id, by=who, note=note)
        done = conn.execute(select(tasks).where(tasks.c.id == task_id)).one()
    return _task(done)


def on_time_rate(conn: Connection, start: int, end: int) -> float | None:
    """sop_on_time_rate (METRICS.md): tasks due in [start, end) done by their due time
    / tasks due in [start, end); None when no task was due."""
    due = tasks.c.due_ts.between(start, end - 1)
    total = conn.scalar(select(func.count()).select_from(tasks).where(due))
    if not total:
        return None
    on_time = conn.scalar(
        select(func.count())
        .select_from(tasks)
        .where(due, tasks.c.done_ts.is_not(None), tasks.c.done_ts <= tasks.c.due_ts)
    )
    return on_time / total
