"""Disable and enable users, change one's own password, an owner's reset: the services
(on SQLite and PostgreSQL), the console's forms and the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shequn.errors import InputError
from shequn.services import accounts, users
from shequn.store.engine import read_transaction
from shequn.store.schema import audit
from tests.web.conftest import PASSWORD, csrf_of, sign_in


def _audit(ws) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with read_transaction(ws.engine) as conn:
        rows = conn.execute(select(audit.c.action, audit.c.detail).order_by(audit.c.id))
        return [(a, json.loads(d or "{}")) for a, d in rows]


def test_disable_ends_sessions_and_refuses_sign_in(ws, clock) -> None:
    users.add_user(ws, "boss", "boss-password", "owner", clock=clock)
    users.add_user(ws, "alice", "s3cret-pass", "operator", clock=clock)
    first = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    second = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.2", clock)
    assert accounts.set_enabled(ws, "alice", False, clock).disabled
    assert users.session_of(ws, first.token, clock) is None
    assert users.session_of(ws, second.token, clock) is None
    with pytest.raises(users.Disabled, match="the user alice is disabled") as refused:
        users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    assert "shequn users enable" in refused.value.hint
    # A wrong password says nothing about the account being disabled.
    with pytest.raises(InputError, match="wrong user name or password"):
        users.sign_in(ws, "alice", "not-her-password", "10.0.0.1", clock)
    assert not accounts.set_enabled(ws, "alice", True, clock).disabled
    assert users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock).user.name == "alice"
    actions = [(a, d.get("sessions_ended")) for a, d in _audit(ws) if a.startswith("users.")]
    assert ("users.disable", 2) in actions and ("users.enable", 0) in actions
    assert ("users.sign_in_disabled", None) in actions


def test_the_last_owner_cannot_be_disabled(ws, clock) -> None:
    users.add_user(ws, "boss", "boss-password", "owner", clock=clock)
    with pytest.raises(InputError, match="last enabled owner"):
        accounts.set_enabled(ws, "boss", False, clock)
    users.add_user(ws, "deputy", "deputy-password", "owner", clock=clock)
    accounts.set_enabled(ws, "boss", False, clock)
    with pytest.raises(InputError, match="no user 'nobody'"):
        accounts.set_enabled(ws, "nobody", False, clock)


def test_change_own_password_keeps_this_session_only(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "analyst", clock=clock)
    here = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    there = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.2", clock)
    with pytest.raises(InputError, match="current password is wrong"):
        accounts.change_password(ws, "alice", "guess", "new-password-1", clock=clock)
    with pytest.raises(InputError, match="the password has 3 characters"):
        accounts.change_password(ws, "alice", "s3cret-pass", "new", clock=clock)
    accounts.change_password(
        ws, "alice", "s3cret-pass", "new-password-1", keep_token=here.token, clock=clock
    )
    assert users.session_of(ws, here.token, clock) is not None
    assert users.session_of(ws, there.token, clock) is None
    with pytest.raises(InputError):
        users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    assert users.sign_in(ws, "alice", "new-password-1", "10.0.0.1", clock).user.name == "alice"
    log = _audit(ws)
    assert ("users.password", {"name": "alice", "sessions_ended": 1}) in log
    assert not any("new-password-1" in json.dumps(d) for _a, d in log)


def test_wrong_current_passwords_count_toward_the_throttle(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "analyst", clock=clock)
    for _ in range(users.MAX_FAILURES_PER_NAME):
        with pytest.raises(InputError, match="current password is wrong"):
            accounts.change_password(ws, "alice", "guess", "new-password-1", clock=clock)
    with pytest.raises(users.Throttled):
        accounts.change_password(ws, "alice", "s3cret-pass", "new-password-1", clock=clock)


def test_owner_reset_ends_every_session(ws, clock) -> None:
    users.add_user(ws, "alice", "s3cret-pass", "analyst", clock=clock)
    session = users.sign_in(ws, "alice", "s3cret-pass", "10.0.0.1", clock)
    accounts.reset_password(ws, "alice", "given-by-owner", clock)
    assert users.session_of(ws, session.token, clock) is None
    assert users.sign_in(ws, "alice", "given-by-owner", "10.0.0.1", clock).user.name == "alice"
    assert ("users.password_reset", {"name": "alice", "sessions_ended": 1}) in _audit(ws)


def test_console_disable_signs_the_user_out_at_once(fresh) -> None:  # type: ignore[no-untyped-def]
    _ws, app = fresh
    viewer = sign_in(app, "viewer")
    assert viewer.get("/", follow_redirects=False).status_code == 200
    owner = sign_in(app, "owner")
    token = csrf_of(owner, "/settings/users")
    answer = owner.post("/settings/users/viewer/disable", data={"csrf": token})
    assert answer.status_code == 200 and "已停用" in answer.text  # the workspace speaks zh_CN
    assert viewer.get("/", follow_redirects=False).status_code == 303  # to the sign-in page
    login = viewer.get("/login")
    form_token = login.text.split('name="csrf" value="')[1].split('"')[0]
    refused = viewer.post(
        "/login", data={"name": "viewer", "password": PASSWORD, "csrf": form_token}
    )
    assert refused.status_code == 403 and "the user viewer is disabled" in refused.text
    assert owner.post("/settings/users/viewer/enable", data={"csrf": token}).status_code == 200
    assert sign_in(app, "viewer").get("/").status_code == 200
    # Only owners: an operator is refused, and a forged token too.
    operator = sign_in(app, "operator")
    op_token = csrf_of(operator, "/tasks")
    assert (
        operator.post("/settings/users/viewer/disable", data={"csrf": op_token}).status_code == 403
    )
    assert owner.post("/settings/users/viewer/disable", data={"csrf": "x"}).status_code == 403
    assert owner.post("/settings/users/viewer/delete", data={"csrf": token}).status_code == 400


def test_console_password_change_and_reset(fresh) -> None:  # type: ignore[no-untyped-def]
    ws, app = fresh
    analyst = sign_in(app, "analyst")
    other = sign_in(app, "analyst")
    token = csrf_of(analyst, "/account")
    form = {"csrf": token, "current": PASSWORD, "new": "brand-new-pass", "confirm": "other"}
    assert "the two new passwords differ" in analyst.post("/account/password", data=form).text
    wrong = {**form, "current": "guess", "confirm": "brand-new-pass"}
    assert "current password is wrong" in analyst.post("/account/password", data=wrong).text
    done = analyst.post("/account/password", data={**wrong, "current": PASSWORD})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert analyst.get("/tasks").status_code == 200  # this session stays
    assert other.get("/tasks", follow_redirects=False).status_code == 303  # the other ended
    sign_in(app, "analyst", "brand-new-pass")
    owner = sign_in(app, "owner")
    reset = owner.post(
        "/settings/users/analyst/password",
        data={"csrf": csrf_of(owner, "/settings/users"), "password": "set-by-owner"},
    )
    assert reset.status_code == 200
    assert analyst.get("/tasks", follow_redirects=False).status_code == 303
    sign_in(app, "analyst", "set-by-owner")
    actions = [a for a, _d in _audit(ws)]
    assert "users.password" in actions and "users.password_reset" in actions


def test_cli_disable_enable_passwd(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from shequn.cli.app import app
    from shequn.services.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", name="cli")
    users.add_user(ws, "boss", "boss-password", "owner")
    users.add_user(ws, "alice", "s3cret-pass", "viewer")
    runner = CliRunner()
    where = ["-w", str(ws.root)]
    result = runner.invoke(app, ["users", "disable", "alice", *where])
    assert result.exit_code == 0 and "alice is disabled" in result.output
    assert "disabled" in runner.invoke(app, ["users", "list", *where]).output
    with pytest.raises(users.Disabled):
        users.sign_in(ws, "alice", "s3cret-pass", "127.0.0.1")
    result = runner.invoke(app, ["users", "enable", "alice", *where])
    assert result.exit_code == 0 and "alice is enabled" in result.output
    monkeypatch.setenv("NEW_PW", "from-the-cli-1")
    result = runner.invoke(app, ["users", "passwd", "alice", "--password-env", "NEW_PW", *where])
    assert result.exit_code == 0, result.output
    assert users.sign_in(ws, "alice", "from-the-cli-1", "127.0.0.1").user.name == "alice"
    result = runner.invoke(app, ["users", "disable", "boss", *where])
    assert result.exit_code != 0 and "last enabled owner" in str(result.exception)
    ws.close()
