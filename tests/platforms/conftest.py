"""The session's Synapse homeserver (tests/platforms/synapse.py)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.config import PlatformConfig
from shequn.services.platforms import add_platform, bind
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.helpers.gaps import known_gap
from tests.platforms.synapse import Client, Synapse, User


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """A real Synapse on loopback for the whole session; removed at the end.

    Missing Synapse fails the run in CI (CI=true) with how to install it; elsewhere the
    Matrix tests are skipped as a KNOWN GAP with the same message.
    """
    try:
        server = Synapse()
    except FileNotFoundError as exc:
        known_gap(f"Synapse: {exc}")
    try:
        server.start()
        yield server
    finally:
        server.remove()


PASSWORD_ENV = "SHEQUN_TEST_MATRIX_PASSWORD"


@dataclass
class LiveRoom:
    """A room on the test Synapse with its creator (alice), the bot, and a workspace
    whose community `fans` is bound to the room."""

    synapse: Synapse
    alice: Client
    bot: User
    room: str
    ws: Workspace

    def person(self, name: str) -> Client:
        """A new user, invited by alice; they have not joined yet."""
        user = self.synapse.register(f"{name}{secrets.token_hex(3)}")
        self.alice.invite(self.room, user.user_id)
        return Client(self.synapse, user)

    def events(self, *types: str) -> list[dict]:
        """The community's events from Matrix, in log order."""
        query = select(events).where(events.c.source == "matrix").order_by(events.c.id)
        if types:
            query = query.where(events.c.type.in_(types))
        with read_transaction(self.ws.engine) as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


@pytest.fixture
def live_room(
    synapse: Synapse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LiveRoom]:
    suffix = secrets.token_hex(3)
    alice = Client(synapse, synapse.register(f"alice{suffix}"))
    bot = synapse.register(f"bot{suffix}")
    room = alice.create_room(name="Fans")
    alice.invite(room, bot.user_id)
    Client(synapse, bot).join(room)
    alice.power(room, {bot.user_id: 100})
    monkeypatch.setenv(PASSWORD_ENV, bot.password)
    root = tmp_path / "ws"
    init_workspace(root, name="live", community="fans").close()
    config = PlatformConfig(url=synapse.url, user=bot.user_id, password_env=PASSWORD_ENV)
    add_platform(root, "matrix", config)
    bind(root, "fans", "matrix", room)
    ws = Workspace.open(root)
    try:
        yield LiveRoom(synapse, alice, bot, room, ws)
    finally:
        ws.close()
        alice.close()


def wait_for(check: Callable[[], object], timeout: float = 20.0, what: str = "") -> object:
    """Poll `check` until it returns something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what or check}")
