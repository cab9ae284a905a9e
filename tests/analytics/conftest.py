"""The `backend` fixture: each test that takes it runs on DuckDB and on ClickHouse."""

from __future__ import annotations

import pytest

from tests.analytics.backends import BACKENDS, AnalyticsBackend


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> AnalyticsBackend:
    """An analytics backend; ClickHouse is skipped only when chDB is not installed
    (`pip install 'shequn[clickhouse]'`; the `dev` extra pulls it in)."""
    if request.param == "clickhouse":
        pytest.importorskip("chdb")
        pytest.importorskip("sqlglot")
    return BACKENDS[request.param]
