"""Operator tasks made from outbox rows (create_task, or a platform that needs a person)."""

from __future__ import annotations

import json
from typing import Any

from shequn.sop.outbox import OutboxRow

DEFAULT_CHECKLIST = (
    "copy the content below",
    "send it on the platform",
    "mark it done: shequn tasks done ID",
)


def task_row(row: OutboxRow, now: int) -> dict[str, Any]:
    """The sop_tasks row for an outbox row whose platform is `task`."""
    payload = row.data()
    return {
        "key": row.key,
        "owner": payload["owner"],
        "title": payload.get("title") or f"{row.action} to {row.target}",
        "community": row.community,
        "target": row.target,
        "checklist": json.dumps(payload.get("checklist") or list(DEFAULT_CHECKLIST)),
        "content": payload.get("text", ""),
        "due_ts": payload.get("task_due_ts") or row.due_ts,
        "created_ts": now,
    }
