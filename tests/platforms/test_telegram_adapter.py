"""The Telegram adapter against a local server speaking the Bot API (tests/platforms/botapi)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from shequn.platforms.base import Batch, Capability, PermanentError, TransientError
from shequn.platforms.intents import MaybeSent, UncertainError
from shequn.platforms.telegram.adapter import TelegramAdapter
from shequn.platforms.telegram.api import TokenRejected
from shequn.platforms.telegram.settings import Webhook
from shequn.platforms.telegram.webhook import SECRET_HEADER
from shequn.services.send_intents import SqlJournal, settle, uncertain
from shequn.workspace import Workspace
from tests.platforms.botapi import BOT, GROUP, TOKEN, BotApiState, admin, bot_api_server
from tests.platforms.telegram_updates import (
    ALICE,
    CAROL,
    DAVE,
    join_request,
    link,
    member_change,
    reply_with_mentions,
)

G = str(GROUP)


@pytest.fixture
def server() -> Iterator[tuple[str, BotApiState]]:
    with bot_api_server() as served:
        yield served


def adapter(base: str, journal: SqlJournal | None = None, **kw: Any) -> TelegramAdapter:
    return TelegramAdapter(TOKEN, groups=[G], journal=journal, base_url=base, poll_timeout=1, **kw)


async def first_batch(listening: AsyncIterator[Batch]) -> Batch:
    return await asyncio.wait_for(anext(listening), 10)


def test_listen_translates_skips_malformed_and_moves_the_offset(
    server: tuple[str, BotApiState], caplog: pytest.LogCaptureFixture
) -> None:
    base, state = server
    state.push(
        reply_with_mentions(100),
        {"update_id": 101, "message": {"message_id": 12, "from": ALICE, "date": 1}},  # no chat
        member_change(102, DAVE, DAVE, "left", "member", invite_link=link("poster-a")),
        join_request(103, CAROL, "想学习", "poster-b"),
    )

    async def run() -> tuple[Batch, Batch]:
        tg = adapter(base)
        listening = tg.listen(None)
        one = await first_batch(listening)
        state.push(member_change(104, ALICE, CAROL, "left", "member"))
        two = await first_batch(listening)
        await tg.close()
        return one, two

    with caplog.at_level(logging.WARNING):
        one, two = asyncio.run(run())
    assert [e.type for e in one.events] == ["message", "join"]
    assert one.events[1].channel == "poster-a"
    assert [r.user_id for r in one.requests] == ["user5003"]
    assert one.position == "104"
    assert "skipped a malformed message update: message.chat" in caplog.text
    assert [(e.type, e.inviter) for e in two.events] == [("join", "telegram:user5001")]
    assert two.position == "105"
    polls = state.called("getUpdates")
    assert polls[0]["allowed_updates"] == [
        "message", "edited_message", "chat_member", "my_chat_member",
        "chat_join_request", "message_reaction",
    ]  # fmt: skip
    assert "offset" not in polls[0]
    assert polls[-1]["offset"] == "104"  # the poll that brought 104; form values are text


def test_listen_resumes_from_a_stored_position(server: tuple[str, BotApiState]) -> None:
    base, state = server
    state.push(reply_with_mentions(100), member_change(101, ALICE, DAVE, "left", "member"))

    async def run() -> Batch:
        tg = adapter(base)
        batch = await first_batch(tg.listen("101"))
        await tg.close()
        return batch

    batch = asyncio.run(run())
    assert [e.type for e in batch.events] == ["join"]  # update 100 was already stored
    assert state.called("getUpdates")[0]["offset"] == "101"


def test_a_429_waits_retry_after_then_goes_on(server: tuple[str, BotApiState]) -> None:
    base, state = server
    state.fail_next(
        "getUpdates", 429, description="Too Many Requests: retry after 1",
        parameters={"retry_after": 1},
    )  # fmt: skip
    state.push(reply_with_mentions(100))

    async def run() -> tuple[Batch, float]:
        tg = adapter(base)
        started = time.monotonic()
        batch = await first_batch(tg.listen(None))
        await tg.close()
        return batch, time.monotonic() - started

    batch, elapsed = asyncio.run(run())
    assert len(batch.events) == 1
    assert elapsed >= 1.0
    assert len(state.called("getUpdates")) == 2


def test_a_revoked_token_stops_that_adapter_and_not_the_others(
    server: tuple[str, BotApiState],
) -> None:
    base, state = server
    state.push(reply_with_mentions(100))

    async def run() -> list[Any]:
        revoked = TelegramAdapter(
            "123456:REVOKED", base_url=base, poll_timeout=1, token_env="SHOP_TG_TOKEN"
        )
        good = adapter(base)
        results = await asyncio.gather(
            first_batch(revoked.listen(None)), first_batch(good.listen(None)),
            return_exceptions=True,
        )  # fmt: skip
        await revoked.close()
        await good.close()
        return results

    failed, batch = asyncio.run(run())
    assert isinstance(failed, TokenRejected)
    assert "SHOP_TG_TOKEN" in str(failed) and "@BotFather" in str(failed)
    assert isinstance(batch, Batch) and len(batch.events) == 1


def test_send_is_recorded_and_never_repeated(
    server: tuple[str, BotApiState], ws: Workspace
) -> None:
    base, state = server
    journal = SqlJournal(ws.engine)

    async def run() -> tuple[str, str, str]:
        tg = adapter(base, journal)
        first = await tg.send(G, "欢迎 Dave", key="k1", reply_to="11")
        again = await tg.send(G, "欢迎 Dave", key="k1", reply_to="11")
        private = await tg.send(G, "hello", key="k2", private_to="user5004")
        await tg.close()
        return first, again, private

    first, again, private = asyncio.run(run())
    assert (first, again, private) == ("1001", "1001", "1002")
    sends = state.called("sendMessage")
    assert len(sends) == 2
    assert sends[0]["chat_id"] == G
    assert sends[0]["reply_parameters"] == {"message_id": 11, "allow_sending_without_reply": True}
    assert sends[1]["chat_id"] == "5004"
    assert uncertain(ws.engine) == []


def test_a_429_on_send_is_transient_and_the_retry_sends_once(
    server: tuple[str, BotApiState], ws: Workspace
) -> None:
    base, state = server
    state.fail_next(
        "sendMessage", 429, description="Too Many Requests: retry after 3",
        parameters={"retry_after": 3},
    )  # fmt: skip

    async def run() -> tuple[TransientError, str]:
        tg = adapter(base, SqlJournal(ws.engine))
        with pytest.raises(TransientError) as refused:
            await tg.send(G, "hi", key="k1")
        sent = await tg.send(G, "hi", key="k1")
        await tg.close()
        return refused.value, sent

    refused, sent = asyncio.run(run())
    assert refused.retry_after == 3
    assert sent == "1001"
    assert len(state.called("sendMessage")) == 2  # the refused one and the real one


def test_a_crash_between_send_and_record_is_uncertain_never_resent(
    server: tuple[str, BotApiState], ws: Workspace
) -> None:
    base, state = server
    journal = SqlJournal(ws.engine)
    journal.begin("k1", "telegram", G, "欢迎 Dave")  # the process died after this

    async def run() -> UncertainError:
        tg = adapter(base, journal)
        with pytest.raises(UncertainError) as unsure:
            await tg.send(G, "欢迎 Dave", key="k1")
        await tg.close()
        return unsure.value

    unsure = asyncio.run(run())
    assert state.called("sendMessage") == []
    assert isinstance(unsure, PermanentError)
    assert f"telegram group {G}" in unsure.what_to_check
    assert "'欢迎 Dave'" in unsure.what_to_check
    (pending,) = uncertain(ws.engine)
    assert pending.key == "k1"
    assert settle(ws.engine, "k1", sent=False)
    assert uncertain(ws.engine) == []


def test_a_send_without_answer_is_uncertain_on_retry(
    server: tuple[str, BotApiState], ws: Workspace
) -> None:
    base, state = server
    state.delays["sendmessage"] = 1.5

    async def run() -> None:
        tg = adapter(base, SqlJournal(ws.engine), request_timeout=0.5)
        with pytest.raises(MaybeSent):
            await tg.send(G, "hi", key="k1")
        with pytest.raises(UncertainError):
            await tg.send(G, "hi", key="k1")
        await tg.close()

    asyncio.run(run())
    assert len(state.called("sendMessage")) == 1
    assert settle(ws.engine, "k1", sent=True)
    assert not settle(ws.engine, "k1", sent=True)


def test_moderation_calls(server: tuple[str, BotApiState]) -> None:
    base, state = server

    async def run() -> None:
        tg = adapter(base)
        await tg.delete(G, "11")
        await tg.mute(G, "user5002", 600)
        await tg.mute(G, "user5002", 0)
        await tg.remove(G, "user5002")
        await tg.ban(G, "5003")
        await tg.decide_join(G, "5003", True)
        await tg.decide_join(G, "5004", False, "spam")
        with pytest.raises(PermanentError, match="cannot list"):
            await tg.members(G)
        await tg.close()

    started = int(time.time())
    asyncio.run(run())
    assert state.called("deleteMessage") == [{"chat_id": G, "message_id": "11"}]
    muted, unmuted = state.called("restrictChatMember")
    assert muted["user_id"] == "5002"
    assert muted["permissions"]["can_send_messages"] is False
    assert started + 600 <= int(muted["until_date"]) <= started + 602
    assert unmuted["permissions"]["can_send_messages"] is True and "until_date" not in unmuted
    assert [c["user_id"] for c in state.called("banChatMember")] == ["5002", "5003"]
    assert state.called("unbanChatMember") == [
        {"chat_id": G, "user_id": "5002", "only_if_banned": "true"}
    ]
    assert [c["user_id"] for c in state.called("approveChatJoinRequest")] == ["5003"]
    assert [c["user_id"] for c in state.called("declineChatJoinRequest")] == ["5004"]


def test_identity_names_a_missing_right_and_how_to_grant_it(
    server: tuple[str, BotApiState],
) -> None:
    base, state = server
    state.admins = [admin(BOT, restrict=False)]

    async def run() -> Any:
        tg = adapter(base)
        found = (
            await tg.identity(),
            await tg.member_count(G),
            await tg.create_invite_link(G, "海报A"),
        )
        await tg.close()
        return found

    identity, count, url = asyncio.run(run())
    assert (identity.user_id, identity.name) == ("user777", "shequn_bot")
    (group,) = identity.groups
    assert group.title == "Readers"
    assert Capability.DELETE in group.can and Capability.MUTE not in group.can
    assert group.missing == (
        "can_restrict_members: grant the bot 'Ban users' in the group's admin rights",
    )
    assert count == 42
    assert url == "https://t.me/+link1"
    assert state.called("createChatInviteLink") == [{"chat_id": G, "name": "海报A"}]


def test_the_webhook_refuses_a_wrong_secret_and_answers_after_the_batch_is_taken(
    server: tuple[str, BotApiState],
) -> None:
    base, state = server
    hook = Webhook(secret="s3cret", port=0, public_url="https://bot.example.org/telegram")

    async def run() -> tuple[int, int, Batch, bool, int]:
        tg = adapter(base, webhook=hook)
        listening = tg.listen(None)
        first = asyncio.ensure_future(anext(listening))
        while tg.webhook_port is None:
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{tg.webhook_port}/telegram"
        async with httpx.AsyncClient() as client:
            wrong = await client.post(
                url, json=reply_with_mentions(100), headers={SECRET_HEADER: "guess"}
            )
            malformed = await client.post(
                url, content=b"{not json", headers={SECRET_HEADER: "s3cret"}
            )
            posting = asyncio.ensure_future(
                client.post(url, json=member_change(101, ALICE, DAVE, "left", "member"),
                            headers={SECRET_HEADER: "s3cret"})
            )  # fmt: skip
            batch = await asyncio.wait_for(first, 10)
            await asyncio.sleep(0.2)
            answered_before_taken = posting.done()
            following = asyncio.ensure_future(anext(listening))
            answer = await asyncio.wait_for(posting, 10)
        following.cancel()  # stops the listener, and with it the webhook server
        with contextlib.suppress(asyncio.CancelledError):
            await following
        await tg.close()
        return (
            wrong.status_code,
            malformed.status_code,
            batch,
            answered_before_taken,
            answer.status_code,
        )

    wrong, malformed, batch, early, status = asyncio.run(run())
    assert (wrong, malformed, status) == (401, 200, 200)
    assert [(e.type, e.member) for e in batch.events] == [("join", "telegram:user5004")]
    assert batch.position == "102"
    assert not early  # Telegram hears 200 only once the ingest asked for the next batch
    (registered,) = state.called("setWebhook")
    assert registered["url"] == "https://bot.example.org/telegram"
    assert registered["secret_token"] == "s3cret"
    assert "chat_member" in registered["allowed_updates"]


def test_identity_names_a_group_the_bot_cannot_see(server: tuple[str, BotApiState]) -> None:
    base, state = server
    state.fail_next("getChat", 400, description="Bad Request: chat not found")

    async def run() -> Any:
        tg = adapter(base)
        identity = await tg.identity()
        await tg.close()
        return identity

    (group,) = asyncio.run(run()).groups
    assert group.can == frozenset()
    assert group.missing == (
        # python-telegram-bot drops the "Bad Request: " prefix and capitalises the rest
        "the bot cannot see this group (telegram getChat: Chat not found): "
        "add the bot to it, or fix the binding",
    )
