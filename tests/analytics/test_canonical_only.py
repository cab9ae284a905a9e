"""The SOP engine's own events (shequn.sop.journal.SOP_TYPES) move no metric."""

from __future__ import annotations

from typing import Any

import duckdb

from shequn.analytics.copy import append, create_schema, memory_copy
from shequn.analytics.engine import compute
from shequn.sop.journal import SOP_TYPES
from tests.analytics.helpers import (
    MARCH,
    SHANGHAI,
    LogBuilder,
    canonical_log,
    engine_figures,
    engine_series,
    to_arrow,
)


def _sprinkled(log: LogBuilder) -> list[dict[str, Any]]:
    """The same log with SOP events between its events, renumbered in order."""
    sop = LogBuilder()
    # Earlier than c1's and c2's first canonical event, with and without a member.
    sop.add("2026-02-01 08:00", "community_created", None)
    sop.add("2026-02-01 08:00", "tag_added", "h")
    sop.add("2026-02-02 08:00", "stage_entered", None, community="c2")
    # On the period's days, about members who are and are not in the log.
    for i, kind in enumerate(SOP_TYPES):
        member = ("a", "b", "zz", None)[i % 4]
        sop.add(f"2026-03-{2 + i % 6:02d} 1{i % 10}:30", kind, member, content_id="x")
    sop.add("2026-03-03 09:30", "points_added", "k", amount="5", community="c2")
    # Only in SOP events: a community must not appear because of them.
    sop.add("2026-03-04 09:00", "metric_crossed", None, community="c9")
    rows: list[dict[str, Any]] = []
    for i, event in enumerate(log.events):
        rows.append(event)
        rows += sop.events[2 * i : 2 * i + 2]
    rows += sop.events[2 * len(log.events) :]
    return [{**row, "id": n} for n, row in enumerate(rows, start=1)]


def test_sop_events_move_no_metric() -> None:
    log = canonical_log()
    mixed = _sprinkled(log)
    assert len(mixed) == len(log.events) + len(SOP_TYPES) + 5
    plain = engine_figures(log.events, *MARCH)
    assert engine_figures(mixed, *MARCH) == plain
    assert sorted(plain) == ["*", "c1", "c2"]
    # The history start is c1's first canonical event: h is a member at 03-02 00:00.
    assert plain["c1"]["members_at_start"] == 2  # h (since 03-01 08:00) and a
    assert plain["c1"]["k_factor"] == 0.5  # b invited by a member / 2
    assert plain["c1"]["content_ctr"] == {"x": 1 / 3}  # b / h, a, b at 03-03 12:00
    assert engine_series(mixed, *MARCH) == engine_series(log.events, *MARCH)


def test_appending_in_increments_gives_the_same_copy() -> None:
    log = canonical_log()
    mixed = _sprinkled(log)
    whole = memory_copy(to_arrow(mixed), SHANGHAI)
    parts = duckdb.connect()
    create_schema(parts)
    # Batches that start with SOP events only, and cut between a member's events.
    for lo, hi in ((0, 3), (3, 4), (4, 17), (17, len(mixed))):
        append(parts, to_arrow(mixed[lo:hi]), SHANGHAI)
    for table in ("events", "first_touch", "community_start"):
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert parts.execute(query).fetchall() == whole.execute(query).fetchall(), table
    assert parts.execute("SELECT DISTINCT type FROM events ORDER BY 1").fetchall() == [
        (t,) for t in sorted({e["type"] for e in log.events})
    ]
    got = compute(parts, *MARCH, zone=SHANGHAI)
    assert got == compute(whole, *MARCH, zone=SHANGHAI) == engine_figures(log.events, *MARCH)
