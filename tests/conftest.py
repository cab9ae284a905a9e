"""Fixtures: workspaces on every engine (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shequn.clock import FrozenClock
from shequn.services.workspace import init_workspace
from shequn.workspace import Workspace
from tests.pg import PG_ENV, TempPostgres

ENGINES = ("sqlite", "postgres")
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The admin URL of a PostgreSQL server for this test session."""
    if os.environ.get(PG_ENV):
        yield os.environ[PG_ENV]
        return
    try:
        server = TempPostgres()
    except (FileNotFoundError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"KNOWN GAP: no PostgreSQL here ({exc}); set {PG_ENV} or install it")
    try:
        yield server.url
    finally:
        server.stop()


def fresh_database(admin_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    name = f"shequn_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ws(engine_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """A fresh workspace, once on SQLite and once on PostgreSQL."""
    root = tmp_path / "ws"
    if engine_name == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"))
        root.mkdir()
        (root / "shequn.toml").write_text(f'name = "test"\ndatabase_url = "{url}"\n')
        workspace = Workspace.open(root)
        workspace.engine  # noqa: B018 - migrate now
    else:
        workspace = init_workspace(root, name="test")
    try:
        yield workspace
    finally:
        workspace.close()


DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up the developer's own workspace or database."""
    monkeypatch.delenv("SHEQUN_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHEQUN_WORKSPACE", raising=False)
