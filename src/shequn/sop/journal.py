"""SOP decisions, deliveries and member/community state changes as events in the log.

DESIGN.md: every action shequn takes is itself an event, so metrics and the review
can relate actions to results. These events carry `source = "sop"` and a
deterministic `source_id` (`<type>|<key>`), so recording the same fact twice (a retried
transaction, a replayed tick) stores it once. They are written by the engine only: the
importers accept just the canonical types of docs/metrics.md.

Types and fields (`text` holds the new value of a state change; the outbox key or the
cause is in `source_id`, after the type):

| type | community | member | text | amount | meta |
|---|---|---|---|---|---|
| `sop_action_due` | ✓ | target member or empty | | | playbook, step, due_ts, late |
| `sop_action_missed` | ✓ | ✓/empty | | | due_ts, reason |
| `message_sent` | ✓ | ✓/empty | | | platform, late |
| `task_created` | ✓ | ✓/empty | task title | | task, owner, due_ts |
| `task_done` | ✓ | ✓/empty | | | task, by, due_ts, on_time |
| `action_failed` | ✓ | ✓/empty | | | reason, attempts (one per attempt: `<key>#<n>`) |
| `action_dead` | ✓ | ✓/empty | | | reason |
| `alert_sent` | ✓ | | the alert | | to, why |
| `tag_added` / `tag_removed` | ✓ | ✓ | the tag | | |
| `points_added` | ✓ | ✓ | the reason | points | total |
| `tier_changed` | ✓ | ✓ | new tier | | from, reason |
| `state_changed` | ✓ | ✓ | new lifecycle state (shequn.members.states) | | from |
| `churn_risk_crossed` | ✓ | ✓ | risk band reached ("0" = below every band) | | risk |
| `activity_started` | ✓ | | activity name | | ends_ts |
| `community_created` | ✓ | | | | how |
| `stage_entered` | ✓ | | the stage | | from, reason |
| `metric_crossed` | ✓ | | threshold id | | metric, value, days |
| `experiment_assigned` | ✓ | ✓ | the arm | | experiment, playbook, step, due_ts |
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from shequn.store import dialect
from shequn.store.schema import events

SOURCE = "sop"
SOP_TYPES = (
    "sop_action_due",
    "sop_action_missed",
    "message_sent",
    "task_created",
    "task_done",
    "action_failed",
    "action_dead",
    "alert_sent",
    "tag_added",
    "tag_removed",
    "points_added",
    "tier_changed",
    "state_changed",
    "churn_risk_crossed",
    "activity_started",
    "community_created",
    "stage_entered",
    "metric_crossed",
    "experiment_assigned",
)


def entry(
    type: str,
    ts: int,
    community: str,
    key: str,
    *,
    member: str | None = None,
    text: str | None = None,
    amount: str | None = None,
    **meta: Any,
) -> dict[str, Any]:
    """One SOP event row; `key` makes it idempotent (with the type)."""
    if type not in SOP_TYPES:
        raise ValueError(f"{type!r} is not an SOP event type")
    return {
        "ts": ts,
        "community": community,
        "member": member,
        "type": type,
        "text": text,
        "amount": amount,
        "source": SOURCE,
        "source_id": f"{type}|{key}",
        "meta": json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str) if meta else None,
    }


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append SOP events in the caller's transaction; one already stored is skipped."""
    if rows:
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, events, rows)
