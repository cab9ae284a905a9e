"""Hand-checked examples: every metric of docs/metrics.md on a log small enough to
count on one's fingers, with the arithmetic beside each expected value.

Times are local (Asia/Shanghai unless said); community "c1" unless said.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.analytics import reference
from tests.analytics.backends import AnalyticsBackend
from tests.analytics.helpers import LogBuilder

MAR = {d: date(2026, 3, d) for d in range(1, 32)}


def both(backend: AnalyticsBackend, log: LogBuilder, start: date, end: date, **options) -> dict:
    """The backend's figures, checked equal to the reference's on the same log."""
    persons = options.pop("persons", None)
    got = backend.figures(log.events, start, end, log.zone, persons, **options)
    assert got == reference.compute(log.events, start, end, log.zone, persons, **options)
    return got


def test_membership_with_leaves_rejoins_and_local_midnight(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-03-01 10:00", "join", "a")
    log.add("2026-03-01 11:00", "join", "b")
    log.add("2026-03-02 00:00", "join", "c")  # at P's first instant: in P, and a member at start
    log.add("2026-03-02 10:00", "join", "a")  # already a member: opens nothing, still a join
    log.add("2026-03-02 11:00", "leave", "b")
    log.add("2026-03-02 12:00", "leave", "d")  # never a member: closes nothing, still a leave
    log.add("2026-03-03 09:00", "join", "b")  # rejoin
    log.add("2026-03-03 20:00", "leave", "c")
    log.add("2026-03-04 00:00", "join", "e")  # P's end instant: not in P, a member at end
    f = both(backend, log, MAR[2], MAR[4])["c1"]
    assert f["members_at_start"] == 3  # a, b, c (c joined at exactly 03-02 00:00)
    assert f["members_at_end"] == 3  # a, b (rejoined), e; c left
    assert f["members_during"] == 3  # a, b, c; e's interval starts at P's end
    assert f["joins"] == 3  # c, a (again), b (rejoin)
    assert f["leaves"] == 3  # b, d, c
    assert f["net_growth"] == 0  # 3 - 3
    assert f["growth_rate"] == 0.0  # 0 / 3
    assert f["churn_rate"] == 2 / 3  # b and c left and were members at start; d was not


def test_history_starting_mid_life(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-03-01 08:00", "visit", None, channel="ch1")  # the community's first event
    log.add("2026-03-01 09:00", "message", "h")  # no join: a member since 08:00
    log.add("2026-03-01 12:00", "leave", "h")
    log.add("2026-03-01 13:00", "message", "h")  # a message after a leave reopens nothing
    log.add("2026-03-01 14:00", "reaction", "k")  # member since 08:00
    log.add("2026-03-01 15:00", "join", "k")  # already a member: opens nothing
    log.add("2026-03-01 16:00", "checkin", "z")  # a checkin never opens an interval
    first_day = both(backend, log, MAR[1], MAR[2])["c1"]
    assert first_day["members_at_start"] == 0  # the history starts at 08:00
    assert first_day["members_at_end"] == 1  # k; h left at 12:00
    assert first_day["members_during"] == 2  # h [08:00, 12:00) and k [08:00, ...)
    assert first_day["growth_rate"] is None  # 1 / 0
    assert first_day["churn_rate"] is None  # 0 / 0
    assert both(backend, log, MAR[2], MAR[3])["c1"]["members_at_start"] == 1  # k


def test_activity(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-02-20 10:00", "join", "a")
    log.add("2026-02-20 10:00", "join", "b")
    log.add("2026-02-01 23:59", "checkin", "y")  # local day 02-01: outside the MAU window
    log.add("2026-02-02 00:00", "checkin", "x")  # first day of the 30 days ending 03-03
    log.add("2026-03-01 23:59", "message", "b")  # 03-01: in the WAU window, not in P
    log.add("2026-03-02 00:00", "message", "a")  # local midnight: day 03-02
    log.add("2026-03-02 12:00", "message", "a")
    log.add("2026-03-03 10:00", "reaction", "b")
    log.add("2026-03-03 11:00", "checkin", "c")  # not a member: activity counts anyway
    log.add("2026-03-04 00:00", "message", "a")  # P's end: outside
    f = both(backend, log, MAR[2], MAR[4])["c1"]
    assert f["dau"] == 2  # on 03-03: b, c
    assert f["wau"] == 3  # 02-25..03-03: a, b, c
    assert f["mau"] == 4  # 02-02..03-03: x, b, a, c (y was active on 02-01)
    assert f["active_members"] == 3  # a, b, c
    assert f["active_rate"] == 3 / 2  # 3 active / 2 members during P (a, b)
    assert f["speaking_rate"] == 1 / 2  # a wrote in P / 2 members
    assert f["messages"] == 2  # a at 00:00 and 12:00 on 03-02
    assert f["messages_per_active"] == 2 / 3
    assert f["stickiness"] == 0.375  # mean dau (1 + 2) / 2 days = 1.5, / mau 4


def test_funnel_and_channels(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-03-02 10:00", "visit", None, channel="ch1", visitor="v1")
    log.add("2026-03-02 11:00", "visit", None, channel="ch1", visitor="v1")  # same visitor
    log.add("2026-03-02 12:00", "visit", None, channel="ch1")  # no key: a visitor of its own
    log.add("2026-03-02 12:30", "visit", None, channel="ch1")  # and another
    log.add("2026-03-02 12:40", "visit", None, channel="ch2", visitor="v1")
    log.add("2026-03-02 12:50", "visit", None, visitor="v9")  # no channel: ignored
    log.add("2026-03-02 12:55", "visit", None, channel="ch1", visitor="v1", community="c2")
    log.add("2026-03-02 13:00", "join", "a", channel="ch1", visitor="v1")
    log.add("2026-03-02 14:00", "join", "b", channel="ch1")
    log.add("2026-03-02 15:00", "join", "c", channel="ch3")  # a channel without visits
    log.add("2026-03-02 16:00", "join", "d", visitor="v1")  # no channel: never inferred
    log.add("2026-03-02 17:00", "order", "a", order_id="o1", amount="20.00")
    figures = both(backend, log, MAR[2], MAR[3])
    f = figures["c1"]
    assert f["visits"] == 4  # ch1: v1 + 2 keyless = 3; ch2: v1 = 1
    assert f["channel_joins"] == 3  # a, b (ch1), c (ch3)
    assert f["traffic_conversion"] == 0.5  # joins on channels with visits 2 / visits 4
    assert f["by_channel"] == {
        "ch1": {  # 2 joins / 3 visitors; a bought 20.00
            "visits": 3, "channel_joins": 2, "traffic_conversion": 2 / 3,
            "joins": 2, "buyers": 1, "gmv": Decimal("20.00"),
        },
        "ch2": {
            "visits": 1, "channel_joins": 0, "traffic_conversion": 0.0,
            "joins": 0, "buyers": 0, "gmv": Decimal(0),
        },
        "ch3": {  # 1 join / 0 visits: null
            "visits": 0, "channel_joins": 1, "traffic_conversion": None,
            "joins": 1, "buyers": 0, "gmv": Decimal(0),
        },
    }  # fmt: skip
    # Visitor keys are workspace-wide: v1 on ch1 in c2 is the same visitor as in c1.
    assert figures["*"]["by_channel"]["ch1"]["visits"] == 3
    assert figures["c2"]["visits"] == 1
    assert figures["*"]["visits"] == 4  # ch1 3 + ch2 1


def test_orders_with_repeated_ids_and_refunds(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    for m in ("a", "b", "c"):
        log.add("2026-03-01 09:00", "join", m)
    log.add("2026-03-02 10:00", "order", "a", order_id="o1", amount="100")
    log.add("2026-03-02 10:05", "order", "a", order_id="o1", amount="50")  # o1: 150
    log.add("2026-03-02 11:00", "order", "a", order_id="o2", amount="30")
    log.add("2026-03-02 12:00", "order", "b", order_id="o3", amount="80")
    log.add("2026-03-02 13:00", "order", "b", order_id="o3", amount="-80")  # o3 nets 0
    log.add("2026-03-02 14:00", "order", "c", order_id="o4", amount="40")
    log.add("2026-03-02 15:00", "order", "c", order_id="o4", amount="-10")  # o4: 30
    log.add("2026-03-02 17:00", "order", "c", amount="-5")  # no order id: an order alone
    log.add("2026-03-02 18:00", "order", "b", order_id="o5", amount="-20")  # a bare refund
    log.add("2026-03-02 19:00", "order", "b", order_id="o6", amount="10")  # o6 is b's
    log.add("2026-03-02 19:30", "order", "c", order_id="o6", amount="5")  # o6: 15
    log.add("2026-03-03 00:00", "order", "a", order_id="o1", amount="70")  # after P
    f = both(backend, log, MAR[2], MAR[3])["c1"]
    assert f["gmv"] == Decimal("200")  # 150 + 30 + 0 + 30 - 5 - 20 + 15
    assert f["orders"] == 4  # o1, o2, o4, o6 (net > 0)
    assert f["buyers"] == 3  # a (o1, o2), c (o4), b (o6, by its earliest row)
    assert f["repurchase_rate"] == 1 / 3  # only a has 2 orders
    assert f["purchase_conversion"] == 1.0  # 3 buyers / 3 members
    assert f["aov"] == Decimal("50.00")  # 200 / 4
    assert f["arpu"] == Decimal("66.67")  # 200 / 3 = 66.666..., to the cent


@pytest.mark.parametrize(("days", "expected"), [(30, 1 / 3), (40, 2 / 3)])
def test_join_cohort_conversion(days: int, expected: float, backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-02-20 10:00", "join", "c")  # first join before P: not in the cohort
    log.add("2026-03-01 10:00", "join", "a")
    log.add("2026-03-30 09:00", "order", "a", order_id="o1", amount="10")  # day 29 after
    log.add("2026-03-02 10:00", "join", "b")
    log.add("2026-04-05 10:00", "order", "b", order_id="o2", amount="10")  # 34 days after
    log.add("2026-03-03 10:00", "join", "d")
    log.add("2026-03-04 10:00", "order", "d", order_id="o3", amount="10")
    log.add("2026-04-20 10:00", "order", "d", order_id="o3", amount="-10")  # o3 nets 0
    log.add("2026-03-05 10:00", "order", "c", order_id="o4", amount="10")
    f = both(backend, log, MAR[1], MAR[8], cohort_days=days)["c1"]
    # cohort a, b, d; within 30 days: a -> 1/3; within 40 days: a, b -> 2/3
    assert f["join_cohort_conversion"] == expected


def test_referral_chains(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-02-01 10:00", "join", "r")
    log.add("2026-02-02 10:00", "join", "q", inviter="r")  # generation 1
    log.add("2026-02-10 10:00", "leave", "r")
    log.add("2026-03-01 10:00", "join", "s")  # generation 0, a member at P's start: a seed
    log.add("2026-03-02 09:00", "join", "t")  # generation 0 opened in P: a seed
    log.add("2026-03-02 10:00", "join", "u", inviter="s")  # invited, generation 1
    log.add("2026-03-02 11:00", "join", "v", inviter="u")  # invited, generation 2 (u <- s)
    log.add("2026-03-02 12:00", "join", "w", inviter="z")  # z is no member: generation 0
    log.add("2026-03-02 13:00", "join", "x", inviter="x")  # oneself: generation 0
    log.add("2026-03-02 14:00", "join", "y", inviter="s", community="c2")  # s not in c2
    log.add("2026-03-02 15:00", "join", "p", inviter="q")  # invited, but q <- r: r no seed
    figures = both(backend, log, MAR[2], MAR[3])
    f = figures["c1"]
    assert f["members_at_start"] == 2  # q and s (r left)
    assert f["k_factor"] == 1.5  # invited joins u, v, p = 3 / 2
    # seeds s, t, w, x = 4; reached: 4 + u, v (p's chain leads to r, not a seed) = 6
    assert f["fission_multiplier"] == 1.5
    assert figures["c2"]["k_factor"] is None  # 0 invited / 0 members at start
    assert figures["c2"]["fission_multiplier"] == 1.0  # seed y reaches only y
    assert figures["*"]["k_factor"] == 1.5  # 3 / workspace members at start (q, s)
    assert figures["*"]["fission_multiplier"] == 7 / 5  # seeds + y; reached + u, v


def test_an_interval_opened_and_closed_at_the_period_start_is_reached(
    backend: AnalyticsBackend,
) -> None:
    log = LogBuilder()
    log.add("2026-03-01 10:00", "join", "s")  # generation 0, a member at P's start: a seed
    log.add("2026-03-02 00:00", "join", "u", inviter="s")  # invited exactly at P's start
    log.add("2026-03-02 00:00", "leave", "u")  # and gone at once: an empty interval
    f = both(backend, log, MAR[2], MAR[3])["c1"]
    # seeds s = 1; reached s and u (opened in P by s's invitation, however short) = 2
    assert f["fission_multiplier"] == 2.0
    assert (f["members_at_start"], f["members_at_end"]) == (1, 1)  # u held no instant


def test_content_ctr(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    for m in ("a", "b", "c"):
        log.add("2026-03-01 09:00", "join", m)
    log.add("2026-03-01 12:00", "content_sent", "op", content_id="z")  # sent before P
    log.add("2026-03-02 10:00", "content_sent", "op", content_id="x")
    log.add("2026-03-02 10:00", "content_sent", "op", content_id="y")
    log.add("2026-03-02 11:00", "join", "d")
    log.add("2026-03-02 12:00", "content_click", "a", content_id="x")
    log.add("2026-03-02 12:30", "content_click", "a", content_id="x")
    log.add("2026-03-02 13:00", "content_click", "d", content_id="x")
    log.add("2026-03-03 10:00", "content_sent", "op", content_id="x")  # not the first send
    log.add("2026-03-02 10:00", "content_sent", "op", content_id="q", community="c2")
    figures = both(backend, log, MAR[2], MAR[3])
    # x: a and d clicked / 3 members (a, b, c) when it was first sent; y: 0 / 3
    assert figures["c1"]["content_ctr"] == {"x": 2 / 3, "y": 0.0}
    assert figures["c2"]["content_ctr"] == {"q": None}  # no members when sent: 1 / 0


def test_zero_denominators_and_quiet_communities(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-03-02 10:00", "visit", None, channel="ch1", community="c1")
    log.add("2026-02-01 10:00", "join", "a", community="c2")  # nothing in P
    figures = both(backend, log, MAR[2], MAR[3])
    assert set(figures) == {"c1", "c2", "*"}  # every community in the log
    f = figures["c1"]
    for name in (
        "growth_rate", "churn_rate", "active_rate", "speaking_rate", "stickiness",
        "messages_per_active", "purchase_conversion", "repurchase_rate", "aov", "arpu",
        "join_cohort_conversion", "k_factor", "fission_multiplier", "sop_on_time_rate",
    ):  # fmt: skip
        assert f[name] is None, name
    assert f["traffic_conversion"] == 0.0  # 0 joins / 1 visit
    assert f["gmv"] == Decimal(0)
    c2 = figures["c2"]
    assert (c2["members_at_start"], c2["joins"], c2["messages"]) == (1, 0, 0)
    assert c2["growth_rate"] == 0.0  # 0 / 1
    assert c2["sop_on_time_rate"] is None  # no SOP task is due: 0 / 0


def test_merged_persons_count_once(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-03-02 10:00", "join", "wa:li")
    log.add("2026-03-02 11:00", "join", "tg:li", community="c2")
    log.add("2026-03-02 12:00", "message", "tg:li")
    log.add("2026-03-02 13:00", "join", "tg:li")  # the same person: already a member of c1
    merged = {"wa:li": "wa:li", "tg:li": "wa:li"}
    figures = both(backend, log, MAR[2], MAR[3], persons=merged)
    assert figures["c1"]["members_at_end"] == 1  # one person, not two keys
    assert figures["*"]["members_at_end"] == 1
    assert figures["*"]["joins"] == 3  # events are still counted
    assert figures["*"]["active_members"] == 1


def test_days_are_cut_in_the_workspace_zone_across_dst(backend: AnalyticsBackend) -> None:
    log = LogBuilder(ZoneInfo("Europe/Berlin"))
    log.add("2026-03-28 23:30", "message", "a")  # the day before (UTC 22:30)
    log.add("2026-03-29 00:00", "message", "a")  # summer time starts this day at 02:00
    log.add("2026-03-29 23:30", "message", "b")  # still 03-29 locally (UTC 21:30)
    log.add("2026-03-30 00:00", "message", "c")  # the next day
    f = both(backend, log, date(2026, 3, 29), date(2026, 3, 30))["c1"]
    assert f["messages"] == 2  # a at 00:00 and b at 23:30 on the 23-hour day
    assert f["dau"] == 2  # a, b
    assert f["mau"] == 2  # a (03-28 and 03-29), b; c is after the period


def test_daily_series_and_retention_cohorts(backend: AnalyticsBackend) -> None:
    log = LogBuilder()
    log.add("2026-02-20 10:00", "join", "d")  # first join before the weeks: in no cohort
    log.add("2026-03-02 10:00", "join", "a")  # week of 03-02 (a Monday)
    log.add("2026-03-03 10:00", "message", "a")
    log.add("2026-03-03 11:00", "message", "d")
    log.add("2026-03-04 10:00", "join", "b")  # week of 03-02
    log.add("2026-03-09 12:00", "leave", "b")
    log.add("2026-03-10 10:00", "join", "c")  # week of 03-09
    log.add("2026-03-10 11:00", "message", "c")
    log.add("2026-03-10 12:00", "message", "a")
    log.add("2026-03-10 13:00", "order", "a", order_id="o1", amount="9.90")
    log.add("2026-03-16 00:00", "leave", "a")  # the instant week 03-09 ends: not a member
    daily, cohorts = backend.series(log.events, MAR[2], MAR[16])
    assert daily == reference.daily(log.events, MAR[2], MAR[16], log.zone)
    march_10 = daily["c1"][8]
    assert march_10["day"] == MAR[10]
    assert (march_10["dau"], march_10["joins"], march_10["messages"]) == (2, 1, 2)
    assert march_10["gmv"] == Decimal("9.90")
    rows = {(r["week"], r["k"]): r for r in cohorts["c1"]}
    w0, w1 = rows[(MAR[2], 0)], rows[(MAR[2], 1)]
    assert (w0["cohort"], w0["retention"], w0["membership_retention"]) == (2, 0.5, 1.0)
    # cohort {a, b}: a active in week 0; both members at its end (03-09 00:00)
    assert (w1["retention"], w1["membership_retention"]) == (0.5, 0.0)
    # week 1: a active; at 03-16 00:00 a has just left and b left on 03-09
    late = rows[(MAR[9], 0)]
    assert (late["cohort"], late["retention"], late["membership_retention"]) == (1, 1.0, 1.0)
