"""Actions executed inside the store: tag, untag, add points, start an activity.

They have no external delivery: the dispatcher runs them in the transaction that
records its outcomes (the `state` platform), so each happens exactly once with the
outbox row marked sent. Tags and points are not kept in a table of their own: a
member's tags and points are a replay of their `tag_*` and `points_added` events.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, literal_column, select

from shequn.config import Settings
from shequn.sop import journal
from shequn.store.schema import events

PLATFORM = "state"
# Written inline (not as a parameter) so SQLite matches the partial index of migration 0003.
_SOP = literal_column(f"'{journal.SOURCE}'")
Rows = list[dict[str, Any]]


def member_tags(conn: Connection, member: str) -> set[str]:
    """The member's current tags: their tag_added / tag_removed events replayed in order."""
    query = (
        select(events.c.type, events.c.text)
        .where(
            events.c.source == _SOP,
            events.c.member == member,
            events.c.type.in_(("tag_added", "tag_removed")),
        )
        .order_by(events.c.ts, events.c.id)
    )
    held: set[str] = set()
    for kind, tag in conn.execute(query):
        (held.add if kind == "tag_added" else held.discard)(tag)
    return held


def member_points(conn: Connection, member: str) -> int:
    """The member's points: the sum of their points_added events."""
    query = select(events.c.amount).where(
        events.c.source == _SOP,
        events.c.member == member,
        events.c.type == "points_added",
    )
    return sum(int(amount) for amount in conn.scalars(query))


def _tag(conn: Connection, row: Any, payload: dict[str, Any], now: int, _s: Settings) -> Rows:
    member, tag = payload["member"], payload["tag"]
    held = tag in member_tags(conn, member)
    if (row.action == "tag") == held:
        return []  # already held / not held: nothing changes, nothing is recorded
    kind = "tag_added" if row.action == "tag" else "tag_removed"
    return [journal.entry(kind, now, row.community, row.key, member=member, text=tag)]


def _points(conn: Connection, row: Any, payload: dict[str, Any], now: int, s: Settings) -> Rows:
    member, points = payload["member"], int(payload["points"])
    before = member_points(conn, member)
    total = before + points
    out = [
        journal.entry(
            "points_added",
            now,
            row.community,
            row.key,
            member=member,
            text=payload.get("reason") or "",
            amount=str(points),
            total=total,
        )
    ]
    old, new = s.tier_at(before), s.tier_at(total)
    if new != old and new is not None:
        out.append(
            journal.entry(
                "tier_changed",
                now,
                row.community,
                row.key,
                member=member,
                text=new,
                **{"from": old},
            )
        )
    return out


def _activity(conn: Connection, row: Any, payload: dict[str, Any], now: int, _s: Settings) -> Rows:
    return [
        journal.entry(
            "activity_started",
            now,
            row.community,
            row.key,
            text=payload["activity"],
            title=payload.get("title") or "",
            ends_ts=payload["ends_ts"],
        )
    ]


EXECUTORS: dict[str, Callable[[Connection, Any, dict[str, Any], int, Settings], Rows]] = {
    "tag": _tag,
    "untag": _tag,
    "add_points": _points,
    "start_activity": _activity,
}


def execute(conn: Connection, row: Any, now: int, settings: Settings) -> Rows:
    """Run one state action and record its events; the events recorded.

    Rows of one batch run one after another in one transaction, so a member's second
    add_points of a batch sees the first one's total.
    """
    payload = json.loads(row.payload)
    found = EXECUTORS[row.action](conn, row, payload, now, settings)
    journal.record(conn, found)
    return found
