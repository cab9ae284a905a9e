"""The review's members section: how members moved between lifecycle states.

The moves are the `state_changed` events `shequn members refresh` recorded in the
period (shequn.members.flow); the review shows them as a from → to table.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from shequn.clock import to_micros
from shequn.members.flow import state_flow
from shequn.periods import Period
from shequn.review.build import Review
from shequn.workspace import Workspace


def with_member_flow(
    review: Review, ws: Workspace, community: str | None, period: Period
) -> Review:
    """The review with the period's lifecycle flow of the community (None: all)."""
    from shequn.store.engine import read_transaction

    zone = ws.settings.zone
    start, end = (
        to_micros(datetime.combine(day, time(), zone)) for day in (period.start, period.end)
    )
    with read_transaction(ws.engine) as conn:
        flow = state_flow(conn, start, end, community)
    return replace(review, member_flow=tuple(flow))
