"""The metric set on ClickHouse in-process (chDB) gives DuckDB's numbers.

The hand-checked examples (test_examples.py) run on ClickHouse through the `backend`
fixture; here: the SQL transpiles, and whole reports agree on small and random logs.
Skipped only when chDB is not installed (`pip install 'shequn[clickhouse]'`; the `dev`
extra pulls it in).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from shequn.analytics.backend import Backend, DuckBackend, to_clickhouse
from shequn.analytics.copy import memory_copy
from shequn.analytics.engine import data_days
from shequn.analytics.series import report
from tests.analytics.backends import CLICKHOUSE, both_reports
from tests.analytics.helpers import MARCH, canonical_log, local_us, persons_table, to_arrow
from tests.analytics.strategies import PERIODS, logs
from tests.helpers.gaps import need_module

need_module("chdb", CLICKHOUSE, module_level=True)
need_module("sqlglot", CLICKHOUSE, module_level=True)


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


def test_every_statement_transpiles_without_warnings(caplog: pytest.LogCaptureFixture) -> None:
    log = canonical_log()
    con = memory_copy(to_arrow(log.events), log.zone, persons_table({}))
    recording = Recording(DuckBackend(con.cursor()))
    report(recording, *MARCH, zone=log.zone)
    data_days(recording)
    # Every stage, the facts, channels, content, daily series, retention, data days.
    assert len(recording.statements) >= 2 * 10 + 7
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        for statement in recording.statements:
            assert to_clickhouse(statement)  # raises on anything ClickHouse cannot say
    assert caplog.records == []


def test_chdb_matches_duckdb_on_a_small_log() -> None:
    log = canonical_log()
    (got,) = both_reports(log.events, [MARCH], log.zone)
    assert got["metrics"]["c1"]["members_at_start"] == 2  # the hand-checked value
    assert got["metrics"]["c1"]["gmv"] == Decimal("12.50")


def test_chdb_matches_duckdb_on_sop_tasks() -> None:
    log = canonical_log()
    start, end = (local_us(f"2026-03-0{d} 12:00") for d in (2, 9))
    tasks = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int64()),
            "community": ["c1", "c1", "c2", "c1"],
            "due_ts": pa.array([start, start + 10, start, end], pa.int64()),
            "done_ts": pa.array([start, None, start + 1, start], pa.int64()),
        }
    )
    (got,) = both_reports(log.events, [MARCH], log.zone, tasks=tasks)
    rates = {scope: got["metrics"][scope]["sop_on_time_rate"] for scope in ("c1", "c2", "*")}
    # c1: tasks 1 (on time) and 2 (open) due in P, 4 after it; c2: task 3, late.
    assert rates == {"c1": 0.5, "c2": 0.0, "*": 1 / 3}


# A few logs only: each report costs ClickHouse ~0.5 s of planning, however small the log.
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_chdb_matches_duckdb_on_random_logs(case: tuple) -> None:
    events, zone, persons = case
    both_reports(events, [PERIODS[0], PERIODS[2]], zone, persons)
