"""sop_on_time_rate from the SOP engine's task table (docs/metrics.md, "Operations")."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import update

from shequn.analytics import compute, sync
from shequn.services.imports import import_path
from shequn.store.sop_schema import tasks
from shequn.workspace import Workspace
from tests.analytics.helpers import local_us

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
HEADER = "ts,community,member,type,source_id\n"
EVENTS = [
    "2026-10-01T09:00:00+08:00,club,wa:li,join,e1",
    "2026-10-02T09:00:00+08:00,town,wa:wang,join,e2",
]


def _task(n: int, community: str, due: str, done: str | None) -> dict[str, Any]:
    return {
        "key": f"pb|step|m|{n}",
        "owner": "ops",
        "title": f"task {n}",
        "community": community,
        "target": "m",
        "checklist": "[]",
        "content": "",
        "due_ts": local_us(due),
        "created_ts": local_us("2026-09-01 00:00"),
        "done_ts": local_us(done) if done else None,
    }


TASKS = [
    _task(1, "club", "2026-10-05 10:00", "2026-10-05 09:00"),  # on time
    _task(2, "club", "2026-10-06 10:00", "2026-10-06 10:00"),  # done at the due instant
    _task(3, "club", "2026-10-07 10:00", "2026-10-08 10:00"),  # late
    _task(4, "club", "2026-10-08 10:00", None),  # open
    _task(5, "club", "2026-09-30 23:59", "2026-09-30 12:00"),  # due before October
    _task(6, "club", "2026-11-01 00:00", "2026-10-20 12:00"),  # due at P's end: outside
    _task(7, "town", "2026-10-10 10:00", "2026-10-10 08:00"),  # on time
]


def _rates(ws: Workspace) -> tuple[Any, Any, Any]:
    figures = compute(ws, *OCTOBER)
    return tuple(figures[s]["sop_on_time_rate"] for s in ("club", "town", "*"))  # type: ignore[return-value]


def test_on_time_rate_follows_the_task_table(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "\n".join(EVENTS) + "\n", encoding="utf-8")
    import_path(ws, path, format_name="canonical")
    assert _rates(ws) == (None, None, None)  # no task is due: 0 / 0
    with ws.engine.begin() as conn:
        conn.execute(tasks.insert(), TASKS)
    # club: tasks 1-4 due in October, 1 and 2 on time; town: 7; `*`: 3 of 5.
    assert _rates(ws) == (2 / 4, 1.0, 3 / 5)
    with ws.engine.begin() as conn:
        # The open task is done in time after the copy saw it open, and a new one comes.
        conn.execute(
            update(tasks)
            .where(tasks.c.title == "task 4")
            .values(done_ts=local_us("2026-10-08 09:00"))
        )
        conn.execute(tasks.insert(), [_task(8, "club", "2026-10-20 10:00", None)])
    result = sync(ws)
    assert result.events_read == 0  # the tasks are read without any new event
    assert _rates(ws) == (3 / 5, 1.0, 4 / 6)
