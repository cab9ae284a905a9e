"""Fixtures: workspaces on every engine (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from shequn.clock import FrozenClock
from shequn.services.workspace import init_workspace
from shequn.store.engine import open_engine
from shequn.store.migrate import migrate
from shequn.store.schema import metadata
from shequn.workspace import Workspace
from tests.helpers.gaps import known_gap
from tests.helpers.gaps import pytest_runtest_makereport as pytest_runtest_makereport
from tests.pg import PG_ENV, TempPostgres

ENGINES = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a migrated template database on a PostgreSQL server for this session."""
    if os.environ.get(PG_ENV):
        yield _migrated_template(os.environ[PG_ENV])
        return
    try:
        server = TempPostgres()
    except (FileNotFoundError, OSError) as exc:
        known_gap(f"no PostgreSQL here ({exc}); set {PG_ENV} or install it")
    try:
        yield _migrated_template(server.url)
    finally:
        server.stop()


def _migrated_template(admin_url: str) -> str:
    """A database for this session, migrated once; tests empty it before use."""
    name = f"shequn_test_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    engine = open_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def fresh_database(url: str) -> str:
    """Empty every table of the session's database (10x faster than a new database)."""
    engine = open_engine(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


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


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up the developer's own workspace or database."""
    monkeypatch.delenv("SHEQUN_DATABASE_URL", raising=False)
    monkeypatch.delenv("SHEQUN_WORKSPACE", raising=False)
