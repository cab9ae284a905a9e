"""The bot's writes and reads of the store: decisions recorded, state replayed, reports.

Every decision is recorded in one transaction: its records as events (source `bot`,
or `sop` for points so tiers and playbooks see them), one `bot_reply` per message it
sends, and an operator task (the `sop_tasks` table `shequn tasks` lists) per
`OperatorTask`. Keys come from the decision's cause, so recording it twice stores it
once. The platform actions run after the commit (the runner).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from shequn.bot.decision import (
    BOT_TYPES,
    CANONICAL_TYPES,
    SOP_POINT_TYPES,
    SOURCE,
    Decision,
    OperatorTask,
    Record,
    Send,
)
from shequn.bot.state import BotState, apply_record, observe
from shequn.clock import Clock, to_micros
from shequn.sop import journal, outbox
from shequn.sop.tasks import task_row
from shequn.store import dialect
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.schema import events
from shequn.store.sop_schema import tasks
from shequn.workspace import Workspace

TASK_DUE = timedelta(days=1)
# At start the bot folds the joins of this long back (its longest new-member rule).
JOINS_BACK = timedelta(days=7)


def bot_row(community: str, record: Record, key: str, now: int) -> dict[str, Any]:
    """The event row of a record (source `bot`); a canonical one carries its activity."""
    if record.type not in BOT_TYPES + CANONICAL_TYPES:
        raise ValueError(f"{record.type!r} is not a bot event type")
    meta = json.dumps(record.meta, ensure_ascii=False, sort_keys=True, default=str)
    canonical = record.type in CANONICAL_TYPES
    return {
        "content_id": record.meta.get("activity") if canonical else None,
        "ts": now,
        "community": community,
        "member": record.member or None,
        "type": record.type,
        "text": record.text or None,
        "amount": str(record.amount) if record.amount is not None else None,
        "source": SOURCE,
        "source_id": f"{record.type}|{key}",
        "meta": meta if record.meta else None,
    }


def _row(community: str, record: Record, key: str, now: int) -> dict[str, Any]:
    if record.type in SOP_POINT_TYPES:
        amount = str(record.amount) if record.amount is not None else None
        return journal.entry(
            record.type,
            now,
            community,
            f"bot|{key}",
            member=record.member,
            text=record.text,
            amount=amount,
            **record.meta,
        )
    return bot_row(community, record, key, now)


def rows_of(decision: Decision, now: int) -> list[dict[str, Any]]:
    """The events a decision records: its records, and a `bot_reply` per message sent."""
    out = [
        _row(decision.community, r, r.key or f"{decision.cause}|{i}", now)
        for i, r in enumerate(decision.records)
    ]
    for i, action in enumerate(decision.actions):
        if isinstance(action, Send):
            reply = Record(
                "bot_reply",
                action.private_to,
                text=action.text[:500],
                meta={"private": bool(action.private_to)},
            )
            out.append(bot_row(decision.community, reply, f"{decision.cause}|send{i}", now))
    return out


def _tasks(conn: Connection, decision: Decision, now: int) -> list[dict[str, Any]]:
    """Insert the decision's operator tasks; their `task_created` events."""
    out = []
    for i, action in enumerate(decision.actions):
        if not isinstance(action, OperatorTask):
            continue
        key = f"bot|{decision.community}|{decision.cause}|task{i}"
        payload = {
            "owner": action.owner,
            "title": action.title,
            "text": action.content,
            "member": action.member or None,
            "checklist": [
                "read the question or appeal",
                "answer or decide in the group",
                "mark it done: shequn tasks done ID",
            ],
        }
        source = outbox.row(
            key=key,
            playbook=SOURCE,
            step=decision.cause,
            community=decision.community,
            target=action.member or decision.community,
            platform="task",
            action="create_task",
            payload=payload,
            due_ts=now + int(TASK_DUE.total_seconds() * 1_000_000),
            now=now,
        )
        row = task_row(source, now)
        dialect.insert_ignore(conn, tasks, [row])
        task_id = conn.scalar(select(tasks.c.id).where(tasks.c.key == key))
        out.append(
            journal.entry(
                "task_created",
                now,
                decision.community,
                key,
                member=action.member or None,
                text=action.title,
                task=task_id,
                owner=action.owner,
                due_ts=row["due_ts"],
            )
        )
    return out


def record(ws: Workspace, decisions: Sequence[Decision], clock: Clock) -> int:
    """Record decisions in one transaction; the number of events written (or already there)."""
    now = to_micros(clock.now())
    found = [d for d in decisions if d]
    if not found:
        return 0
    with write_transaction(ws.engine) as conn:
        rows = [row for d in found for row in rows_of(d, now)]
        rows += [row for d in found for row in _tasks(conn, d, now)]
        # One statement needs one set of columns: the journal's rows have no content_id.
        rows = [row if "content_id" in row else {**row, "content_id": None} for row in rows]
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, events, rows)
    return len(rows)


def failed(ws: Workspace, community: str, key: str, action: str, reason: str, clock: Clock) -> None:
    """Record that a platform action failed (after the decision was recorded)."""
    now = to_micros(clock.now())
    row = bot_row(
        community, Record("bot_failed", text=action, meta={"reason": reason[:300]}), key, now
    )
    with write_transaction(ws.engine) as conn:
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, events, [row])


def load_state(ws: Workspace, clock: Clock) -> BotState:
    """The bot's state replayed from the store: its events, every member's points, and
    the joins of the last JOINS_BACK (for the new-member rules)."""
    state = BotState()
    since = to_micros(clock.now() - JOINS_BACK)
    query = (
        select(
            events.c.ts,
            events.c.community,
            events.c.type,
            events.c.member,
            events.c.amount,
            events.c.meta,
        )
        .where(
            or_(
                events.c.source == SOURCE,
                and_(events.c.source == journal.SOURCE, events.c.type == "points_added"),
                and_(events.c.type == "join", events.c.ts >= since),
            )
        )
        .order_by(events.c.ts, events.c.id)
    )
    with read_transaction(ws.engine) as conn:
        for ts, community, kind, member, amount, meta in conn.execute(query):
            at = ts / 1_000_000
            if kind == "join":
                observe(state, community, "join", member or "", at)
                continue
            amount_ = int(float(amount)) if amount is not None else None
            apply_record(
                state, community, kind, member or "", amount_, json.loads(meta or "{}"), at
            )
    return state
