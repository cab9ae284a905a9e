"""Goals: parsing periods and horizons, met/missed margins, no data, trend."""

from __future__ import annotations

from datetime import date

import pytest

from shequn.config import Community, Goal
from shequn.errors import InputError
from shequn.review.build import evaluate_goals
from shequn.review.goals import GoalSpec, community_goals, evaluate_goal, parse_goal_period
from shequn.review.periods import Period, month, parse_period, previous


def spec(metric: str = "active_rate", target: float = 0.6, direction: str = "at_least") -> GoalSpec:
    return GoalSpec("c:long:0", "c", "text", metric, target, direction, "long")  # type: ignore[arg-type]


def test_at_least_missed_by_how_much_and_trend() -> None:
    r = evaluate_goal(spec(target=0.6), 0.45, 0.5)
    assert r.status == "missed"
    assert r.gap == pytest.approx(-0.15)
    assert r.gap_ratio == pytest.approx(-0.25)
    assert r.trend == "worse"


def test_at_least_met_exactly_on_target() -> None:
    r = evaluate_goal(spec(target=0.6), 0.6, 0.4)
    assert (r.status, r.gap, r.trend) == ("met", 0.0, "better")


def test_at_most_met_and_missed() -> None:
    met = evaluate_goal(spec("churn_rate", 0.1, "at_most"), 0.08, 0.12)
    assert met.status == "met"
    assert met.gap == pytest.approx(0.02)
    assert met.gap_ratio == pytest.approx(0.2)
    assert met.trend == "better"  # churn went down
    missed = evaluate_goal(spec("churn_rate", 0.1, "at_most"), 0.3, 0.2)
    assert missed.status == "missed"
    assert missed.gap == pytest.approx(-0.2)
    assert missed.gap_ratio == pytest.approx(-2.0)
    assert missed.trend == "worse"


def test_none_actual_is_no_data_not_zero() -> None:
    r = evaluate_goal(spec(), None, 0.5)
    assert (r.status, r.actual, r.gap, r.gap_ratio, r.trend) == ("no_data", None, None, None, None)


def test_flat_trend_and_no_previous() -> None:
    assert evaluate_goal(spec(), 0.7, 0.7).trend == "flat"
    assert evaluate_goal(spec(), 0.7, None).trend is None


def test_goal_without_metric_is_untracked_and_pending_before_due() -> None:
    r = evaluate_goal(GoalSpec("c:long:0", "c", "be nice", None, None, "at_least", "long"), 1.0)
    assert r.status == "untracked"
    assert evaluate_goal(spec(), 0.9, due=False).status == "pending"


def test_money_decimal_actual() -> None:
    from decimal import Decimal

    r = evaluate_goal(spec("gmv", 1000.0), Decimal("1250.50"))
    assert r.status == "met"
    assert r.gap == pytest.approx(250.5)


def test_goal_periods() -> None:
    assert parse_goal_period("month", "f") == ("review", None, None)
    assert parse_goal_period(None, "f") == ("review", None, None)
    assert parse_goal_period("day 30", "f") == ("horizon", None, 30)
    assert parse_goal_period("2026-10", "f") == ("fixed", month(2026, 10), None)
    with pytest.raises(InputError, match="'fortnight' is not a goal period"):
        parse_goal_period("fortnight", "communities.c.long_term_goals.0.period")


def test_short_term_goals_serve_the_long_term_ones() -> None:
    c = Community(
        key="camp",
        long_term_goals=[Goal(text="L", metric="purchase_conversion", target=0.3, period="day 30")],
        short_term_goals=[Goal(text="S", metric="active_rate", target=0.6, period="week")],
    )
    long, short = community_goals(c)
    assert (long.id, long.level, long.period, long.horizon) == (
        "camp:long:0",
        "long",
        "horizon",
        30,
    )
    assert (short.id, short.serves, short.period) == ("camp:short:0", ("camp:long:0",), "review")


def test_periods_parse_and_previous() -> None:
    assert parse_period("2026-10") == Period(date(2026, 10, 1), date(2026, 11, 1), "month")
    assert previous(parse_period("2026-03")) == month(2026, 2)
    assert previous(parse_period("2026-01")) == month(2025, 12)
    week = parse_period("2026-W43")
    assert (week.start, week.end, week.label) == (
        date(2026, 10, 19),
        date(2026, 10, 26),
        "2026-W43",
    )
    custom = parse_period("2026-10-01..2026-10-15")
    assert previous(custom) == Period(date(2026, 9, 17), date(2026, 10, 1), "custom")
    for bad in ("2026-13", "2026-10-15..2026-10-01", "october"):
        with pytest.raises(InputError, match="--period"):
            parse_period(bad)


def test_evaluate_goals_windows_and_horizon_due_date() -> None:
    """Review goals use the period, horizon goals days 0..N-1 after creation."""
    oct_, sep = month(2026, 10), month(2026, 9)
    horizon = GoalSpec(
        "c:long:0",
        "c",
        "h",
        "purchase_conversion",
        0.3,
        "at_least",
        "long",
        period="horizon",
        horizon=30,
    )
    table = {
        (oct_.start, oct_.end): {"c": {"active_rate": 0.5}},
        (sep.start, sep.end): {"c": {"active_rate": 0.4}},
        (date(2026, 9, 10), date(2026, 10, 10)): {"c": {"purchase_conversion": 0.31}},
        (date(2026, 10, 20), date(2026, 11, 1)): {"c": {"purchase_conversion": 0.1}},
    }

    def figures(p: Period) -> dict:
        return table[(p.start, p.end)]

    done = evaluate_goals([spec(), horizon], oct_, figures, created={"c": date(2026, 9, 10)})
    assert [(r.status, r.actual, r.previous) for r in done] == [
        ("missed", 0.5, 0.4),
        ("met", 0.31, None),
    ]
    early = evaluate_goals(
        [horizon], oct_, figures, created={"c": date(2026, 10, 20)}, as_of=date(2026, 11, 1)
    )
    assert [(r.status, r.actual) for r in early] == [("pending", 0.1)]
