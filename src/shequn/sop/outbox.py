"""The outbox and the SOP log: rows written by the tick, drained by the dispatcher.

An outbox row is one `OutboxRow` from the moment it is built (`row`) to the moment
the dispatcher reads it back (`ready`): the same frozen type on both sides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, Select, select

from shequn.platforms.base import Outgoing
from shequn.store import dialect
from shequn.store.sop_schema import PENDING, RETRY, log, outbox

_CHUNK = 500


class OutboxRow(msgspec.Struct, frozen=True):
    """One outgoing action, as the `sop_outbox` table holds it.

    `payload` is the JSON text stored (`data()` parses it); `id` and `sent_ts` are
    None until the row is stored and sent. A msgspec Struct, not a dataclass: a tick
    builds tens of thousands at once and a frozen dataclass is twice as slow to make.
    """

    key: str  # the idempotency key: playbook|step|target|occurrence (or a derived key)
    playbook: str
    step: str
    community: str
    target: str  # a member key, the community key, or an operator
    platform: str  # where it goes: a platform, `task`, `state`, `webhook`
    action: str  # the action kind (sop.kinds)
    payload: str
    due_ts: int
    state: str
    late: bool
    attempts: int
    next_ts: int
    reason: str | None
    created_ts: int
    id: int | None = None
    sent_ts: int | None = None

    def data(self) -> dict[str, Any]:
        """The payload as a dict."""
        return json.loads(self.payload)

    def outgoing(self) -> Outgoing:
        """What a platform is given to deliver."""
        return Outgoing(self.key, self.community, self.target, self.action, self.data())

    def stored(self) -> dict[str, Any]:
        """The table's columns to insert (the store assigns the id)."""
        values = msgspec.structs.asdict(self)
        del values["id"]
        values["late"] = int(self.late)
        return values


# The table's columns in the order of OutboxRow's fields: rows are read positionally.
_COLUMNS = [outbox.c[name] for name in OutboxRow.__struct_fields__]
_LATE = OutboxRow.__struct_fields__.index("late")


def _rows(conn: Connection, query: Select) -> list[OutboxRow]:
    """The rows of an outbox query, read back as OutboxRow (`late` as a bool)."""
    return [
        OutboxRow(*values[:_LATE], bool(values[_LATE]), *values[_LATE + 1 :])
        for values in conn.execute(query.with_only_columns(*_COLUMNS))
    ]


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
) -> OutboxRow:
    """One outbox row, not yet attempted; its first attempt is due at `due_ts`."""
    return OutboxRow(
        key=key,
        playbook=playbook,
        step=step,
        community=community,
        target=target,
        platform=platform,
        action=action,
        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        due_ts=due_ts,
        state=state,
        late=late,
        attempts=0,
        next_ts=due_ts,
        reason=reason,
        created_ts=now,
    )


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


def enqueue(conn: Connection, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """Insert outbox rows whose key is new; the rows inserted."""
    if not rows:
        return []
    have = existing_keys(conn, [r.key for r in rows])
    new = [r for r in rows if r.key not in have]
    for i in range(0, len(new), _CHUNK):
        dialect.insert_ignore(conn, outbox, [r.stored() for r in new[i : i + _CHUNK]])
    return new


def ready(conn: Connection, now: int, limit: int) -> list[OutboxRow]:
    """Rows waiting to be sent whose next attempt is due, oldest first."""
    query = (
        select(outbox)
        .where(outbox.c.state.in_((PENDING, RETRY)), outbox.c.next_ts <= now)
        .order_by(outbox.c.next_ts, outbox.c.id)
        .limit(limit)
    )
    return _rows(conn, query)


def waiting(conn: Connection, until: int, playbook: str, community: str) -> list[OutboxRow]:
    """Rows still to be sent (pending or retry) by `until`; of one playbook and one
    community when they are not empty."""
    query = select(outbox).where(outbox.c.state.in_((PENDING, RETRY)), outbox.c.next_ts <= until)
    if playbook:
        query = query.where(outbox.c.playbook == playbook)
    if community:
        query = query.where(outbox.c.community == community)
    return _rows(conn, query)


def by_key(conn: Connection, key: str) -> OutboxRow | None:
    """The row with this idempotency key, if any."""
    found = _rows(conn, select(outbox).where(outbox.c.key == key))
    return found[0] if found else None


def set_state(conn: Connection, ids: Iterable[int], **values: Any) -> None:
    """Move rows to a new state (only rows still waiting: a finished row stays finished)."""
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        conn.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids[i : i + _CHUNK]), outbox.c.state.in_((PENDING, RETRY)))
            .values(**values)
        )
