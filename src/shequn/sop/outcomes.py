"""The events a drain records (journal.py's table), and the rows it queues after.

One event per outcome, keyed by the outbox key, so a retried record transaction
stores each fact once; a failed attempt is keyed `<key>#<attempt>`.

A delivered message that carries a content item (`content: ITEM` on a send step) is
also a canonical `content_sent` event (source `sop-delivery`, source_id the outbox
key), so the content the engine sends moves `content_ctr` like imported sends do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from shequn.sop import journal, outbox
from shequn.sop.outbox import OutboxRow
from shequn.sop.tasks import task_row
from shequn.store import dialect
from shequn.store.schema import events as event_log
from shequn.store.sop_schema import tasks

if TYPE_CHECKING:
    from shequn.sop.dispatch import Outcome

Event = dict[str, Any]

# The source of the canonical events a delivery writes (not "sop": these are no SOP
# events, they enter the analytics copy and the default export).
DELIVERY_SOURCE = "sop-delivery"
CONTENT_ACTIONS = ("send_group", "send_private")


def _member(row: OutboxRow) -> str | None:
    return row.data().get("member")


def delivered(row: OutboxRow, now: int, engine: str, **extra: Any) -> Event:
    """message_sent, or alert_sent for an alert (to whom, and why it was raised)."""
    payload = row.data()
    if row.action == "alert_owner":
        return journal.entry(
            "alert_sent",
            now,
            row.community,
            row.key,
            text=payload.get("text"),
            # An alert_owner step names its owner; emergency and overdue alerts say `to`.
            to=payload.get("to") or payload.get("owner") or row.target,
            why=payload.get("why") or ("metric" if payload.get("threshold") else "step"),
            engine=engine,
            **extra,
        )
    return journal.entry(
        "message_sent",
        now,
        row.community,
        row.key,
        member=payload.get("member"),
        platform=row.platform,
        late=row.late,
        engine=engine,
        **extra,
    )


def _created(row: OutboxRow, now: int, task_ids: dict[str, int]) -> Event:
    task = task_row(row, now)
    return journal.entry(
        "task_created",
        now,
        row.community,
        row.key,
        member=_member(row),
        text=task["title"],
        task=task_ids.get(row.key),
        owner=task["owner"],
        due_ts=task["due_ts"],
    )


def _missed(row: OutboxRow, now: int) -> Event:
    return journal.entry(
        "sop_action_missed",
        now,
        row.community,
        row.key,
        member=_member(row),
        due_ts=row.due_ts,
        reason="older than the grace",
    )


def _failed(row: OutboxRow, why: str, now: int) -> Event:
    attempt = row.attempts + 1
    return journal.entry(
        "action_failed",
        now,
        row.community,
        f"{row.key}#{attempt}",
        member=_member(row),
        reason=why,
        attempts=attempt,
    )


def _dead(row: OutboxRow, why: str, now: int) -> Event:
    return journal.entry(
        "action_dead", now, row.community, row.key, member=_member(row), reason=why
    )


def task_ids(conn: Connection, rows: list[OutboxRow]) -> dict[str, int]:
    """The ids of the operator tasks made from these rows, by outbox key."""
    keys = [r.key for r in rows]
    if not keys:
        return {}
    return dict(conn.execute(select(tasks.c.key, tasks.c.id).where(tasks.c.key.in_(keys))).all())


def events(result: Outcome, now: int, engine: str, ids: dict[str, int]) -> list[Event]:
    """One event per outcome of a drain (the state actions record their own)."""
    return [
        *(delivered(r, now, engine) for r in result.sent),
        *(delivered(r, now, engine, recovered=True) for r in result.recovered),
        *(_created(r, now, ids) for r in result.tasks),
        *(_missed(r, now) for r in result.missed),
        *(_failed(r, why, now) for r, why in result.retry),
        *(_dead(r, why, now) for r, why in result.dead),
    ]


def content_sent(row: OutboxRow, now: int) -> Event | None:
    """The canonical `content_sent` of a delivered row whose payload names a content
    item, or None (no item, or not a message to the community or a member).

    The member is the recipient of a private send; a group send names its sender, the
    step's owner as `operator:NAME` (every canonical event but a visit has a member, so
    the event exports and imports back).
    """
    payload = row.data()
    if row.action not in CONTENT_ACTIONS or not payload.get("content"):
        return None
    return {
        "ts": now,
        "community": row.community,
        "member": payload.get("member") if row.action == "send_private" else _sender(payload),
        "type": "content_sent",
        "channel": None,
        "content_id": payload["content"],
        "source": DELIVERY_SOURCE,
        "source_id": row.key,
    }


def _sender(payload: dict[str, Any]) -> str:
    return f"operator:{payload.get('owner') or 'shequn'}"


def record_content_sent(conn: Connection, result: Outcome, now: int) -> list[Event]:
    """Append the `content_sent` of each delivered (or recovered) row in the caller's
    transaction; one already stored (a retried transaction) is skipped, like the journal.

    Returns the rows built (stored now or before).
    """
    rows = [content_sent(r, now) for r in (*result.sent, *result.recovered)]
    found = [r for r in rows if r is not None]
    if found:
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, event_log, found)
    return found


def announcement(row: OutboxRow, payload: dict[str, Any], now: int) -> OutboxRow:
    """The group message that follows a started activity (key `<key>|announce`)."""
    keep = {"text": payload["announce"], "owner": payload.get("owner", "")}
    return outbox.row(
        key=f"{row.key}|announce",
        playbook=row.playbook,
        step=row.step,
        community=row.community,
        target=row.community,
        platform=payload.get("announce_platform") or "console",
        action="send_group",
        payload={**keep, "emergency": payload.get("emergency")},
        due_ts=now,
        now=now,
    )
