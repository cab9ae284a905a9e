"""The Matrix adapter against a real Synapse: what people do in a room arrives in the
log with the right fields; the verbs act on the room; errors map to shequn's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from shequn.config import PlatformConfig
from shequn.platforms.base import Capability, PermanentError, TransientError, Unauthorized
from shequn.platforms.matrix import client as mx
from shequn.platforms.matrix.adapter import MatrixAdapter, transaction_id
from shequn.platforms.matrix.client import new_client
from shequn.services import live
from tests.helpers.ports import free_port
from tests.platforms.conftest import PASSWORD_ENV, LiveRoom
from tests.platforms.synapse import Client, Synapse

pytestmark = pytest.mark.synapse
T = TypeVar("T")


def adapter_for(room: LiveRoom) -> MatrixAdapter:
    return MatrixAdapter(
        room.ws.settings.platforms["matrix"], room.ws.root / "data", poll_seconds=1
    )


async def _pump(room: LiveRoom, adapter: MatrixAdapter, done: Callable[[], bool]) -> None:
    async for batch in adapter.listen(live.position(room.ws, "matrix")):
        live.ingest(room.ws, "matrix", batch)
        if done():
            return


def pump(room: LiveRoom, adapter: MatrixAdapter, done: Callable[[], bool], timeout=20.0) -> None:
    """Listen and ingest until `done()` (checked after each batch)."""
    run(asyncio.wait_for(_pump(room, adapter, done), timeout))


_LOOP: list[asyncio.AbstractEventLoop] = []


def run(call: Coroutine[Any, Any, T]) -> T:
    """Run on the test's one event loop (an adapter's HTTP session belongs to a loop)."""
    return _LOOP[-1].run_until_complete(call)


@pytest.fixture(autouse=True)
def _loop() -> Iterator[None]:
    _LOOP.append(asyncio.new_event_loop())
    try:
        yield
    finally:
        _LOOP.pop().close()


def test_what_people_do_arrives_in_the_log(live_room: LiveRoom) -> None:
    adapter = adapter_for(live_room)
    pump(live_room, adapter, lambda: live.position(live_room.ws, "matrix") is not None)
    first = live_room.events()
    alice = live_room.alice.user.user_id
    assert [(e["type"], e["member"]) for e in first] == [("join", f"matrix:{alice}")]

    carol = live_room.person("carol")
    carol.join(live_room.room)
    hello = carol.say(live_room.room, "hello")
    reply = live_room.alice.say(
        live_room.room,
        "welcome!",
        **{
            "m.relates_to": {"m.in_reply_to": {"event_id": hello}},
            "m.mentions": {"user_ids": [carol.user.user_id]},
        },
    )
    carol.send(
        live_room.room,
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": reply, "key": "🎉"}},
        "m.reaction",
    )
    edit = carol.say(
        live_room.room,
        "* hello all",
        **{
            "m.new_content": {"msgtype": "m.text", "body": "hello all"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": hello},
        },
    )
    # a message redacted before anyone synced it arrives empty: sync the edit first
    pump(live_room, adapter, lambda: bool(live_room.events("message_edit")))
    live_room.alice.call("PUT", f"/rooms/{live_room.room}/redact/{edit}/r1", {})
    dave = live_room.person("dave")
    dave.join(live_room.room)
    live_room.alice.call(
        "POST", f"/rooms/{live_room.room}/kick", {"user_id": dave.user.user_id, "reason": "spam"}
    )
    carol.leave(live_room.room)
    pump(live_room, adapter, lambda: len(live_room.events()) >= 10)
    run(adapter.close())

    c, a, d = (f"matrix:{u}" for u in (carol.user.user_id, alice, dave.user.user_id))
    got = [
        (e["type"], e["member"], e["inviter"], e["reply_to"], e["message_id"], e["text"],
         json.loads(e["meta"]) if e["meta"] else None)
        for e in live_room.events()[1:]
    ]  # fmt: skip
    name = carol.user.user_id[1:].split(":")[0]
    assert got == [
        ("join", c, a, None, None, None, {"name": name}),
        ("message", c, None, None, hello, "hello", None),
        ("message", a, None, hello, reply, "welcome!", {"mentions": [c]}),
        ("reaction", c, None, reply, None, None, {"emoji": "🎉"}),
        ("message_edit", c, None, None, hello, "hello all", None),
        ("message_delete", a, None, None, edit, None, None),
        ("join", d, a, None, None, None, {"name": dave.user.user_id[1:].split(":")[0]}),
        ("leave", d, None, None, None, None, {"how": "kicked", "by": a, "reason": "spam"}),
        ("leave", c, None, None, None, None, {"how": "left"}),
    ]
    assert all(e["community"] == "fans" for e in live_room.events())


def test_send_is_exactly_once_per_key_and_the_verbs_act(live_room: LiveRoom) -> None:
    adapter = adapter_for(live_room)
    room = live_room.room
    carol = live_room.person("carol")
    carol.join(room)
    carol_id = carol.user.user_id

    async def scenario() -> tuple[str, str, str]:
        first = await adapter.send(room, "welcome carol", key="playbook|welcome|carol|1")
        again = await adapter.send(room, "welcome carol", key="playbook|welcome|carol|1")
        other = await adapter.send(room, "hello all", key="playbook|hello|fans|1", reply_to=first)
        await adapter.mute(room, carol_id, 600)
        return first, again, other

    first, again, other = run(scenario())
    assert first == again != other
    bot_texts = [t for s, t in carol.texts(room) if s == live_room.bot.user_id]
    assert bot_texts == ["welcome carol", "hello all"]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        carol.say(room, "am I muted?")
    assert refused.value.response.json()["errcode"] == "M_FORBIDDEN"

    async def moderate() -> frozenset[str]:
        await adapter.mute(room, carol_id, 0)
        carol.say(room, "unmuted")
        spam = carol.say(room, "spam")
        await adapter.delete(room, spam)
        before = await adapter.members(room)
        await adapter.remove(room, carol_id)
        return before

    before = run(moderate())
    assert before == {live_room.alice.user.user_id, carol_id}
    spam_event = next(e for e in live_room.alice.messages(room) if e.get("redacts") or (
        e["type"] == "m.room.redaction"))  # fmt: skip
    assert spam_event["sender"] == live_room.bot.user_id
    assert run(adapter.members(room)) == {live_room.alice.user.user_id}
    run(adapter.ban(room, carol_id))
    with pytest.raises(httpx.HTTPStatusError):
        carol.join(room)
    with pytest.raises(PermanentError, match="no join requests"):
        run(adapter.decide_join(room, "x", True))
    run(adapter.close())


def test_identity_and_permissions_with_the_v12_creator(live_room: LiveRoom, synapse) -> None:
    """The bot at 100 may do everything; a bot that created its own v12 room has no
    entry in m.room.power_levels and still may; a bot at 0 may only send."""
    adapter = adapter_for(live_room)
    own = run(_create_as_bot(adapter))
    weak = live_room.alice.create_room(name="Weak")
    live_room.alice.invite(weak, live_room.bot.user_id)
    run(adapter.join(weak))
    identity = run(adapter.identity())
    run(adapter.close())
    groups = {g.group_id: g for g in identity.groups}
    assert identity.user_id == live_room.bot.user_id
    assert groups[live_room.room].title == "Fans"
    everything = {Capability.DELETE, Capability.MUTE, Capability.REMOVE, Capability.BAN}
    assert everything <= groups[live_room.room].can
    assert everything <= groups[own].can and groups[own].missing == ()
    assert groups[weak].can >= {Capability.SEND_GROUP, Capability.MEMBER_LIST}
    assert not groups[weak].can & everything
    assert (
        groups[weak]
        .missing[0]
        .startswith(
            f"delete: needs power 50 to redact others' messages, the bot has 0; an admin can raise "
            f"{live_room.bot.user_id} to 50"
        )
    )


async def _create_as_bot(adapter: MatrixAdapter) -> str:
    from shequn.platforms.matrix import client as mx

    client = await adapter.client()
    answer = await mx.request(client, "POST", mx.path("createRoom"), {"name": "Own"})
    levels = await mx.request(
        client, "GET", mx.path("rooms", answer["room_id"], "state", "m.room.power_levels", "")
    )
    assert adapter.user_id not in levels.get("users", {})  # v12: the creator has no entry
    return str(answer["room_id"])


def test_rate_limit_is_transient_with_retry_after(live_room: LiveRoom, synapse) -> None:
    admin = Client(synapse, synapse.register(f"admin{live_room.room[1:7].lower()}", admin=True))
    admin.http.post(
        f"{synapse.url}/_synapse/admin/v1/users/{live_room.bot.user_id}/override_ratelimit",
        json={"messages_per_second": 1, "burst_count": 1},
    ).raise_for_status()
    adapter = adapter_for(live_room)

    async def flood() -> None:
        for n in range(5):
            await adapter.send(live_room.room, f"n{n}", key=f"flood|{n}")

    with pytest.raises(TransientError, match="M_LIMIT_EXCEEDED") as limited:
        run(flood())
    assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 1.5
    run(adapter.close())


def test_one_device_across_restarts_and_a_revoked_token(
    live_room: LiveRoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = adapter_for(live_room)
    run(adapter.identity())
    run(adapter.close())
    session = json.loads((live_room.ws.root / "data" / "matrix-session.json").read_text())
    assert oct((live_room.ws.root / "data" / "matrix-session.json").stat().st_mode)[-3:] == "600"
    assert live_room.bot.password not in json.dumps(session)
    # the token is revoked: the next start logs in again with the same device id
    Client(live_room.synapse, _user(session)).call("POST", "/logout", {})
    again = adapter_for(live_room)
    run(again.identity())
    run(again.close())
    renewed = json.loads((live_room.ws.root / "data" / "matrix-session.json").read_text())
    assert renewed["device_id"] == session["device_id"]
    assert renewed["access_token"] != session["access_token"]
    # without a password to log in again, a revoked token stops the adapter
    Client(live_room.synapse, _user(renewed)).call("POST", "/logout", {})
    monkeypatch.delenv(PASSWORD_ENV)
    stopped = adapter_for(live_room)
    with pytest.raises(Unauthorized, match=f"{PASSWORD_ENV} is not set"):
        run(stopped.identity())
    token_config = PlatformConfig(
        url=live_room.synapse.url, user=live_room.bot.user_id, token_env="SHEQUN_TEST_TOKEN"
    )
    revoked = MatrixAdapter(token_config, tmp_path / "data", {"SHEQUN_TEST_TOKEN": "syt_nope"})
    with pytest.raises(Unauthorized, match="M_UNKNOWN_TOKEN"):
        run(revoked.identity())
    run(revoked.close())
    assert transaction_id("a|b") != transaction_id("a|c")


def test_a_connect_that_fails_closes_the_client_it_made(
    synapse: Synapse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Any] = []

    def recorded(config: PlatformConfig, session: mx.Session | None = None) -> Any:
        made.append(new_client(config, session))
        return made[-1]

    monkeypatch.setattr(mx, "new_client", recorded)
    env = {"SHEQUN_TEST_TOKEN": "syt_nope"}
    revoked = PlatformConfig(url=synapse.url, user="@bot:localhost", token_env="SHEQUN_TEST_TOKEN")
    with pytest.raises(Unauthorized, match="M_UNKNOWN_TOKEN"):
        run(MatrixAdapter(revoked, tmp_path / "a", env).identity())
    away = revoked.model_copy(update={"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(TransientError, match="whoami"):
        run(MatrixAdapter(away, tmp_path / "b", env).identity())
    # Each made a request (so an HTTP session), and each was closed (nio drops it).
    assert [client.client_session for client in made] == [None, None]


def _user(session: dict):
    from tests.platforms.synapse import User

    return User(session["user_id"], session["access_token"], session["device_id"], "")
