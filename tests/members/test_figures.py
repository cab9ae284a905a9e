"""Member figures, states and tiers on a hand-built log (every expectation counted by hand)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pyarrow as pa

from shequn.analytics.copy import memory_copy
from shequn.config import MemberStates, Settings, Tier
from shequn.members.figures import AsOf, figures
from shequn.members.profiles import assemble
from tests.analytics.helpers import SHANGHAI, LogBuilder, to_arrow
from tests.members.test_stored import record

AT = AsOf.of(datetime(2026, 3, 25, tzinfo=SHANGHAI), SHANGHAI)


def _log() -> LogBuilder:
    b = LogBuilder()
    b.add("2026-03-01 10:00", "join", "a", channel="poster")
    b.add("2026-03-01 11:00", "join", "b", inviter="a")
    b.add("2026-03-01 12:00", "join", "b2")  # b's other account, merged below
    b.add("2026-03-02 10:00", "message", "a", message_id="m1")
    b.add("2026-03-02 11:00", "message", "b", message_id="m2", reply_to="m1")
    b.add("2026-03-02 12:00", "reaction", "b2", reply_to="m1")
    b.add("2026-03-03 09:00", "message", "a", message_id="m3", reply_to="m3")  # to oneself
    b.add("2026-03-20 12:00", "message", "b2", message_id="m4", meta='{"mentions": ["a"]}')
    b.add("2026-03-04 12:00", "order", "a", order_id="o1", amount="10.50")
    b.add("2026-03-05 12:00", "order", "a", order_id="o2", amount="4.50")
    b.add("2026-03-06 12:00", "join", "c")
    b.add("2026-03-06 13:00", "message", "c", message_id="m5")
    b.add("2026-03-07 13:00", "leave", "c")
    b.add("2026-03-24 13:00", "checkin", "d")  # first seen yesterday
    b.add("2026-03-26 13:00", "message", "a", message_id="m9")  # after the instant
    return b


def _copy():
    merged = pa.table({"key": ["b2"], "person": ["b"]})
    return memory_copy(to_arrow(_log().events), SHANGHAI, members=merged)


def _row(frame: pl.DataFrame, member: str) -> dict:
    return frame.filter(pl.col("member") == member).row(0, named=True)


def test_figures_count_people_once_and_who_answered_them() -> None:
    frame = figures(_copy(), AT)
    assert frame["member"].to_list() == ["a", "b", "c", "d"]
    a, b = _row(frame, "a"), _row(frame, "b")
    # a: two messages (m9 is after the instant), the self-reply is no interaction.
    assert (a["messages"], a["replies_given"], a["join_channel"]) == (2, 1, "poster")
    assert (a["replies_received"], a["reactions_received"], a["mentions_received"]) == (1, 1, 1)
    assert (a["orders"], a["gmv"]) == (2, 15.0)
    # b and b2 are one person: two messages, one reaction, invited by a.
    assert (b["messages"], b["reactions"], b["mentions_given"], b["inviter"]) == (2, 1, 1, "a")
    assert b["days_active"] == 2  # 03-02 and 03-20
    assert _row(frame, "c")["has_left"] is True


def test_states_follow_the_thresholds() -> None:
    settings = Settings(member_states=MemberStates(silent_days=10, at_risk_days=20))
    frame = assemble(_copy(), settings, AT)
    states = dict(zip(frame["member"], frame["state"], strict=True))
    # a idle since 03-03 09:00 (21.6 days): at risk; b active 03-20: active;
    # c left; d first seen a day ago.
    assert states == {"a": "at_risk", "b": "active", "c": "churned", "d": "new"}
    assert frame.filter(pl.col("state") == "churned")["churn_risk"].to_list() == [None]


def test_returned_after_a_long_gap() -> None:
    b = LogBuilder()
    b.add("2026-01-01 10:00", "message", "r")
    b.add("2026-03-20 10:00", "message", "r")  # 78 days later: a return (gap >= 60)
    b.add("2026-01-01 10:00", "message", "s")
    b.add("2026-03-20 10:00", "message", "s")
    b.add("2026-01-20 10:00", "message", "s")  # 59 days before 03-20: no return
    frame = assemble(memory_copy(to_arrow(b.events), SHANGHAI), Settings(), AT)
    assert dict(zip(frame["member"], frame["state"], strict=True)) == {
        "r": "returned",
        "s": "active",
    }


def test_tiers_promote_at_once_and_demote_after_grace() -> None:
    tiers = [
        Tier(name="member", min_days_active=1),
        Tier(name="buyer", min_orders=2, window_days=30, grace_days=10),
    ]
    settings = Settings(tiers=tiers)
    # Recorded 10 days back (so then and now): a as member, b as buyer.
    con = _copy()
    record(
        con, AT, (10, "a", "tier_changed", "member", None), (10, "b", "tier_changed", "buyer", None)
    )
    frame = assemble(con, settings, AT)
    a, b = _row(frame, "a"), _row(frame, "b")
    assert (a["tier"], a["tier_reason"]) == ("buyer", "meets buyer")  # promoted at once
    # b never had two orders: not buyer now nor 10 days ago, so demoted.
    assert (b["tier"], b["tier_reason"]) == ("member", "no longer meets buyer")
    # 40 days on, a's orders left the window, but 10 days before that they were in it
    # only if within 30 days: 03-04 + 30 = 04-03 < 04-24, so a is demoted too.
    later = AsOf.of(datetime(2026, 5, 4, tzinfo=SHANGHAI), SHANGHAI)
    con = _copy()
    record(con, later, (10, "a", "tier_changed", "buyer", None))
    frame = assemble(con, settings, later)
    assert _row(frame, "a")["tier"] == "member"
    # 10 days after the last order leaves the window... is within grace: kept.
    soon = AsOf.of(datetime(2026, 4, 8, tzinfo=SHANGHAI), SHANGHAI)
    con = _copy()
    record(con, soon, (10, "a", "tier_changed", "buyer", None))
    frame = assemble(con, settings, soon)
    assert (_row(frame, "a")["tier"], _row(frame, "a")["tier_reason"]) == (
        "buyer",
        "kept in the grace period",
    )


def test_the_grace_figures_are_read_for_who_no_longer_meets_a_recorded_graced_tier() -> None:
    from shequn.members.tiers import READS, readers

    tiers = [
        Tier(name="member", min_days_active=1),
        Tier(name="buyer", min_orders=2, window_days=30, grace_days=10),
        Tier(name="vip", min_orders=5, window_days=30),
    ]
    rows = {  # member: (recorded tier, orders in the window, days active)
        "a": ("buyer", 1, 3),  # no longer meets buyer: read
        "b": ("buyer", 2, 3),  # still meets it
        "c": ("vip", 2, 3),  # below vip, which has no grace period
        "d": (None, 0, 0),
        "e": ("buyer", 6, 3),  # above it
        "f": ("buyer", 0, 0),  # meets nothing any more: read
    }
    frame = pl.DataFrame(
        {
            "member": list(rows),
            "recorded_tier": [r[0] for r in rows.values()],
            **{c: [0] * len(rows) for c in READS},
        }
    ).with_columns(
        pl.Series("orders_window", [r[1] for r in rows.values()]),
        pl.Series("days_active", [r[2] for r in rows.values()]),
    )
    assert readers(frame, tiers).to_list() == ["a", "f"]
    assert readers(frame, tiers[:1]).to_list() == []


def test_a_grace_evaluation_reads_the_figures_of_the_tiers_from_the_lowest_graced_up() -> None:
    from shequn.members.tiers import grace_reads

    regular = Tier(name="regular", min_days_active=3, window_days=30)
    buyer = Tier(name="buyer", min_orders=2, window_days=30, grace_days=14)
    veteran = Tier(name="veteran", min_tenure_days=60, min_gmv=100)
    assert grace_reads([regular, veteran]) == set()  # no grace period: nothing
    # A regular met 14 days ago cannot keep a buyer: the days are not read.
    assert grace_reads([regular, buyer]) == {"points", "orders_window"}
    # ... but a regular above a buyer can.
    assert grace_reads([buyer, regular]) == {"points", "orders_window", "days_active_window"}
    # A tier without a window reads all-time figures.
    assert grace_reads([regular, buyer, veteran]) == {
        "points",
        "orders_window",
        "tenure_days",
        "gmv",
    }


def test_a_lower_graced_tier_is_kept_by_a_higher_tier_met_before_in_a_refresh() -> None:
    # k is recorded a buyer (the lowest tier, 14 days' grace) and meets nothing on
    # 04-10; on 03-27 it was active on three days of the window (03-01 to 03-03): a
    # regular, above a buyer, so it keeps the buyer tier. A refresh after z's message
    # decides k again (it no longer meets its recorded tier) from its active days
    # 14 days back, which it must read though the buyer tier reads only orders.
    from shequn.analytics.copy import append

    settings = Settings(
        tiers=[
            Tier(name="buyer", min_orders=1, window_days=30, grace_days=14),
            Tier(name="regular", min_days_active=3, window_days=30),
        ]
    )
    b = LogBuilder()
    for day in ("01", "02", "03"):
        b.add(f"2026-03-{day} 10:00", "message", "k", message_id=f"k{day}")
    b.add("2026-04-01 10:00", "message", "z", message_id="z1")
    con = memory_copy(to_arrow(b.events), SHANGHAI)
    at = AsOf.of(datetime(2026, 4, 10, 12, tzinfo=SHANGHAI), SHANGHAI)
    record(con, at, (20, "k", "tier_changed", "buyer", None))
    first = assemble(con, settings, at)
    append(con, to_arrow([b.add("2026-04-10 11:00", "message", "z", message_id="z2")]), SHANGHAI)
    again = assemble(con, settings, AsOf.of(datetime(2026, 4, 10, 13, tzinfo=SHANGHAI), SHANGHAI))
    [(changed,)] = con.execute("SELECT COUNT(*) FROM member_profiles_changed").fetchall()
    assert changed == 2  # z (its message) and k (its grace), not everyone
    for frame in (first, again):
        assert (_row(frame, "k")["tier"], _row(frame, "k")["tier_reason"]) == (
            "buyer",
            "kept in the grace period",
        )


def test_grace_figures_read_only_the_compact_tables_asked_for() -> None:
    from shequn.members.figures import QUALIFYING, qualifying

    con = _copy()
    persons = pl.Series(["a", "c", "x"])
    every = qualifying(con, AT, 60, persons).sort("member")
    # a: two orders (10.50 + 4.50) and two active days; c: one day; x: nothing at all.
    assert every.rows() == [
        ("a", 2, 2, 15.0, 15.0, 2, 2),
        ("c", 0, 0, 0.0, 0.0, 1, 1),
    ]
    orders = qualifying(con, AT, 60, persons, {"orders_window"}).sort("member")
    assert orders.columns == ["member", *QUALIFYING]
    assert orders.select("member", "orders", "gmv").rows() == [("a", 2, 15.0)]
    assert orders.select("days_active", "days_active_window").null_count().row(0) == (1, 1)
    days = qualifying(con, AT, 60, persons, {"days_active"}).sort("member")
    assert days.select("member", "days_active").rows() == [("a", 2), ("c", 1)]
    assert days["orders"].null_count() == days.height
    nothing = qualifying(con, AT, 60, persons, {"points"}).sort("member")
    assert nothing["member"].to_list() == ["a", "c", "x"]
    assert nothing.drop("member").null_count().row(0) == (3,) * len(QUALIFYING)


def test_rfm_quintiles_and_segments_by_hand() -> None:
    from shequn.members.rfm import with_rfm

    frame = pl.DataFrame(
        {
            "member": list("abcdefg"),
            "orders": [0, 1, 2, 3, 5, 8, 1],
            "gmv": [0.0, 10, 20, 30, 50, 80, 5],
            "last_order": [None, 95, 50, 10, 99, 90, 20],
        }
    )
    out = with_rfm(frame, now=100)
    # Six buyers; recency order d, g, c, f, b, e: below-counts 0..5 -> 1 + 5*below//6.
    assert out["r_score"].to_list() == [None, 4, 2, 1, 5, 3, 1]
    assert out["f_score"].to_list() == [None, 1, 2, 3, 4, 5, 1]  # g ties b: 1
    assert out["segment"].to_list() == [
        None,
        "new_buyers",
        "hibernating",
        "at_risk_buyers",
        "champions",
        "loyal",
        "hibernating",
    ]
