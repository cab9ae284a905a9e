"""The console's time-kept answers (`Timed`) and when a history counts as ended."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shequn.periods import history_ended
from shequn.web.cache import Timed

T0 = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def test_an_answer_is_kept_its_time_then_computed_again() -> None:
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return f"{name}#{len(calls)}"

    kept: Timed[str] = Timed(timedelta(minutes=15), size=2)
    assert kept.get("a", T0, lambda: compute("a")) == "a#1"
    assert kept.get("a", T0 + timedelta(minutes=14), lambda: compute("a")) == "a#1"
    assert kept.get("a", T0 + timedelta(minutes=15), lambda: compute("a")) == "a#2"
    # Past `size` keys, the one computed longest ago goes first.
    kept.get("b", T0 + timedelta(minutes=16), lambda: compute("b"))
    kept.get("c", T0 + timedelta(minutes=16), lambda: compute("c"))
    assert kept.get("b", T0 + timedelta(minutes=17), lambda: compute("b")) == "b#3"
    assert kept.get("a", T0 + timedelta(minutes=17), lambda: compute("a")) == "a#5"
    assert calls == ["a", "a", "b", "c", "a"]


def test_a_history_ends_more_than_30_days_before_the_day_asked_about() -> None:
    last = date(2025, 11, 29)
    assert history_ended(last, last + timedelta(days=30)).end is None
    ended = history_ended(last, last + timedelta(days=31))
    assert (ended.end, ended.after) == (last, date(2025, 11, 30))
    assert history_ended(None, last).after is None
