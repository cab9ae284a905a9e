"""Goals: parsing periods and horizons, met/missed margins, no data, trend."""

from __future__ import annotations

from datetime import date

import pytest

from shequn.config import Community, Goal, Settings
from shequn.errors import InputError
from shequn.goals.evaluate import GoalSpec, evaluate_goal, goal_specs, parse_goal_period
from shequn.goals.gather import settings_goals
from shequn.periods import Period, month, parse_period, previous
from shequn.review.evaluation import evaluate_goals


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
    assert parse_goal_period("month", "f") == ("month", None, None)
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
    settings = Settings(communities=[c])
    long, short = goal_specs(settings_goals(settings), settings)
    assert (long.id, long.level, long.period, long.horizon) == (
        "camp:long:0",
        "long",
        "horizon",
        30,
    )
    assert (short.id, short.serves, short.period) == ("camp:short:0", ("camp:long:0",), "week")


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


def test_weeks_belong_to_the_month_of_their_thursday() -> None:
    from shequn.periods import units

    october = units("week", month(2026, 10))
    assert [(w.label, w.start, w.end) for w in october[:: len(october) - 1]] == [
        ("2026-W40", date(2026, 9, 28), date(2026, 10, 5)),  # Thursday Oct 1
        ("2026-W44", date(2026, 10, 26), date(2026, 11, 2)),  # Thursday Oct 29
    ]
    assert len(october) == 5
    # September 2026 ends on a Wednesday: W40 is October's, so September has W36..W39.
    assert [w.label for w in units("week", month(2026, 9))] == [
        "2026-W36",
        "2026-W37",
        "2026-W38",
        "2026-W39",
    ]
    assert units("week", parse_period("2026-W43")) == [parse_period("2026-W43")]
    assert units("month", parse_period("2026-09-15..2026-12-01")) == [
        month(2026, 10),
        month(2026, 11),
    ]
    assert units("month", parse_period("2026-W43")) == []


def horizon_goal(days: int, goal_id: str = "h") -> GoalSpec:
    return GoalSpec(goal_id, "c", "h", "joins", 3.0, "at_least", "long", period="horizon",
                    horizon=days)  # fmt: skip


def test_which_horizon_and_fixed_goals_a_review_shows() -> None:
    """Horizons judged in the period, or still running; fixed dates that overlap it."""
    september = GoalSpec("f", "c", "f", "joins", 1.0, "at_least", "short", period="fixed",
                         fixed=month(2026, 9))  # fmt: skip
    goals = [horizon_goal(30, "d30"), horizon_goal(60, "d60"), september]
    seen: list[tuple[date, date]] = []

    def figures(p: Period) -> dict:
        seen.append((p.start, p.end))
        return {"c": {"joins": 4}}

    created = {"c": date(2026, 9, 21)}  # day 30 is Oct 21, day 60 is Nov 20
    done = evaluate_goals(goals, month(2026, 10), figures, created=created, as_of=date(2026, 12, 1))
    assert [(r.goal.id, r.status) for r in done] == [("d30", "met")]
    running = evaluate_goals(goals, month(2026, 10), figures, created=created,
                             as_of=date(2026, 11, 5))  # fmt: skip
    assert [(r.goal.id, r.status, r.window.label) for r in running] == [  # type: ignore[union-attr]
        ("d30", "met", "2026-09-21..2026-10-21"),
        ("d60", "pending", "2026-09-21..2026-11-20"),
    ]
    assert (date(2026, 9, 21), date(2026, 11, 5)) in seen  # measured so far
    assert evaluate_goals(goals, month(2026, 9), figures, created=created)[0].goal.id == "f"


def test_weeks_not_begun_are_pending_and_the_summary_waits() -> None:
    weekly = GoalSpec("w", "c", "w", "messages", 2.0, "at_least", "short", period="week")

    def figures(p: Period) -> dict:
        return {"c": {"messages": 3}}

    (r,) = evaluate_goals([weekly], month(2026, 10), figures, as_of=date(2026, 10, 13))
    assert [u.status for u in r.units] == ["met", "met", "pending", "pending", "pending"]
    assert [u.actual for u in r.units] == [3, 3, 3, None, None]
    assert (r.status, r.met_units, r.previous_met, r.trend) == ("pending", 2, (4, 4), "worse")


def test_template_goals_expand_and_milestones_find_their_goal() -> None:
    from shequn.review.evaluation import arrange

    settings = Settings(
        communities=[
            Community(key="a", template="t",
                      long_term_goals=[Goal(id="grow", text="G", metric="joins", target=9,
                                            scope="template:t", horizon=30)],
                      short_term_goals=[Goal(text="W", metric="messages", target=2,
                                             period="week", serves="grow"),
                                        Goal(text="old", metric="messages", target=1)]),
            Community(key="b", template="t"),
        ]
    )  # fmt: skip
    specs = goal_specs(settings_goals(settings), settings)
    assert [(s.id, s.community, s.scope, s.serves) for s in specs] == [
        ("grow@a", "a", "template", ()),
        ("grow@b", "b", "template", ()),
        ("a:short:0", "a", "community", ("grow@a",)),
        ("a:short:1", "a", "community", ("grow@a",)),  # no serves: the block's long-term goals
    ]
    results = [evaluate_goal(s, 1.0) for s in reversed(specs)]
    assert [r.goal.id for r in arrange(results)] == ["grow@b", "grow@a", "a:short:1", "a:short:0"]


def test_creation_day_is_the_setting_else_the_local_day_of_the_first_event() -> None:
    from datetime import UTC, datetime

    from shequn.clock import to_micros
    from shequn.config import Settings
    from shequn.review.run import creation_days

    settings = Settings(
        communities=[Community(key="a"), Community(key="b", created=date(2026, 9, 1))]
    )
    late = to_micros(datetime(2026, 9, 20, 17, 0, tzinfo=UTC))  # 01:00 on Sep 21 in Shanghai
    assert creation_days({"a": late, "b": late, "c": None}, settings) == {
        "a": date(2026, 9, 21),
        "b": date(2026, 9, 1),
    }
