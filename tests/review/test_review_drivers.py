"""Drivers from hand-made by_channel and per-community metric dicts."""

from __future__ import annotations

from shequn.review.drivers import (
    channel_buyer_drivers,
    channel_traffic_drivers,
    cohort_drivers,
    community_drivers,
    describe,
)

BY_CHANNEL = {
    "抖音": {"visits": 5000, "channel_joins": 100, "joins": 400, "buyers": 3},
    "公众号": {"visits": 1000, "channel_joins": 200, "joins": 500, "buyers": 50},
    "offline_qr": {"visits": 200, "channel_joins": 60, "joins": 100, "buyers": 7},
}


def test_channel_joins_share_vs_buyers_share_sentence() -> None:
    # joins 400/1000 = 40%; buyers 3/60 = 5%.
    (driver,) = channel_buyer_drivers(BY_CHANNEL)
    assert driver.subject == "抖音"
    assert driver.figures == {"join_share": 0.4, "buyer_share": 0.05}
    assert describe(driver, "en") == "Channel 抖音 brought 40% of joins but 5.0% of buyers."
    assert describe(driver, "zh_CN") == "渠道 抖音 带来了 40% 的入群，却只贡献了 5.0% 的购买者。"


def test_no_buyers_no_channel_buyer_driver() -> None:
    assert channel_buyer_drivers({"a": {"joins": 3, "buyers": 0}}) == []
    assert channel_buyer_drivers({}) == []


def test_channel_that_converts_at_most_half_as_well() -> None:
    # overall 360/6200 = 5.8%; 抖音 100/5000 = 2.0% with 81% of visits.
    (driver,) = channel_traffic_drivers(BY_CHANNEL)
    assert driver.subject == "抖音"
    assert driver.figures["visits"] == 5000
    assert driver.figures["conversion"] == 0.02
    assert describe(driver, "en") == (
        "Channel 抖音 had 5,000 visits but only 2.0% joined (5.8% overall)."
    )


def test_communities_below_the_workspace_worst_first() -> None:
    metrics = {
        "*": {"active_rate": 0.5},
        "a": {"active_rate": 0.6},
        "b": {"active_rate": 0.3},
        "c": {"active_rate": 0.45},
        "d": {"active_rate": None},
    }
    found = community_drivers(metrics, "active_rate", names={"b": "<b>Book club</b>"})
    assert [d.subject for d in found] == ["<b>Book club</b>", "c"]
    assert describe(found[0], "en") == (
        "Community <b>Book club</b>: active rate 30.0%, below 50.0% overall."
    )
    worse_churn = community_drivers(
        {"*": {"churn_rate": 0.1}, "a": {"churn_rate": 0.2}, "b": {"churn_rate": 0.05}},
        "churn_rate",
        higher_is_better=False,
    )
    assert [d.subject for d in worse_churn] == ["a"]


def test_cohort_converting_worse_than_the_previous_one() -> None:
    (driver,) = cohort_drivers(
        {"join_cohort_conversion": 0.06}, {"join_cohort_conversion": 0.1}, "2026-10", "2026-09"
    )
    assert describe(driver, "en") == (
        "Of the members who joined in 2026-10, 6.0% made a first purchase within 30 days of "
        "joining, against 10% of those who joined in 2026-09."
    )
    assert (
        cohort_drivers({"join_cohort_conversion": 0.095}, {"join_cohort_conversion": 0.1}, "x", "y")
        == []
    )
