"""The daily metric watch: values per docs/metrics.md, crossings once per run, re-arming."""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shequn.clock import FrozenClock
from shequn.config import Community, Goal
from shequn.services.sop import tick
from shequn.sop import watch
from shequn.sop.thresholds import Threshold
from shequn.workspace import Workspace
from tests.sop.helpers import at
from tests.sop.lifecycle_helpers import add, configure, local, plan, sop_events

# Nine days of `club` (Shanghai time). Members at each day's end: 4, 4, 4, 4, then 3
# (d left on the 5th). Active (message/reaction/checkin) members per day:
# 1st a b c (0.75) | 2nd a (0.25) | 3rd none (0) | 4th b (0.25) | 5th none (0/3)
# 6th a b (2/3) | 7th-9th none (0). Against "active_rate below 0.3 for 3 days" the runs
# are 2nd-5th (crossed on the 4th, its third day) and 7th-9th (crossed on the 9th).
HISTORY = [
    ("11-01 09:00", "wx:a", "join"),
    ("11-01 09:05", "wx:b", "join"),
    ("11-01 09:10", "wx:c", "join"),
    ("11-01 09:15", "wx:d", "join"),
    ("11-01 10:00", "wx:a", "message"),
    ("11-01 10:01", "wx:b", "message"),
    ("11-01 10:02", "wx:c", "checkin"),
    ("11-02 23:59", "wx:a", "message"),
    ("11-04 08:00", "wx:b", "message"),
    ("11-04 08:01", "wx:b", "reaction"),
    ("11-05 12:00", "wx:d", "leave"),
    ("11-06 09:00", "wx:a", "message"),
    ("11-06 09:30", "wx:b", "message"),
    ("11-06 10:00", "wx:a", "order", "o1", "10.50"),
    ("11-06 10:05", "wx:a", "order", "o1", "-10.50"),
    ("11-06 11:00", "wx:b", "order", "o2", "20.25"),
]
WATCHED = """
    stages:
      - name: prepare
      - name: dissolve
        enter:
          from: any
          metrics:
            - {metric: active_rate, below: 0.3, days: 3}
"""
LOW = "active_rate<0.3x3d"


def test_daily_values_follow_the_metric_definitions(ws: Workspace) -> None:
    add(ws, HISTORY, "h")
    readings = watch.measure(ws, date(2026, 10, 31), date(2026, 11, 9))
    days = readings.values["club"]
    assert date(2026, 10, 31) not in days  # before the first event: no values
    members = [days[date(2026, 11, d)]["daily_members"] for d in range(1, 10)]
    dau = [days[date(2026, 11, d)]["daily_dau"] for d in range(1, 10)]
    assert members == [4, 4, 4, 4, 3, 3, 3, 3, 3]
    assert dau == [3, 1, 0, 1, 0, 2, 0, 0, 0]
    assert days[date(2026, 11, 1)] == {
        "daily_members": 4,
        "daily_joins": 4,
        "daily_leaves": 0,
        "daily_messages": 2,
        "daily_dau": 3,
        "daily_active_rate": 0.75,
        "daily_orders": 0,
        "daily_gmv": Decimal(0),
    }
    sixth = days[date(2026, 11, 6)]
    # o1 nets to zero: not an order; the money is exact.
    assert (sixth["daily_orders"], sixth["daily_gmv"], sixth["daily_active_rate"]) == (
        1,
        Decimal("20.25"),
        2 / 3,
    )
    assert days[date(2026, 11, 5)]["daily_leaves"] == 1


def test_crossed_on_the_third_day_only_and_again_after_re_arming(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws, goal=0.3)
    plan(ws, WATCHED)
    add(ws, HISTORY, "h")
    for day in range(2, 7):  # each night at 00:30: watches the day before
        tick(ws, at(clock, f"2026-11-{day:02d}T00:30:00+08:00"))
        tick(ws, at(clock, f"2026-11-{day:02d}T00:31:00+08:00"))  # the same day: nothing
    tick(ws, at(clock, "2026-11-10T00:30:00+08:00"))  # the 6th to the 9th at once
    crossed = sop_events(ws, "metric_crossed")
    assert [(ts, text) for _t, ts, _c, text, _m in crossed] == [
        (local("2026-11-05 00:00"), LOW),
        (local("2026-11-10 00:00"), LOW),
    ]
    assert crossed[0][4] == {
        "metric": "active_rate",
        "value": 0.25,
        "bound": 0.3,
        "days": 3,
        "day": "2026-11-04",
    }
    assert crossed[1][4]["value"] == 0.0
    # The watched threshold also moved the community to dissolve, the night of the 4th.
    stages = [(ts, text) for _t, ts, _c, text, _m in sop_events(ws, "stage_entered")]
    assert stages == [
        (local("2026-11-01 09:00"), "prepare"),
        (local("2026-11-05 00:30"), "dissolve"),
    ]


def test_after_downtime_the_missed_days_are_watched_in_one_go(
    ws: Workspace, clock: FrozenClock
) -> None:
    configure(ws, goal=0.3)
    plan(ws, WATCHED)
    add(ws, HISTORY, "h")
    tick(ws, at(clock, "2026-11-02T00:30:00+08:00"))
    tick(ws, at(clock, "2026-11-10T08:00:00+08:00"))  # down for a week
    tick(ws, at(clock, "2026-11-10T09:00:00+08:00"))
    crossed = sop_events(ws, "metric_crossed")
    assert [(ts, text) for _t, ts, _c, text, _m in crossed] == [
        (local("2026-11-05 00:00"), LOW),
        (local("2026-11-10 00:00"), LOW),
    ]


ON_GOAL = WATCHED.replace("active_rate, below: 0.3", "dau, below: goal")


def test_a_goal_bound_reads_the_goal_of_the_same_figure(ws: Workspace, clock: FrozenClock) -> None:
    # DAU below a DAU goal of 1 (i.e. 0) for 3 days: the 3rd and 5th are single days;
    # the 7th-9th are a run, crossed on the 9th.
    configure(ws, goal=1, metric="dau")
    plan(ws, ON_GOAL)
    add(ws, HISTORY, "h")
    tick(ws, at(clock, "2026-11-02T00:30:00+08:00"))
    tick(ws, at(clock, "2026-11-10T00:30:00+08:00"))
    crossed = sop_events(ws, "metric_crossed")
    assert [(ts, text, meta["bound"]) for _t, ts, _c, text, meta in crossed] == [
        (local("2026-11-10 00:00"), "dau<goalx3d", 1.0)
    ]


def test_without_a_goal_on_that_figure_nothing_crosses(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws, goal=5, metric="active_rate")  # a goal, but not on dau
    plan(ws, ON_GOAL)
    add(ws, HISTORY, "h")
    tick(ws, at(clock, "2026-11-02T00:30:00+08:00"))
    tick(ws, at(clock, "2026-11-10T00:30:00+08:00"))
    assert sop_events(ws, "metric_crossed") == []


def test_goal_bounds_compare_like_with_like() -> None:
    goals = [
        Goal(metric="active_rate", target=0.3),
        Goal(metric="members_at_end", target=50),
        Goal(metric="members_at_start", target=7),
    ]
    club = Community(key="club", short_term_goals=goals)
    assert watch.goal_bound(Threshold(metric="members", above="goal"), club) == 50.0
    assert watch.goal_bound(Threshold(metric="dau", below="goal"), club) is None
    assert watch.goal_bound(Threshold(metric="active_rate", below=0.25), club) == 0.25


def test_active_rate_against_a_goal_is_refused_with_the_fix() -> None:
    # The period metric active_rate (active / members during) is not the daily one
    # (DAU / members at the day's end): a goal on one is no bound for the other.
    with pytest.raises(ValidationError) as caught:
        Threshold(metric="active_rate", below="goal")
    message = str(caught.value)
    assert "active_rate in a threshold is the daily active rate of one day" in message
    assert "(daily_active_rate), which no goal measures" in message
    assert "write a number, e.g. below: 0.3 (see docs/lifecycle.md)" in message


def test_a_threshold_may_name_the_daily_figure_itself() -> None:
    named = Threshold(metric="daily_active_rate", below=0.3, days=3)
    assert named == Threshold(metric="active_rate", below=0.3, days=3)
    assert (named.id, named.figure.name) == ("active_rate<0.3x3d", "daily_active_rate")
    with pytest.raises(ValidationError, match="Input should be 'members', 'joins'"):
        Threshold(metric="members_at_end", above=3)


def test_days_due_and_conditions() -> None:
    nov = date(2026, 11, 9)
    assert watch.days_due(None, nov) == [nov]
    assert watch.days_due(nov, nov) == []
    assert watch.days_due(nov - timedelta(days=3), nov) == [
        date(2026, 11, 7),
        date(2026, 11, 8),
        nov,
    ]
    assert len(watch.days_due(date(2025, 1, 1), nov)) == watch.CATCH_UP
    low = Threshold(metric="gmv", below=20.25)
    assert watch.satisfied(low, Decimal("20.24"), 20.25)
    assert not watch.satisfied(low, Decimal("20.25"), 20.25)
    assert not watch.satisfied(low, None, 20.25)  # no data never satisfies
    assert not watch.satisfied(Threshold(metric="members", above="goal"), 5, None)


def test_daily_values_equal_the_metrics_engine_for_that_day(ws: Workspace) -> None:
    from shequn.analytics.engine import compute

    add(ws, HISTORY, "h")
    readings = watch.measure(ws, date(2026, 11, 1), date(2026, 11, 9))
    for day in (date(2026, 11, 1), date(2026, 11, 5), date(2026, 11, 6)):
        figures = compute(ws, day, day + timedelta(days=1))["club"]
        value = readings.values["club"][day]
        assert (value["daily_members"], value["daily_joins"], value["daily_leaves"]) == (
            figures["members_at_end"],
            figures["joins"],
            figures["leaves"],
        )
        assert tuple(value[k] for k in ("daily_messages", "daily_dau", "daily_orders")) == (
            figures["messages"],
            figures["dau"],
            figures["orders"],
        )
        assert (value["daily_gmv"], value["daily_active_rate"]) == (
            figures["gmv"],
            figures["dau"] / figures["members_at_end"],
        )


def test_a_plan_with_active_rate_below_goal_names_the_line_and_the_fix() -> None:
    from shequn.sop.lifecycle_model import check

    text = WATCHED.replace("below: 0.3", "below: goal")
    plan_, problems = check(textwrap.dedent(text).lstrip(), "lifecycle.yaml")
    assert plan_ is None
    assert [(p.line, p.hint) for p in problems] == [
        (7, "write a number, e.g. below: 0.3 (see docs/lifecycle.md)")
    ]
    assert "no goal measures" in problems[0].message
