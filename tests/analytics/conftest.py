"""The `backend` fixture: each test that takes it runs on DuckDB and on ClickHouse."""

from __future__ import annotations

import pytest

from tests.analytics.backends import BACKENDS, CLICKHOUSE, AnalyticsBackend
from tests.helpers.gaps import need_module


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> AnalyticsBackend:
    """An analytics backend; ClickHouse is skipped only when chDB is not installed
    (`pip install 'shequn[clickhouse]'`; the `dev` extra pulls it in)."""
    if request.param == "clickhouse":
        need_module("chdb", CLICKHOUSE)
        need_module("sqlglot", CLICKHOUSE)
    return BACKENDS[request.param]
