"""`shequn run` (LiveRun) with the QQ and Telegram adapters: a member joins, the join is in
the log within seconds and the playbook's welcome reaches the group once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.config import PlatformConfig
from shequn.platforms.registry import build
from shequn.services.live_run import LiveRun
from shequn.services.platforms import add_platform, bind
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.store.sop_schema import log
from shequn.workspace import Workspace
from tests.platforms.botapi import GROUP as TG_GROUP
from tests.platforms.botapi import TOKEN as BOT_TOKEN
from tests.platforms.botapi import bot_api_server
from tests.platforms.onebot_events import GROUP, group_message, notice, text
from tests.platforms.onebot_server import TOKEN, FakeOneBot, forward_server
from tests.platforms.telegram_updates import DAVE, link, member_change, message
from tests.sop.helpers import write_playbook

WELCOME = """
    name: newcomer-7day
    applies_to:
      communities: ["*"]
    trigger:
      type: member_joined
    steps:
      - id: welcome
        at: "+0m"
        action:
          type: send_group
          text: "欢迎新朋友 {{ member.key }}"
        owner: role:assistant
        emergency: {do: "welcome them by hand", alert: "role:lead"}
"""


async def until(check, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _engine_started(ws: Workspace) -> bool:
    """The engine has ticked once (it logs the playbooks it loaded)."""
    with read_transaction(ws.engine) as conn:
        return conn.scalar(select(log.c.id).where(log.c.type == "playbook_loaded")) is not None


async def _welcomes(root: Path, bot: FakeOneBot, late: int) -> tuple[list[tuple], float]:
    """Run `shequn run` on QQ; a member joins (stamped `late` seconds ago) and speaks.
    The rows OneBot brought into the log, and seconds from the join to the welcome."""
    async with forward_server(bot) as url:
        add_platform(root, "qq", PlatformConfig(url=url, token_env="QQ_TOKEN"))
        bind(root, "readers", "qq", str(GROUP))
        ws = Workspace.open(root)
        write_playbook(ws, "newcomer-7day", WELCOME)  # the prepare stage runs it
        adapters = {"qq": build("qq", ws.settings.platforms["qq"], root / "data")}
        runner = LiveRun(ws, adapters, tick_every=1.0, health_every=60.0)
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop))
        try:  # stop the runner whatever happens: its engine thread would outlive the test
            await until(lambda: _engine_started(ws), 60)
            joined = time.monotonic()
            # OneBot stamps whole seconds, so even late=0 is usually before the last tick.
            stamp = int(time.time()) - late
            await bot.push(
                notice("group_increase", "approve", 20002, 20001, at=stamp),
                group_message(3001, 20002, [text("大家好")], at=stamp),
            )
            await until(lambda: bool(bot.called("send_group_msg")), 20)
            welcomed = time.monotonic() - joined
            await asyncio.sleep(1.5)  # another tick: nothing is sent twice
        finally:
            stop.set()
            await running
        with read_transaction(ws.engine) as conn:
            rows = conn.execute(
                select(events.c.community, events.c.type, events.c.member)
                .where(events.c.source == "qq")
                .order_by(events.c.id)
            ).all()
        ws.close()
        return [tuple(r) for r in rows], welcomed


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QQ_TOKEN", TOKEN)
    init_workspace(tmp_path / "ws", community="readers").close()
    return tmp_path / "ws"


def test_a_join_on_qq_is_logged_and_welcomed_once(root: Path) -> None:
    # The member list reconciliation reads: the same as the log, so it adds nothing.
    bot = FakeOneBot(members=[20002])
    rows, welcomed = asyncio.run(_welcomes(root, bot, late=0))
    assert rows == [("readers", "join", "qq:20002"), ("readers", "message", "qq:20002")]
    (sent,) = bot.called("send_group_msg")
    assert sent["group_id"] == GROUP
    assert sent["message"] == [{"type": "text", "data": {"text": "欢迎新朋友 qq:20002"}}]
    assert welcomed < 20


def test_a_join_that_arrives_late_is_still_welcomed_once(root: Path) -> None:
    """Stamped 10 s before it reaches the log (a reconnect, a backlog): the engine's
    window moves back for it."""
    bot = FakeOneBot(members=[20002])
    rows, _ = asyncio.run(_welcomes(root, bot, late=10))
    assert ("readers", "join", "qq:20002") in rows
    assert len(bot.called("send_group_msg")) == 1


def test_telegram_under_shequn_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Long polling in LiveRun: the join is stored and welcomed once; Telegram has no
    member list, so reconciliation leaves it alone and the listener never restarts."""
    monkeypatch.setenv("TG_TOKEN", BOT_TOKEN)
    with bot_api_server() as (base, state):

        async def run() -> tuple[list[tuple], str]:
            add_platform(root, "telegram", PlatformConfig(url=base, token_env="TG_TOKEN"))
            bind(root, "readers", "telegram", str(TG_GROUP))
            ws = Workspace.open(root)
            write_playbook(ws, "newcomer-7day", WELCOME)
            adapter = build("telegram", ws.settings.platforms["telegram"], root / "data")
            adapter.poll_timeout = 1  # type: ignore[attr-defined]
            runner = LiveRun(ws, {"telegram": adapter}, tick_every=1.0, health_every=60.0)
            stop = asyncio.Event()
            running = asyncio.create_task(runner.run(stop))
            try:
                await until(lambda: _engine_started(ws), 60)
                joined = member_change(
                    100, DAVE, DAVE, "left", "member", invite_link=link("公众号")
                )
                joined["chat_member"]["date"] = int(time.time())
                state.push(joined, message(101, 11, DAVE, "大家好"))
                await until(lambda: bool(state.called("sendMessage")), 30)
                await asyncio.sleep(1.5)
            finally:
                stop.set()
                await running
            with read_transaction(ws.engine) as conn:
                rows = conn.execute(
                    select(events.c.type, events.c.member, events.c.channel)
                    .where(events.c.source == "telegram")
                    .order_by(events.c.id)
                ).all()
            ws.close()
            return [tuple(r) for r in rows], runner.health["telegram"].last_error

        rows, last_error = asyncio.run(run())
    assert rows == [("join", "telegram:user5004", "公众号"), ("message", "telegram:user5004", None)]
    assert [c["text"] for c in state.called("sendMessage")] == ["欢迎新朋友 telegram:user5004"]
    assert last_error == ""
