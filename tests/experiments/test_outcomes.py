"""Outcomes per enrolment on a hand-made log in an in-memory analytics copy: strict
"after", windows, communities, the first order ever."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import polars as pl

from shequn.analytics.copy import STORE_COLUMNS, memory_copy
from shequn.experiments.outcomes import DAY_US, met
from tests.analytics.helpers import to_arrow

T = 1_000 * DAY_US


def _met(enrolled: list[tuple[str, str, int]], log: list[tuple[str, str, str, int]], outcome: str):  # type: ignore[no-untyped-def]
    rows = [
        {**dict.fromkeys(STORE_COLUMNS), "id": i, "community": c, "member": m, "type": k, "ts": ts}
        for i, (k, c, m, ts) in enumerate(log, start=1)
    ]
    con = memory_copy(to_arrow(rows), ZoneInfo("UTC"))
    frame = pl.DataFrame(enrolled, schema=["community", "member", "ts"], orient="row")
    found = met(con, frame.with_row_index("_row"), outcome)
    return found.sort("_row")["met"].to_list()


ENROLLED = [("club", "a", T), ("club", "b", T), ("club", "c", T), ("club", "d", T)]
ENROLLED += [("club", "a", T + 9 * DAY_US)]


def test_spoke_counts_only_the_members_own_messages_in_the_window() -> None:
    log = [
        ("message", "club", "a", T),  # at the instant itself: not after
        ("message", "club", "a", T + 7 * DAY_US),  # the window's last instant: counts
        ("message", "club", "b", T + 7 * DAY_US + 1),  # one µs late
        ("message", "other", "c", T + DAY_US),  # c spoke, but in another community
        ("message", "club", "d", T + 5 * DAY_US),
        ("join", "club", "b", T + DAY_US),  # not a message
    ]
    assert _met(ENROLLED, log, "spoke_7d") == [True, False, False, True, False]


def test_retained_means_no_leave_in_the_window() -> None:
    log = [
        ("leave", "club", "a", T + 7 * DAY_US),  # a left within 30 days of the first
        ("leave", "club", "b", T + 30 * DAY_US + 1),  # b left one µs after the window
        ("leave", "other", "c", T + DAY_US),  # another community
        ("leave", "club", "d", T),  # at the instant itself: not after
    ]
    # The second enrolment of a (day 9): the leave on day 7 came before it.
    assert _met(ENROLLED, log, "retained_30d") == [False, True, True, True, True]


def test_first_order_is_the_first_ever() -> None:
    log = [
        ("order", "club", "a", T - DAY_US),
        ("order", "club", "a", T + DAY_US),
        ("order", "club", "b", T + 2 * DAY_US),
        ("order", "club", "c", T + 31 * DAY_US),
    ]
    enrolled = [("club", "a", T), ("club", "b", T), ("club", "c", T)]
    assert _met(enrolled, log, "first_order_30d") == [False, True, False]
