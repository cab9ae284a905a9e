"""SOP tests: the 10,000-action SIGKILL run is `slow`; it runs only when asked for, and
always under CI (a skip there could hide a failure)."""

from __future__ import annotations

import pytest

from tests.helpers.gaps import in_ci


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `slow` SOP tests unless the run selects them (`pytest -m slow tests/sop`) or
    runs under CI."""
    if in_ci() or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with `pytest -m slow tests/sop`")
    for item in items:
        if "slow" in item.keywords and "/sop/" in str(item.fspath):
            item.add_marker(skip)
