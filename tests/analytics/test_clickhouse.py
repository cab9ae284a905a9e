"""The metric set on ClickHouse in-process (chDB) gives DuckDB's numbers.

Skipped only when chDB is not installed (`pip install 'shequn[clickhouse]'`; the `dev`
extra pulls it in).
"""

from __future__ import annotations

import logging
import math
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from shequn.analytics.backend import Backend, ChdbBackend, DuckBackend, to_clickhouse
from shequn.analytics.copy import memory_copy
from shequn.analytics.engine import data_days, figures_of, prepare
from shequn.analytics.period import ZonedPeriod
from shequn.analytics.series import daily_of, report, retention_of
from tests.analytics import test_canonical_only, test_examples, test_property
from tests.analytics.helpers import SHANGHAI, local_us, persons_table, to_arrow

pytest.importorskip("chdb")
pytest.importorskip("sqlglot")


class Recording:
    """A backend that runs on DuckDB and keeps every statement it was given."""

    name = "recording"

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.statements: list[str] = []

    def execute(self, statement: str) -> None:
        self.statements.append(statement)
        self.inner.execute(statement)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        self.statements.append(query)
        return self.inner.rows(query)


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


def test_every_statement_transpiles_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    log = test_canonical_only._canonical()
    con = memory_copy(to_arrow(log.events), log.zone, persons_table({}))
    recording = Recording(DuckBackend(con.cursor()))
    report(recording, *test_canonical_only.MARCH, zone=log.zone)
    data_days(recording)
    # Every stage, the facts, channels, content, daily series, retention, data days.
    assert len(recording.statements) >= 2 * 10 + 7
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        for statement in recording.statements:
            assert to_clickhouse(statement)  # raises on anything ClickHouse cannot say
    assert caplog.records == []


def test_chdb_matches_duckdb_on_a_small_log() -> None:
    log = test_canonical_only._canonical()
    (got,) = both_reports(log.events, [test_canonical_only.MARCH], log.zone)
    assert got["metrics"]["c1"]["members_at_start"] == 2  # the hand-checked value
    assert got["metrics"]["c1"]["gmv"] == Decimal("12.50")


def test_chdb_matches_duckdb_on_sop_tasks() -> None:
    log = test_canonical_only._canonical()
    start, end = (local_us(f"2026-03-0{d} 12:00") for d in (2, 9))
    tasks = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "community": ["c1", "c1", "c2", "c1"],
            "due_ts": pa.array([start, start + 10, start, end], pa.int64()),
            "done_ts": pa.array([start, None, start + 1, start], pa.int64()),
        }
    )
    (got,) = both_reports(log.events, [test_canonical_only.MARCH], log.zone, tasks=tasks)
    rates = {scope: got["metrics"][scope]["sop_on_time_rate"] for scope in ("c1", "c2", "*")}
    # c1: tasks 1 (on time) and 2 (open) due in P, 4 after it; c2: task 3, late.
    assert rates == {"c1": 0.5, "c2": 0.0, "*": 1 / 3}


def _checked_figures(events, start, end, zone=SHANGHAI, persons=None, **options):  # type: ignore[no-untyped-def]
    return both_reports(events, [(start, end)], zone, persons, **options)[0]["metrics"]


def _checked_series(events, start, end, zone=SHANGHAI):  # type: ignore[no-untyped-def]
    (got,) = both_reports(events, [(start, end)], zone)
    return got["daily"], got["retention"]


EXAMPLES = sorted(name for name in vars(test_examples) if name.startswith("test_"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_chdb_matches_duckdb_on_the_hand_checked_examples(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples run as written, with every engine call also made on ClickHouse.
    monkeypatch.setattr(test_examples, "engine_figures", _checked_figures)
    monkeypatch.setattr(test_examples, "engine_series", _checked_series)
    test = getattr(test_examples, name)
    marks = getattr(test, "pytestmark", [])
    for case in marks[0].args[1] if marks else [()]:  # each case of a parametrized one
        test(*case)


# A few logs only: each report costs ClickHouse ~0.5 s of planning, however small the log.
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(test_property.logs())
def test_chdb_matches_duckdb_on_random_logs(case: tuple) -> None:
    events, zone, persons = case
    both_reports(events, [test_property.PERIODS[0], test_property.PERIODS[2]], zone, persons)
