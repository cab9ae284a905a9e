"""The outbox and the SOP log: rows written by the tick, drained by the dispatcher."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from shequn.store import dialect
from shequn.store.sop_schema import PENDING, RETRY, log, outbox

_CHUNK = 500


def row(
    *,
    key: str,
    playbook: str,
    step: str,
    community: str,
    target: str,
    platform: str,
    action: str,
    payload: dict[str, Any],
    due_ts: int,
    now: int,
    state: str = PENDING,
    late: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """One outbox row, not yet attempted; its first attempt is due at `due_ts`."""
    return {
        "key": key,
        "playbook": playbook,
        "step": step,
        "community": community,
        "target": target,
        "platform": platform,
        "action": action,
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "due_ts": due_ts,
        "state": state,
        "late": int(late),
        "attempts": 0,
        "next_ts": due_ts,
        "reason": reason,
        "created_ts": now,
    }


def log_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append SOP log rows: dicts with ts, type, key, community, target, detail (a dict)."""
    if rows:
        conn.execute(
            log.insert(),
            [
                {
                    **row,
                    "detail": json.dumps(row.get("detail") or {}, ensure_ascii=False, default=str),
                }
                for row in rows
            ],
        )


def existing_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of these idempotency keys the outbox already holds."""
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        found.update(conn.scalars(select(outbox.c.key).where(outbox.c.key.in_(chunk))))
    return found


def enqueue(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert outbox rows whose key is new; the rows inserted."""
    if not rows:
        return []
    have = existing_keys(conn, [r["key"] for r in rows])
    new = [r for r in rows if r["key"] not in have]
    for i in range(0, len(new), _CHUNK):
        dialect.insert_ignore(conn, outbox, new[i : i + _CHUNK])
    return new


def ready(conn: Connection, now: int, limit: int) -> list[Any]:
    """Rows waiting to be sent whose next attempt is due, oldest first."""
    return list(
        conn.execute(
            select(outbox)
            .where(outbox.c.state.in_((PENDING, RETRY)), outbox.c.next_ts <= now)
            .order_by(outbox.c.next_ts, outbox.c.id)
            .limit(limit)
        )
    )


def set_state(conn: Connection, ids: Iterable[int], **values: Any) -> None:
    """Move rows to a new state (only rows still waiting: a finished row stays finished)."""
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        conn.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids[i : i + _CHUNK]), outbox.c.state.in_((PENDING, RETRY)))
            .values(**values)
        )
