"""Where each community stands in its lifecycle: a cache of its stage events.

The `stage_entered` and `community_created` events are the record; the `sop_state`
value `lifecycle` caches each community's position and is rebuilt from the events
when missing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, select

from shequn.sop import journal
from shequn.store import state as store_state
from shequn.store.schema import events

POSITIONS = "lifecycle"  # sop_state: {community: Position}


@dataclass
class Position:
    """Where a community is: its stage, since when, when it was created, entries so far."""

    stage: str
    since: int
    created: int
    entries: int


def positions(conn: Connection) -> dict[str, Position]:
    """Each known community's position (from the cache, else from the events)."""
    stored = store_state.get(conn, POSITIONS)
    if stored is not None:
        return {key: Position(**value) for key, value in json.loads(stored).items()}
    query = (
        select(events.c.community, events.c.type, events.c.ts, events.c.text)
        .where(events.c.source == journal.SOURCE)
        .where(events.c.type.in_(("community_created", "stage_entered")))
        .order_by(events.c.ts, events.c.id)
    )
    found: dict[str, Position] = {}
    for community, kind, ts, text in conn.execute(query):
        if kind == "community_created":
            found.setdefault(community, Position("prepare", ts, ts, 0)).created = ts
        else:
            old = found.setdefault(community, Position(text, ts, ts, 0))
            old.stage, old.since, old.entries = text, ts, old.entries + 1
    return found


def cached(conn: Connection) -> bool:
    """Whether the cache is stored."""
    return store_state.get(conn, POSITIONS) is not None


def save(conn: Connection, found: dict[str, Position]) -> None:
    """Store the positions in the cache (in the caller's transaction)."""
    value = json.dumps({k: asdict(v) for k, v in sorted(found.items())})
    store_state.put(conn, POSITIONS, value)
