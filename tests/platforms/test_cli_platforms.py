"""`shequn platforms add/test` and `shequn communities bind`: settings hold variable
names only; the test shows identity, rooms and permissions from a real Synapse."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli import app
from shequn.errors import InputError
from shequn.services.platforms import bind
from shequn.services.workspace import init_workspace
from tests.platforms.conftest import PASSWORD_ENV, LiveRoom
from tests.platforms.synapse import Client

runner = CliRunner()


def test_add_writes_variable_names_and_keeps_comments(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, community="fans").close()
    args = ["platforms", "add", "matrix", "--homeserver", "http://127.0.0.1:1", "-w", str(root)]
    result = runner.invoke(app, [*args, "--user", "@bot:x", "--token-env", "MY_TOKEN"])
    assert result.exit_code == 0, result.output
    text = (root / "shequn.toml").read_text()
    assert "# One [[communities]] block per community" in text  # comments survive
    settings = tomllib.loads(text)
    assert settings["platforms"] == {
        "matrix": {"url": "http://127.0.0.1:1", "user": "@bot:x", "token_env": "MY_TOKEN"}
    }
    refused = runner.invoke(app, [*args, "--token-env", "syt_secret value"])
    assert isinstance(refused.exception, InputError)
    assert "'syt_secret value' is not an environment variable name" in str(refused.exception)
    unknown = runner.invoke(app, ["platforms", "add", "icq", "--url", "x", "-w", str(root)])
    assert "no live adapter for 'icq'" in str(unknown.exception)


def test_bind_names_what_is_missing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, community="fans").close()
    with pytest.raises(InputError, match="platform 'matrix' is not added"):
        bind(root, "fans", "matrix", "!r:x")
    runner.invoke(
        app, ["platforms", "add", "matrix", "--url", "u", "--password-env", "P", "-w", str(root)]
    )
    with pytest.raises(InputError, match="no community 'club'"):
        bind(root, "club", "matrix", "!r:x")
    bind(root, "fans", "matrix", "!r:x")
    block = tomllib.loads((root / "shequn.toml").read_text())["communities"][0]
    assert (block["key"], block["platform"], block["group"]) == ("fans", "matrix", "!r:x")


@pytest.mark.synapse
def test_platforms_test_shows_identity_rooms_and_missing_permissions(live_room: LiveRoom) -> None:
    weak = live_room.alice.create_room(name="Weak")
    live_room.alice.invite(weak, live_room.bot.user_id)
    Client(live_room.synapse, live_room.bot).join(weak)
    result = runner.invoke(app, ["platforms", "test", "-w", str(live_room.ws.root)])
    assert result.exit_code == 0, result.output
    out = result.output
    bot = live_room.bot.user_id
    assert f"matrix: connected as {bot}" in out
    assert f"{live_room.room} Fans -> community fans" in out
    assert f"{weak} Weak (not bound)" in out
    assert "member_list:yes send_group:yes delete:yes mute:yes remove:yes ban:yes" in out
    assert "member_list:yes send_group:yes delete:NO mute:NO remove:NO ban:NO" in out
    assert (
        f"missing mute: needs power 100 to change power levels, the bot has 0; an admin can "
        f"raise {bot} to 100 or more in the room's settings (Roles & Permissions)"
    ) in out


@pytest.mark.synapse
def test_platforms_test_says_why_it_cannot_connect(
    live_room: LiveRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    result = runner.invoke(app, ["platforms", "test", "matrix", "-w", str(live_room.ws.root)])
    assert result.exit_code == 1
    assert (
        f"matrix: cannot connect: no Matrix credentials: {PASSWORD_ENV} is not set" in result.output
    )
