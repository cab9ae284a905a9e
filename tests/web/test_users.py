"""Console users on SQLite and PostgreSQL: passwords, sessions, throttling, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.errors import InputError
from shequn.services import users
from shequn.store.engine import read_transaction
from shequn.store.schema import audit
from shequn.store.web_schema import users as users_table


def test_password_is_stored_only_as_an_argon2_hash(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "operator", ("book-club",), clock=clock)
    with read_transaction(ws.engine) as conn:
        stored = conn.scalar(select(users_table.c.password_hash))
        actions = list(conn.scalars(select(audit.c.action)))
    assert stored.startswith("$argon2id$")
    assert "s3cret-pass" not in stored
    assert actions == ["users.add"]


def test_sign_in_opens_a_session_that_expires(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "analyst", clock=clock)
    session = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    found = users.session_of(ws, session.token, clock)
    assert found is not None and found.user.name == "alice" and found.user.role == "analyst"
    assert found.csrf == session.csrf
    later = FrozenClock(clock.now() + users.SESSION_LIFETIME + timedelta(seconds=1))
    assert users.session_of(ws, session.token, later) is None
    users.sign_out(ws, session.token, clock)
    assert users.session_of(ws, session.token, clock) is None


def test_wrong_password_and_unknown_name_read_the_same(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "viewer", clock=clock)
    with pytest.raises(InputError) as wrong:
        users.sign_in(ws, "alice", "nope-nope", "10.0.0.1", clock)
    with pytest.raises(InputError) as unknown:
        users.sign_in(ws, "mallory", "nope-nope", "10.0.0.1", clock)
    assert str(wrong.value) == str(unknown.value)


def test_five_failures_throttle_the_name_for_the_window(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "viewer", clock=clock)
    for _ in range(users.MAX_FAILURES_PER_NAME):
        with pytest.raises(InputError):
            users.sign_in(ws, "alice", "guess-guess", "10.0.0.9", clock)
    # Even the right password is refused while throttled.
    with pytest.raises(users.Throttled):
        users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.9", clock)
    after = FrozenClock(clock.now() + users.THROTTLE_WINDOW + timedelta(seconds=1))
    assert users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.9", after).user.name == "alice"


def test_bad_input_names_the_field(ws, clock) -> None:
    with pytest.raises(InputError, match="--role"):
        users.add_user(ws, "a", "long-enough", "admin", clock=clock)
    with pytest.raises(InputError, match="password"):
        users.add_user(ws, "a", "short", "owner", clock=clock)
    users.add_user(ws, "a", "long-enough", "owner", clock=clock)
    with pytest.raises(InputError, match="exists"):
        users.add_user(ws, "a", "long-enough", "owner", clock=clock)


def test_scope_of_a_user() -> None:
    scoped = users.User(1, "o", "operator", ("book-club",), None)
    everyone = users.User(2, "p", "owner", (), None)
    assert scoped.sees("book-club") and not scoped.sees("tea-shop")
    assert everyone.sees("tea-shop")


def test_cli_users_add_reads_the_password_from_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from shequn.cli.app import app
    from shequn.services.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", name="cli")
    monkeypatch.setenv("DEMO_PW", "a-long-password")
    runner = CliRunner()
    args = [
        "users",
        "add",
        "demo",
        "--role",
        "owner",
        "--password-env",
        "DEMO_PW",
        "-w",
        str(ws.root),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Added demo (owner; all communities)" in result.output
    assert users.sign_in(ws, "demo", "a-long-password", "127.0.0.1").user.role == "owner"
    monkeypatch.delenv("DEMO_PW")
    result = runner.invoke(app, [*args[:2], "other", *args[3:]])
    assert result.exit_code != 0 and "DEMO_PW" in str(result.exception)
    ws.close()
