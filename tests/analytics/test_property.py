"""The engine and the plain-Python reference agree on random small event logs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.analytics import reference
from tests.analytics.helpers import engine_periods, engine_series
from tests.analytics.strategies import PERIODS, logs


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_engine_agrees_with_the_reference(case: tuple) -> None:
    events, zone, persons = case
    got = engine_periods(events, list(PERIODS), zone, persons)
    for (start, end), figures in zip(PERIODS, got, strict=True):
        assert figures == reference.compute(events, start, end, zone, persons), (start, end)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_daily_series_agrees_with_the_reference(case: tuple) -> None:
    events, zone, _persons = case
    start, end = PERIODS[0]
    daily, _cohorts = engine_series(events, start, end, zone)
    assert daily == reference.daily(events, start, end, zone)
