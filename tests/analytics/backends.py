"""The analytics backends the metric tests run on, behind one small interface.

`DUCKDB` runs the engine on an in-memory DuckDB copy. `CLICKHOUSE` runs the same copy
on ClickHouse in-process (chDB) *and* on DuckDB, asserts the two agree (ratios within
1e-9, money exact), and returns the figures: a hand-checked example that passes on it
holds on both engines. Tests take the `backend` fixture (tests/analytics/conftest.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from shequn.analytics.backend import Backend, ChdbBackend, DuckBackend
from shequn.analytics.copy import memory_copy
from shequn.analytics.engine import data_days, figures_of, prepare
from shequn.analytics.period import ZonedPeriod
from shequn.analytics.series import daily_of, retention_of
from tests.analytics.helpers import (
    SHANGHAI,
    engine_figures,
    engine_series,
    persons_table,
    to_arrow,
)

Figures = dict[str, dict[str, Any]]
Series = tuple[dict[str, list[dict]], dict[str, list[dict]]]


def assert_same(duck: Any, click: Any, where: str = "") -> None:
    """Equal, with ratios within 1e-9 and money exact (Decimal == Decimal)."""
    if isinstance(duck, float):
        assert isinstance(click, float) and math.isclose(duck, click, abs_tol=1e-9), where
    elif isinstance(duck, dict):
        assert list(duck) == list(click), where
        for key in duck:
            assert_same(duck[key], click[key], f"{where}/{key}")
    elif isinstance(duck, list):
        assert len(duck) == len(click), where
        for i, (a, b) in enumerate(zip(duck, click, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert type(duck) is type(click) and duck == click, (where, duck, click)


def both_reports(
    events: list[dict[str, Any]],
    periods: list[tuple[date, date]],
    zone: ZoneInfo = SHANGHAI,
    persons: dict[str, str] | None = None,
    cohort_days: int = 30,
    tasks: pa.Table | None = None,
) -> list[dict[str, Any]]:
    """DuckDB's report per period, checked equal to ClickHouse's on the same copy."""
    con = memory_copy(to_arrow(events), zone, persons_table(persons or {}), tasks)
    con.execute("SET threads = 1")
    click = ChdbBackend.from_copy(con)
    try:
        out = []
        for start, end in periods:
            period = ZonedPeriod(start, end, zone, cohort_days)
            duck = _report(DuckBackend(con), period)
            assert_same(duck, _report(click, period), "report")
            out.append(duck)
        assert data_days(click) == data_days(con)
        return out
    finally:
        click.close()
        con.close()


def _report(db: Backend, period: ZonedPeriod) -> dict[str, Any]:
    prepare(db, period)
    return {
        "metrics": figures_of(db, period),
        "daily": daily_of(db, period),
        "retention": retention_of(db, period),
    }


def checked_figures(
    events: list[dict[str, Any]],
    start: date,
    end: date,
    zone: ZoneInfo = SHANGHAI,
    persons: dict[str, str] | None = None,
    **options: Any,
) -> Figures:
    """ClickHouse's figures, checked equal to DuckDB's (`engine_figures`' signature)."""
    metrics: Figures = both_reports(events, [(start, end)], zone, persons, **options)[0]["metrics"]
    return metrics


def checked_series(
    events: list[dict[str, Any]], start: date, end: date, zone: ZoneInfo = SHANGHAI
) -> Series:
    """ClickHouse's (daily series, retention), checked equal to DuckDB's."""
    (got,) = both_reports(events, [(start, end)], zone)
    return got["daily"], got["retention"]


@dataclass(frozen=True)
class AnalyticsBackend:
    """An engine the examples run on: figures and series of an event log."""

    name: str
    figures: Callable[..., Figures]
    series: Callable[..., Series]


BACKENDS: dict[str, AnalyticsBackend] = {
    b.name: b
    for b in (
        AnalyticsBackend("duckdb", engine_figures, engine_series),
        AnalyticsBackend("clickhouse", checked_figures, checked_series),
    )
}

# How to install the ClickHouse backend the tests need.
CLICKHOUSE = "pip install 'shequn[clickhouse]'; the dev extra pulls it in"
