"""Outcomes per enrolment on a hand-made log: strict "after", windows, communities."""

from __future__ import annotations

import polars as pl

from shequn.experiments.outcomes import DAY_US, ENROLMENT_SCHEMA, EVENT_SCHEMA, outcomes

T = 1_000 * DAY_US


def _enrolled(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    data = [("e", "treated", c, m, ts) for c, m, ts in rows]
    return pl.DataFrame(data, schema=ENROLMENT_SCHEMA, orient="row")


def test_spoke_counts_only_the_members_own_messages_in_the_window() -> None:
    enrolled = _enrolled(
        [
            ("club", "a", T),
            ("club", "b", T),
            ("club", "c", T),
            ("club", "d", T),
            ("club", "a", T + 9 * DAY_US),
        ]
    )
    messages = pl.DataFrame(
        [
            ("club", "a", T),  # at the instant itself: not after
            ("club", "a", T + 7 * DAY_US),  # the window's last instant: counts
            ("club", "b", T + 7 * DAY_US + 1),  # one µs late
            ("other", "c", T + DAY_US),  # c spoke, but in another community
            ("club", "d", T + 5 * DAY_US),
        ],
        schema=EVENT_SCHEMA,
        orient="row",
    )
    assert outcomes(enrolled, "spoke_7d", messages).to_list() == [True, False, False, True, False]
    assert outcomes(enrolled, "retained_30d", messages).to_list() == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_first_order_is_the_first_ever() -> None:
    enrolled = _enrolled([("club", "a", T), ("club", "b", T)])
    orders = pl.DataFrame(
        [("club", "a", T - DAY_US), ("club", "a", T + DAY_US), ("club", "b", T + 2 * DAY_US)],
        schema=EVENT_SCHEMA,
        orient="row",
    )
    assert outcomes(enrolled, "first_order_30d", orders).to_list() == [False, True]
