"""The QQ adapter against a local OneBot v11 implementation (tests/platforms/onebot_server)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from shequn.platforms.base import (
    Batch,
    Capability,
    PermanentError,
    TransientError,
    Unauthorized,
)
from shequn.platforms.intents import MaybeSent, UncertainError
from shequn.platforms.onebot.adapter import OneBotAdapter
from shequn.platforms.onebot.link import ActionFailed, Link
from shequn.services.send_intents import SqlJournal
from shequn.workspace import Workspace
from tests.platforms.onebot_events import (
    GROUP,
    at,
    group_message,
    group_request,
    heartbeat,
    notice,
    reply,
    text,
)
from tests.platforms.onebot_server import TOKEN, FakeOneBot, forward_server, reverse_client

G = str(GROUP)


async def collect(listening: AsyncIterator[Batch], events: int, requests: int = 0) -> Batch:
    """Batches until `events` events and `requests` requests came, merged into one."""
    got: list[Any] = []
    asked: list[Any] = []
    while len(got) < events or len(asked) < requests:
        batch = await asyncio.wait_for(anext(listening), 10)
        got.extend(batch.events)
        asked.extend(batch.requests)
    return Batch(events=tuple(got), position=batch.position, requests=tuple(asked))


def forward(
    url: str, token: str = TOKEN, journal: SqlJournal | None = None, **kw: Any
) -> OneBotAdapter:
    return OneBotAdapter(Link(access_token=token, url=url, **kw), journal=journal)


def test_forward_listen_translates_and_skips_what_is_malformed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = FakeOneBot()

    async def run() -> Batch:
        async with forward_server(bot) as url:
            qq = forward(url)
            listening = qq.listen(None)
            waiting = asyncio.ensure_future(collect(listening, 3, 1))
            while not bot.connections:
                await asyncio.sleep(0.01)
            await bot.push(
                heartbeat(),
                group_message(2001, 20002, [reply(1999), at(20003), text(" 你好")]),
                "{not json",
                {"post_type": "notice", "notice_type": "group_increase"},  # no group_id
                notice("group_increase", "invite", 20004, 20002),
                group_request(20006, "海报", "flag-1"),
                notice("group_decrease", "kick", 20003, 20001),
            )
            batch = await waiting
            await qq.close()
            return batch

    with caplog.at_level(logging.WARNING):
        batch = asyncio.run(run())
    assert [(e.type, e.member) for e in batch.events] == [
        ("message", "qq:20002"), ("join", "qq:20004"), ("leave", "qq:20003"),
    ]  # fmt: skip
    assert batch.events[1].inviter == "qq:20002"
    assert [r.request_id for r in batch.requests] == ["flag-1"]
    assert "skipped a frame that is not JSON" in caplog.text
    assert "skipped a malformed notice event: notice.group_increase.group_id" in caplog.text


def test_a_wrong_access_token_stops_the_adapter_with_the_fix() -> None:
    bot = FakeOneBot()

    async def run() -> None:
        async with forward_server(bot) as url:
            qq = forward(url, token="wrong")
            with pytest.raises(Unauthorized, match="access token"):
                await anext(qq.listen(None))
            await qq.close()

    asyncio.run(run())


def test_a_closed_connection_is_transient_and_listen_reconnects() -> None:
    bot = FakeOneBot()

    async def run() -> Batch:
        async with forward_server(bot) as url:
            qq = forward(url)
            listening = qq.listen(None)
            first = asyncio.ensure_future(anext(listening))
            while not bot.connections:
                await asyncio.sleep(0.01)
            await bot.connections[-1].close()
            with pytest.raises(TransientError, match="closed"):
                await asyncio.wait_for(first, 10)
            again = qq.listen(None)
            waiting = asyncio.ensure_future(collect(again, 1))
            while len(bot.connections) < 2:
                await asyncio.sleep(0.01)
            await bot.push(group_message(2002, 20001, [text("back")]))
            batch = await waiting
            await qq.close()
            return batch

    assert [e.text for e in asyncio.run(run()).events] == ["back"]


def test_actions_with_echo(ws: Workspace) -> None:
    bot = FakeOneBot()

    async def run() -> tuple[str, str, str, frozenset[str]]:
        async with forward_server(bot) as url:
            qq = forward(url, journal=SqlJournal(ws.engine))
            first = await qq.send(G, "欢迎 [CQ:at,qq=all]", key="k1", reply_to="2001")
            again = await qq.send(G, "欢迎 [CQ:at,qq=all]", key="k1", reply_to="2001")
            private = await qq.send(G, "你好", key="k2", private_to="qq:20004")
            await qq.delete(G, "2001")
            await qq.mute(G, "20002", 600)
            await qq.mute(G, "qq:20002", 0)
            await qq.remove(G, "20003")
            await qq.ban(G, "20005")
            await qq.decide_join(G, "flag-1", False, "请填写来源")
            members = await qq.members(G)
            await qq.close()
            return first, again, private, members

    first, again, private, members = asyncio.run(run())
    assert (first, again, private) == ("5001", "5001", "5002")
    (group_send,) = bot.called("send_group_msg")
    assert group_send == {
        "group_id": GROUP,
        "message": [
            {"type": "reply", "data": {"id": "2001"}},
            {"type": "text", "data": {"text": "欢迎 [CQ:at,qq=all]"}},  # text, never CQ code
        ],
    }
    assert bot.called("send_private_msg")[0]["user_id"] == 20004
    assert bot.called("delete_msg") == [{"message_id": 2001}]
    assert [c["duration"] for c in bot.called("set_group_ban")] == [600, 0]
    assert bot.called("set_group_kick") == [
        {"group_id": GROUP, "user_id": 20003, "reject_add_request": False},
        {"group_id": GROUP, "user_id": 20005, "reject_add_request": True},
    ]
    assert bot.called("set_group_add_request") == [
        {"flag": "flag-1", "sub_type": "add", "approve": False, "reason": "请填写来源"}
    ]
    assert members == {"10000", "20001", "20002", "20003"}


def test_failed_actions_map_to_the_contract_errors(ws: Workspace) -> None:
    bot = FakeOneBot()
    bot.fail_next("send_group_msg", 100, "参数错误")
    bot.fail_next("send_group_msg", 201, "busy")
    bot.fail_next("set_group_ban", 104, "凭证失效")

    async def run() -> list[BaseException]:
        async with forward_server(bot) as url:
            qq = forward(url, journal=SqlJournal(ws.engine))
            errors = []
            for call in (
                qq.send(G, "hi", key="k1"),
                qq.send(G, "hi", key="k1"),
                qq.mute(G, "20002", 60),
            ):
                try:
                    await call
                except (TransientError, PermanentError) as exc:
                    errors.append(exc)
            sent = await qq.send(G, "hi", key="k1")  # refused twice, so not sent: may send
            await qq.close()
            assert sent == "5001"
            return errors

    refused, busy, logged_out = asyncio.run(run())
    assert isinstance(refused, ActionFailed) and "retcode 100 参数错误" in str(refused)
    assert type(busy) is TransientError
    assert isinstance(logged_out, Unauthorized)
    assert len(bot.called("send_group_msg")) == 3


def test_an_unanswered_send_is_uncertain_and_never_resent(ws: Workspace) -> None:
    bot = FakeOneBot(silent={"send_group_msg"})

    async def run() -> None:
        async with forward_server(bot) as url:
            qq = forward(url, journal=SqlJournal(ws.engine), call_timeout=0.3)
            with pytest.raises(MaybeSent):
                await qq.send(G, "hi", key="k1")
            with pytest.raises(UncertainError, match=f"qq group {G}"):
                await qq.send(G, "hi", key="k1")
            await qq.close()

    asyncio.run(run())
    assert len(bot.called("send_group_msg")) == 1


def test_identity_says_what_a_member_bot_cannot_do() -> None:
    bot = FakeOneBot(role="member")

    async def run() -> Any:
        async with forward_server(bot) as url:
            qq = forward(url)
            identity = await qq.identity()
            await qq.close()
            return identity

    identity = asyncio.run(run())
    assert (identity.user_id, identity.name) == ("10000", "shequn")
    (group,) = identity.groups
    assert (group.group_id, group.title) == (G, "读书会")
    assert Capability.MEMBER_LIST in group.can and Capability.MUTE not in group.can
    assert "设置管理员" in group.missing[0]


def test_reverse_refuses_a_wrong_token_and_serves_the_right_one() -> None:
    bot = FakeOneBot()

    async def run() -> tuple[int, Batch, str]:
        link = Link(access_token=TOKEN, listen=("127.0.0.1", 0))
        qq = OneBotAdapter(link)
        listening = qq.listen(None)
        waiting = asyncio.ensure_future(collect(listening, 1))
        while not link.port:
            await asyncio.sleep(0.01)
        url = f"ws://127.0.0.1:{link.port}/onebot/v11/ws"
        with pytest.raises(InvalidStatus) as refused:
            async with reverse_client(bot, url, "guess"):
                pass
        async with reverse_client(bot, url, TOKEN):
            while not bot.connections:
                await asyncio.sleep(0.01)
            await bot.push(group_message(2001, 20002, [text("hello")]))
            batch = await waiting
            info = await link.call("get_login_info")
        waiting.cancel()
        await qq.close()
        return refused.value.response.status_code, batch, info["nickname"]

    status, batch, nickname = asyncio.run(run())
    assert status == 401
    assert [e.text for e in batch.events] == ["hello"]
    assert nickname == "shequn"
