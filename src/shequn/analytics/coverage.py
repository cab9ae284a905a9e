"""What the event log holds per community, for the review's data-quality warnings."""

from __future__ import annotations

from dataclasses import dataclass

from shequn.analytics.backend import Backend

_QUERY = """
SELECT community,
       SUM(CASE WHEN type = 'order' THEN 1 ELSE 0 END),
       SUM(CASE WHEN type = 'leave' THEN 1 ELSE 0 END),
       SUM(CASE WHEN type = 'join' THEN 1 ELSE 0 END),
       SUM(CASE WHEN type = 'join' AND channel IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN type = 'visit' THEN 1 ELSE 0 END),
       MIN(ts), MAX(ts)
FROM events GROUP BY community
"""


@dataclass(frozen=True)
class Coverage:
    """Counts of the events some metrics need, and the time span of a scope's log.

    Times are UTC microseconds; None when the scope has no event.
    """

    orders: int = 0
    leaves: int = 0
    joins: int = 0
    channel_joins: int = 0
    visits: int = 0
    first_ts: int | None = None
    last_ts: int | None = None

    def __add__(self, other: Coverage) -> Coverage:
        firsts = [t for t in (self.first_ts, other.first_ts) if t is not None]
        lasts = [t for t in (self.last_ts, other.last_ts) if t is not None]
        return Coverage(
            self.orders + other.orders,
            self.leaves + other.leaves,
            self.joins + other.joins,
            self.channel_joins + other.channel_joins,
            self.visits + other.visits,
            min(firsts, default=None),
            max(lasts, default=None),
        )


def log_coverage(db: Backend) -> dict[str, Coverage]:
    """Per community, and `*` for all of them, what the whole log holds."""
    found = {}
    for community, orders, leaves, joins, channel_joins, visits, first, last in db.rows(_QUERY):
        found[community] = Coverage(
            int(orders or 0),
            int(leaves or 0),
            int(joins or 0),
            int(channel_joins or 0),
            int(visits or 0),
            first,
            last,
        )
    total = Coverage()
    for cover in found.values():
        total += cover
    found["*"] = total
    return found
