"""The session's Synapse homeserver (tests/platforms/synapse.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.platforms.synapse import Synapse


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """A real Synapse on loopback for the whole session; removed at the end.

    Missing Synapse fails the run in CI (CI=true) with how to install it; elsewhere the
    Matrix tests are skipped as a KNOWN GAP with the same message.
    """
    try:
        server = Synapse()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Synapse is required in CI: {exc}")
        pytest.skip(f"KNOWN GAP: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.remove()
