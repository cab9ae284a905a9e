"""Live ingest: what platform adapters hear goes into the event log.

`ingest` appends a batch idempotently (the unique `(source, source_id)`, with the
adapter's name as the source and the platform's own ids as source ids) and stores the
adapter's position in the same transaction, so a crash neither loses nor repeats an
event; events older than the engine's last tick move its window back so their
playbook steps still fall due. `reconcile` compares a group's member list with the
members the log says are in it and appends the difference as joins and leaves marked
`meta.reconciled`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from shequn.clock import to_micros
from shequn.domain.events import BASELINE, Event, EventType
from shequn.platforms.base import Batch, member_key
from shequn.services.sop import LAST_TICK
from shequn.sop import lease
from shequn.sop.dispatch import Policy
from shequn.store import dialect, state
from shequn.store.engine import write_transaction
from shequn.store.schema import communities, events, members
from shequn.store.sop_schema import leases
from shequn.workspace import Workspace

log = logging.getLogger("shequn.live")
POSITION = "position:"  # + the adapter's name: its position in the engine's state


@dataclass(frozen=True)
class IngestResult:
    """What one batch did to the log."""

    added: int
    repeated: int  # already in the log (a replay after a reconnect)
    unbound: int  # in groups no community is bound to: not stored


def _row(event: Event, community: str, source: str) -> dict[str, Any]:
    return {
        "ts": to_micros(event.ts),
        "community": community,
        "member": event.member or None,
        "type": event.type,
        **{
            name: getattr(event, name) or None
            for name in ("channel", "inviter", "visitor", "message_id", "reply_to", "text")
        },
        "content_id": event.content_id or None,
        "order_id": event.order_id or None,
        "amount": str(event.amount) if event.amount is not None else None,
        "source": source,
        "source_id": event.source_id,
        "meta": json.dumps(event.meta, ensure_ascii=False, sort_keys=True) if event.meta else None,
    }


def _stored_ids(conn: Connection, source: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            conn.scalars(
                select(events.c.source_id).where(
                    events.c.source == source, events.c.source_id.in_(chunk)
                )
            )
        )
    return found


def append(conn: Connection, rows: list[dict[str, Any]], platform: str) -> int:
    """Append event rows in the caller's transaction; rows already stored are skipped.
    Records new communities and members. Returns how many rows were new."""
    if not rows:
        return 0
    dialect.lock_appends(conn)
    known = _stored_ids(conn, rows[0]["source"], [r["source_id"] for r in rows])
    new = [r for r in rows if r["source_id"] not in known]
    dialect.insert_ignore(conn, events, new)
    first: dict[str, int] = {}
    for row in new:
        first.setdefault(row["community"], row["ts"])
    dialect.insert_ignore(
        conn,
        communities,
        [{"key": k, "platform": platform, "first_ts": ts} for k, ts in first.items()],
    )
    people: dict[str, dict[str, Any]] = {}
    for row in new:
        name = json.loads(row["meta"]).get("name") if row["meta"] else None
        if row["member"]:
            old = people.get(row["member"])
            people[row["member"]] = {
                "key": row["member"],
                "person": row["member"],
                "name": name or (old and old["name"]),
                "platform": platform,
                "first_ts": old["first_ts"] if old else row["ts"],
            }
    dialect.upsert(conn, members, list(people.values()), update=["name"])
    return len(new)


def ingest(ws: Workspace, adapter: str, batch: Batch, platform: str | None = None) -> IngestResult:
    """Append `batch` to the log and store `adapter`'s position, in one transaction.

    Each event's `community` is the platform's group id; it is mapped to the community
    bound to that group (`shequn communities bind`); events of unbound groups are
    counted and dropped. The position is stored either way.

    Args:
        ws: the workspace.
        adapter: the adapter's name: the events' source and the position's name.
        batch: what the adapter yielded.
        platform: the platform of the bindings (default: the adapter's name).
    """
    platform = platform or adapter
    rows, unbound = [], 0
    for event in batch.events:
        community = ws.settings.bound(platform, event.community)
        if community is None:
            unbound += 1
            continue
        rows.append(_row(event, community, adapter))
    with write_transaction(ws.engine) as conn:
        if rows:
            _after_running_tick(conn)
        added = append(conn, rows, platform)
        state.put(conn, POSITION + adapter, batch.position)
        if added:
            _rewind_tick(conn, min(r["ts"] for r in rows))
    if unbound:
        log.debug("%s: %d events in unbound groups not stored", adapter, unbound)
    return IngestResult(added=added, repeated=len(rows) - added, unbound=unbound)


def _after_running_tick(conn: Connection) -> None:
    """Wait for a tick in progress to commit (it holds the engine's lease row), so the
    window it stores cannot overwrite a rewind made meanwhile (PostgreSQL; SQLite has
    one writer at a time). Taken before the append lock, in the order ticks take them."""
    conn.execute(select(leases.c.name).where(leases.c.name == lease.ENGINE_LEASE).with_for_update())


def _rewind_tick(conn: Connection, earliest: int) -> None:
    """Let the next tick see events that arrive after the tick that covered their time
    (a reconnect, an engine restart): its window starts again just before the earliest
    of them, at most the dispatcher's grace back. Steps that fell due already are not
    queued twice: the outbox keys are idempotent."""
    last = state.get(conn, LAST_TICK)
    if last is not None and earliest <= int(last):
        start = max(earliest - 1, int(last) - Policy().grace)
        state.put(conn, LAST_TICK, str(start))


def position(ws: Workspace, adapter: str) -> str | None:
    """Where `adapter` resumes: the position stored with its last batch."""
    with write_transaction(ws.engine) as conn:
        return state.get(conn, POSITION + adapter)


def current_members(conn: Connection, community: str) -> dict[str, int]:
    """member -> how many join/leave events the log holds for them in `community`,
    for the members whose latest such event is a join."""
    kinds = (EventType.JOIN.value, EventType.LEAVE.value)
    latest = (
        select(
            events.c.member,
            func.max(events.c.ts).label("ts"),
            func.count().label("n"),
        )
        .where(events.c.community == community, events.c.type.in_(kinds))
        .group_by(events.c.member)
        .subquery()
    )
    query = (
        select(latest.c.member, latest.c.n, events.c.type)
        .join(
            events,
            and_(
                events.c.member == latest.c.member,
                events.c.ts == latest.c.ts,
                events.c.community == community,
                events.c.type.in_(kinds),
            ),
        )
        .order_by(events.c.id)
    )
    last_kind: dict[str, tuple[int, str]] = {}
    for member, n, kind in conn.execute(query):
        last_kind[member] = (n, kind)  # the last by id wins among events at the same ts
    return {m: n for m, (n, kind) in last_kind.items() if kind == EventType.JOIN.value}


@dataclass(frozen=True)
class Reconciliation:
    """What one reconciliation found and appended (member keys)."""

    joined: list[str]
    left: list[str]
    differences: frozenset[str]  # "join:KEY" / "leave:KEY": give back as `confirmed`


def reconcile(
    ws: Workspace,
    platform: str,
    group: str,
    present: Iterable[str],
    now: datetime,
    confirmed: Collection[str] | None = None,
) -> Reconciliation:
    """Append joins for members present on the platform but not in the log, and leaves
    for members in the log but gone, marked `meta.reconciled`.

    A member list and a stream of events are never read at the same instant: a join
    can be on the list before its event arrives. So a live caller passes the previous
    run's `differences` as `confirmed`, and only a difference seen twice is appended
    (None: append every difference, for a one-off check). The source id names the
    member and how many membership events the log held for them, so the same
    reconciliation run twice appends nothing the second time.
    """
    community = ws.settings.bound(platform, group)
    if community is None:
        raise ValueError(f"no community is bound to {platform} group {group}")
    present_keys = {member_key(platform, user) for user in present}
    with write_transaction(ws.engine) as conn:
        logged = current_members(conn, community)
        # The first list of a group the log knows nothing of: the members already there
        # are a baseline, not newcomers (no playbook welcomes them; see docs/platforms.md).
        baseline = not _membership_counts_any(conn, community)
        found = {f"join:{k}" for k in present_keys - logged.keys()} | {
            f"leave:{k}" for k in logged.keys() - present_keys
        }
        chosen = found if confirmed is None else found & set(confirmed)
        joined = sorted(d.split(":", 1)[1] for d in chosen if d.startswith("join:"))
        left = sorted(d.split(":", 1)[1] for d in chosen if d.startswith("leave:"))
        counts = _membership_counts(conn, community, set(joined))
        rows = [
            _reconciled(EventType.JOIN, community, key, counts.get(key, 0), now, platform, baseline)
            for key in joined
        ] + [
            _reconciled(EventType.LEAVE, community, key, logged[key], now, platform) for key in left
        ]
        append(conn, rows, platform)
    return Reconciliation(joined, left, frozenset(found - chosen))


def _membership_counts(conn: Connection, community: str, keys: set[str]) -> dict[str, int]:
    if not keys:
        return {}
    query = (
        select(events.c.member, func.count())
        .where(
            events.c.community == community,
            events.c.type.in_((EventType.JOIN.value, EventType.LEAVE.value)),
            events.c.member.in_(sorted(keys)),
        )
        .group_by(events.c.member)
    )
    return {member: n for member, n in conn.execute(query)}


def _membership_counts_any(conn: Connection, community: str) -> bool:
    """Whether the log holds any join or leave of the community."""
    query = select(events.c.id).where(
        events.c.community == community,
        events.c.type.in_((EventType.JOIN.value, EventType.LEAVE.value)),
    )
    return conn.execute(query.limit(1)).first() is not None


def _reconciled(
    kind: EventType,
    community: str,
    key: str,
    seen: int,
    now: datetime,
    platform: str,
    baseline: bool = False,
) -> dict[str, Any]:
    source_id = f"reconcile:{community}:{key}:{kind.value}:{seen}"
    event = Event(
        ts=now,
        community=community,
        type=kind.value,
        member=key,
        source_id=f"{BASELINE}{source_id}" if baseline else source_id,
        meta={"reconciled": True, "baseline": True} if baseline else {"reconciled": True},
    )
    return _row(event, community, platform)
