"""Reads of the event log (`status`). Appending is in shequn.store.bulk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from shequn.store.schema import events, members


@dataclass(frozen=True)
class Overview:
    """What `shequn status` shows."""

    events: int
    first_ts: int | None
    last_ts: int | None
    by_type: dict[str, int]
    by_source: dict[str, int]
    communities: list[dict[str, Any]]
    members: int
    persons: int


def overview(conn: Connection) -> Overview:
    total, first_ts, last_ts = conn.execute(
        select(func.count(), func.min(events.c.ts), func.max(events.c.ts))
    ).one()
    by_type = {
        t: n for t, n in conn.execute(select(events.c.type, func.count()).group_by(events.c.type))
    }
    by_source = {
        s: n
        for s, n in conn.execute(select(events.c.source, func.count()).group_by(events.c.source))
    }
    per_community = conn.execute(
        select(
            events.c.community,
            func.count().label("events"),
            func.count(events.c.member.distinct()).label("members"),
            func.min(events.c.ts).label("first_ts"),
            func.max(events.c.ts).label("last_ts"),
        )
        .group_by(events.c.community)
        .order_by(events.c.community)
    ).mappings()
    member_count, person_count = conn.execute(
        select(func.count(), func.count(members.c.person.distinct()))
    ).one()
    return Overview(
        events=total,
        first_ts=first_ts,
        last_ts=last_ts,
        by_type=dict(sorted(by_type.items())),
        by_source=dict(sorted(by_source.items())),
        communities=[dict(row) for row in per_community],
        members=member_count,
        persons=person_count,
    )


def latest_ts(conn: Connection, until: int) -> int | None:
    """The instant of the last event at or before `until` (µs), or None when none is."""
    found = conn.scalar(select(func.max(events.c.ts)).where(events.c.ts <= until))
    return None if found is None else int(found)
