"""The copy's derived tables are the same whether the log arrives at once or in parts."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequn.analytics import derived
from shequn.analytics.copy import append, create_schema, memory_copy
from shequn.analytics.engine import compute
from tests.analytics.helpers import SHANGHAI, LogBuilder, to_arrow
from tests.analytics.strategies import PERIODS, logs

# Each derived table, in a form that does not depend on how appends split the log.
DERIVED = {
    "first_touch": "SELECT * FROM first_touch ORDER BY ALL",
    "community_start": "SELECT * FROM community_start ORDER BY ALL",
    "member_days": "SELECT community, member, day, MAX(spoke) FROM member_days "
    "GROUP BY ALL ORDER BY ALL",
    "order_totals": "SELECT * FROM order_totals ORDER BY ALL",
}


def _in_parts(
    events: list[dict[str, Any]], cuts: list[int], zone: ZoneInfo = SHANGHAI
) -> duckdb.DuckDBPyConnection:
    """A copy made by one append per part of the log (cut before each index of cuts)."""
    con = duckdb.connect()
    create_schema(con)
    for lo, hi in pairwise([0, *sorted(cuts), len(events)]):
        append(con, to_arrow(events[lo:hi]), zone)
    return con


def _derived(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {name: con.execute(query).fetchall() for name, query in DERIVED.items()}


def test_an_order_and_a_day_split_across_appends() -> None:
    log = LogBuilder()
    log.add("2026-03-02 10:00", "message", "a")
    log.add("2026-03-02 12:00", "order", "b", order_id="o1", amount="10")
    log.add("2026-03-02 11:00", "reaction", "a")  # the same day, in the next append
    log.add("2026-03-02 09:00", "order", "c", order_id="o1", amount="-2.5")  # earlier row
    con = _in_parts(log.events, [2])
    rows = _derived(con)
    # One member-day for a (it spoke); o1 nets 7.5 and belongs to c, its earliest row.
    assert rows["member_days"] == [("c1", "a", 20514, 1)]
    assert rows["order_totals"] == [
        ("c1", "o1", 0, Decimal("7.5"), log.events[3]["ts"], 4, "c"),
    ]
    assert con.execute("SELECT COUNT(*) FROM member_days").fetchone() == (2,)
    assert rows == _derived(memory_copy(to_arrow(log.events), SHANGHAI))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.lists(st.integers(0, 60), max_size=4), st.sampled_from([0.0, 1e9]))
def test_appends_in_parts_equal_one_append(case: tuple, cuts: list[int], few: float) -> None:
    # `few` 0: every append folds every derived row again; 1e9: each updates only the
    # rows of the members and orders it names.
    events, zone, _persons = case
    whole = _in_parts(events, [], zone)
    with patch.object(derived, "FEW", few):
        parts = _in_parts(events, [min(c, len(events)) for c in cuts], zone)
    assert _derived(parts) == _derived(whole)
    start, end = PERIODS[0]
    assert compute(parts, start, end, zone=zone) == compute(whole, start, end, zone=zone)


def test_a_small_append_rewrites_only_the_rows_it_names() -> None:
    # Three orders and two members' first touches; a small batch names o2 and b only.
    log = LogBuilder()
    for i in range(40):
        log.add(f"2026-03-02 {10 + i // 10}:{(i % 10) * 5:02d}", "message", f"m{i % 4}")
    log.add("2026-03-03 10:00", "order", "a", order_id="o1", amount="10")
    log.add("2026-03-03 11:00", "order", "b", order_id="o2", amount="20")
    log.add("2026-03-03 12:00", "order", "b", order_id="o3", amount="30")
    log.add("2026-03-04 10:00", "join", "b")
    log.add("2026-03-05 10:00", "order", "b", order_id="o2", amount="-5")  # a refund
    log.add("2026-03-01 10:00", "message", "b")  # b's first touch is now earlier
    con = _in_parts(log.events, [len(log.events) - 2])
    rowids = "SELECT order_id, rowid FROM order_totals ORDER BY order_id"
    rows = _derived(con)
    assert rows == _derived(memory_copy(to_arrow(log.events), SHANGHAI))
    assert [r[:4] for r in rows["order_totals"]] == [
        ("c1", "o1", 0, Decimal("10")),
        ("c1", "o2", 0, Decimal("15")),
        ("c1", "o3", 0, Decimal("30")),
    ]
    # o1 and o3 kept their rows (the first ones written); o2's was written anew.
    assert [r[1] for r in con.execute(rowids).fetchall()] == [0, 3, 2]
