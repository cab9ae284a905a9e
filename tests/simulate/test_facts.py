"""Stylised facts: measured right on a hand-built log, and the simulator holds to them.

The calibrated ranges are the ones of issue 14 and docs/simulator.md: monthly active
rate 20–30 % (18–32 % allowed for one seed), the top tenth of senders writing half to
two thirds of the messages, the median sender writing 2–5 messages a month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from shequn.simulate import default_spec, simulate
from shequn.simulate.engine import CommunitySim
from shequn.simulate.facts import facts, senders_only

T0 = datetime(2025, 1, 1, tzinfo=UTC)
ACTIVE = ("message", "reaction", "checkin")
LOCAL_DAY = pl.col("ts").dt.convert_time_zone("Asia/Shanghai").dt.date().alias("day")


def _log(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """(member, type, day) rows of one community 'c'."""
    return pl.DataFrame(
        {
            "community": ["c"] * len(rows),
            "member": [m for m, _, _ in rows],
            "type": [t for _, t, _ in rows],
            "ts": [T0 + timedelta(days=d, hours=1) for _, _, d in rows],
        }
    )


def test_facts_of_a_hand_built_log() -> None:
    # Window 0 (days 0-29): a..j join; a writes 6, b 2, c 1; the rest never write.
    # Window 1 (days 30-59): c and d leave on day 31 (d joined again on day 40, so is
    # present); a writes 3, e writes 1; j's only event is the join at day 0.
    rows = [(m, "join", 0) for m in "abcdefghij"]
    rows += [("a", "message", d) for d in (1, 2, 3, 4, 5, 6)]
    rows += [("b", "message", 2), ("b", "message", 9), ("c", "message", 3)]
    rows += [("c", "leave", 31), ("d", "leave", 31), ("d", "join", 40)]
    rows += [("a", "message", d) for d in (32, 33, 34)] + [("e", "message", 35)]
    rows += [("k", "message", 59)]  # a sender seen only once: present in window 1
    rows += [("f", "message", 60)]  # the log spans 60 days: day 60 opens a part window, dropped
    (got,) = facts(_log(rows))
    assert got.windows == 2
    # Window 0: 3 of 10 wrote; top tenth = 1 sender (a): 6 of 9; median of (6, 2, 1) = 2.
    # Window 1: members a..j (c left in this window, still present) + k = 11; 3 wrote;
    # top = a: 3 of 5 (a 3, e 1, k 1); median of (3, 1, 1) = 1.
    assert got.active_rate == pytest.approx((3 / 10 + 3 / 11) / 2)
    assert got.top10_share == pytest.approx((6 / 9 + 3 / 5) / 2)
    assert got.median_per_sender == pytest.approx((2 + 1) / 2)
    assert got.members == pytest.approx((10 + 11) / 2)
    assert got.messages == 14


def test_senders_only_counts_members_from_their_first_message() -> None:
    # a, b, c join on day 0; a writes on days 0 and 40, b on day 35, c never writes and
    # leaves on day 50; d writes on day 59; e's message on day 60 opens a part window
    # (dropped), so both views have two windows from day 0.
    rows = [(m, "join", 0) for m in "abc"] + [("c", "leave", 50)]
    rows += [("a", "message", 0), ("a", "message", 40), ("b", "message", 35)]
    rows += [("d", "message", 59), ("e", "message", 60)]
    (whole,) = facts(_log(rows))
    (seen,) = facts(senders_only(_log(rows)))
    # Whole log: window 0 has a, b, c present, a wrote (1/3); window 1 a, b, c, d, and
    # a, b, d wrote (3/4).
    assert whole.active_rate == pytest.approx((1 / 3 + 3 / 4) / 2)
    # Senders only: window 0 knows only a (1/1); window 1 a, b, d, all of whom wrote.
    assert seen.active_rate == pytest.approx(1.0)
    assert seen.members == pytest.approx((1 + 3) / 2)
    assert seen.messages == whole.messages == 4


@pytest.fixture(scope="module")
def default_run() -> pl.DataFrame:
    """The default simulation (three communities, 90 days, seed 42; ~160k events)."""
    return pl.concat(list(simulate(default_spec(days=90, seed=42))))


def test_the_simulator_has_the_participation_of_real_groups(default_run: pl.DataFrame) -> None:
    got = facts(default_run)
    assert [f.community for f in got] == ["data-camp", "hiking", "tea-shop"]
    for f in got:
        assert 0.18 <= f.active_rate <= 0.32, f
        assert 0.50 <= f.top10_share <= 0.67, f
        assert 2.0 <= f.median_per_sender <= 5.0, f


def test_leavers_fall_silent_before_they_leave(default_run: pl.DataFrame) -> None:
    """Leavers of 8+ weeks' standing do less than half as much a week in their last
    fortnight as four to eight weeks before."""
    events = default_run
    left = (
        events.filter((pl.col("type") == "leave") & pl.col("meta").is_null())
        .group_by("community", "member")
        .agg(pl.col("ts").max().alias("left"))
    )
    joined = events.filter(pl.col("type") == "join").group_by("community", "member")
    left = left.join(joined.agg(pl.col("ts").min().alias("joined")), on=["community", "member"])
    left = left.filter(pl.col("left") - pl.col("joined") >= timedelta(days=56))
    week = ((pl.col("left") - pl.col("ts")).dt.total_days() // 7).alias("week")
    counts = dict(
        events.filter(pl.col("type").is_in(ACTIVE))
        .join(left, on=["community", "member"])
        .select(week)
        .group_by("week")
        .len()
        .iter_rows()
    )
    assert left.height >= 40
    last = (counts[0] + counts[1]) / 2
    before = sum(counts[w] for w in (4, 5, 6, 7)) / 4
    assert last < 0.5 * before, counts


def test_most_departures_end_a_drift_that_faded_engagement() -> None:
    """The engine's own record: of the members who turn away a fifth leave at once and
    the rest drift, half of them leaving at the drift's end — so about three departures
    in five end a drift, over which engagement fell to exp(-3) of what it was."""
    spec = default_spec(n_communities=1, days=180, seed=42).communities[0]
    sim = CommunitySim(spec, seed=42, first_date=date(2025, 9, 1), days=180)
    for _ in sim.run():
        pass
    pop = sim.pop
    gone = np.flatnonzero(~pop["alive"] & ~pop["spammer"] & (pop["left_day"] >= 0))
    drifted = (pop["drift_day"][gone] >= 0) & pop["quits"][gone]
    drifted &= pop["left_day"][gone] - pop["drift_day"][gone] >= pop["drift_len"][gone]
    assert len(gone) >= 300
    assert 0.5 < drifted.mean() < 0.75, (len(gone), drifted.mean())
    # Engagement over a drift: the fade after joining times exp(-3 × elapsed / length).
    member = gone[drifted][0]
    began, length = int(pop["drift_day"][member]), float(pop["drift_len"][member])
    index = np.array([member])
    pop.arrays["drift_day"][member] = -1
    steady = pop.life(index, began + int(length))[0]
    pop.arrays["drift_day"][member] = began
    assert pop.life(index, began + int(length))[0] == pytest.approx(
        steady * np.exp(-3.0 * int(length) / length)
    )


def test_activity_days_burst(default_run: pl.DataFrame) -> None:
    """An activity's day has more messages than the days around it (four each side,
    the day before excluded: a weekly activity's eve is busy too), and ordinary days
    vary a lot."""
    per_day = (
        default_run.filter(pl.col("type") == "message")
        .group_by("community", LOCAL_DAY)
        .len()
        .sort("community", "day")
    )
    activity_days = (
        default_run.filter(pl.col("type") == "activity_attend")
        .select("community", LOCAL_DAY)
        .unique()
    )
    for (community,), days in per_day.group_by("community"):
        count = dict(zip(days["day"], days["len"], strict=True))
        events = activity_days.filter(pl.col("community") == community)["day"]
        lifts = []
        for day in events:
            around = [day + timedelta(days=k) for k in (-5, -4, -3, -2, 1, 2, 3, 4)]
            usual = [count[d] for d in around if d in count]  # the last days have no "after"
            lifts.append(count[day] / float(np.median(usual)))
        assert float(np.median(lifts)) > 1.5, (community, lifts)
        usual = days.filter(~pl.col("day").is_in(events.implode()))["len"]
        assert usual.std() > 0.6 * usual.mean(), community  # type: ignore[operator]


def test_a_month_without_a_message_counts_as_none_active() -> None:
    # a and b join on day 0, a writes on day 1, b leaves on day 59 (present in window 1,
    # where nobody writes); day 60 only closes the second window.
    rows = [("a", "join", 0), ("b", "join", 0), ("a", "message", 1), ("b", "leave", 59)]
    (got,) = facts(_log([*rows, ("c", "message", 60)]))
    assert got.windows == 2
    assert got.active_rate == pytest.approx((1 / 2 + 0 / 2) / 2)
    assert got.top10_share == 1.0  # window 0 only: the one sender wrote everything
    assert got.median_per_sender == 1.0
    assert got.messages == 1
