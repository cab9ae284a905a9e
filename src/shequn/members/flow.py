"""The lifecycle flow: how many members moved from each state to each other in a period.

Read from the `state_changed` events that `shequn members refresh` records (each with
its `from` state in meta; a member's first recorded state comes from "" = unknown).
The review calls `state_flow` for its members section (shequn.review.members_section).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, select

from shequn.analytics.period import ZonedPeriod, local_midnight_us
from shequn.sop.journal import SOURCE
from shequn.store.schema import events
from shequn.workspace import Workspace


@dataclass(frozen=True)
class Flow:
    """One cell of the flow table: `count` members went from `source` to `target`."""

    source: str
    target: str
    count: int


def state_flow(conn: Connection, start: int, end: int, community: str | None = None) -> list[Flow]:
    """From→to counts of state changes recorded in [start, end) (UTC microseconds).

    A member who changed twice in the period counts once per change.
    """
    query = select(events.c.text, events.c.meta).where(
        events.c.source == SOURCE,
        events.c.type == "state_changed",
        events.c.ts >= start,
        events.c.ts < end,
    )
    if community is not None:
        query = query.where(events.c.community == community)
    counts: Counter[tuple[str, str]] = Counter()
    for target, meta in conn.execute(query):
        source = (json.loads(meta) if meta else {}).get("from") or ""
        counts[(source, target)] += 1
    return [Flow(s, t, n) for (s, t), n in sorted(counts.items())]


def flow_between(ws: Workspace, start: date, end: date) -> list[Flow]:
    """The flow for local days [start, end) of the workspace.

    Raises:
        InputError: an empty period (`end` not after `start`).
    """
    from shequn.store.engine import read_transaction

    period = ZonedPeriod(start, end, ws.settings.zone)
    with read_transaction(ws.engine) as conn:
        lo, hi = (local_midnight_us(day, period.zone) for day in (start, end))
        return state_flow(conn, lo, hi)
