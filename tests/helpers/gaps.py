"""What the tests need from the machine: missing here, a skip named as a KNOWN GAP;
missing in CI (CI set), a failure, so a skip never hides one there.

`pytest_runtest_makereport` (a hook, taken up by tests/conftest.py) holds CI to that
for every skip, whatever raised it (a marker, `importorskip`, a conftest), not only for
those that come through `known_gap`."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """Whether the run is CI's, which must run every test (CI set)."""
    return bool(os.environ.get("CI"))


def known_gap(reason: str, *, module_level: bool = False) -> NoReturn:
    """Skip with `reason`, or fail with it when CI is set."""
    if in_ci():
        pytest.fail(f"CI needs this: {reason}", pytrace=False)
    pytest.skip(f"KNOWN GAP: {reason}", allow_module_level=module_level)


def need_module(name: str, install: str, *, module_level: bool = False) -> ModuleType:
    """The module `name`, or a known gap saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        known_gap(f"{name} is not installed ({install})", module_level=module_level)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Under CI, a skipped test's report is a failure, with the skip's reason."""
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI runs every test, so a skip fails it: {reason}"
    return report
