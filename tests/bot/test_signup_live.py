"""Sign-up by bot command through a live adapter: `shequn run`'s LiveRun on QQ (a local
OneBot v11 server), the member's `报名` stored as the canonical `activity_signup`
event, the confirmation in the group, and the activity's report counting it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomlkit
from sqlalchemy import select

from shequn.activities.listing import report
from shequn.clock import SystemClock
from shequn.config import PlatformConfig
from shequn.platforms.registry import build
from shequn.services.bot_runner import runners
from shequn.services.live_run import LiveRun
from shequn.services.platforms import add_platform, bind
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.platforms.onebot_events import GROUP, group_message, text
from tests.platforms.onebot_server import TOKEN, FakeOneBot, forward_server
from tests.platforms.test_qq_live_run import until

TALK = """
name: talk
title: 周三分享会
community: readers
kind: sharing
start: {start}
end: {end}
owner: lin
goal: {{metric: signups, target: 10}}
"""


def prepare(root: Path) -> None:
    """A bot for `readers`."""
    path = root / "shequn.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    document["communities"][0]["bot"] = {"rules": "Be kind."}
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def declare(root: Path, start: datetime) -> None:
    """One activity of `readers` starting at `start`."""
    (root / "activities").mkdir(exist_ok=True)
    body = TALK.format(start=start.isoformat(), end=(start + timedelta(hours=1)).isoformat())
    (root / "activities" / "talk.yaml").write_text(body, encoding="utf-8")


def answers(bot: FakeOneBot) -> list[dict]:
    """The bot's replies to members' messages (not its own posts: on a Monday morning the
    weekly leaderboard goes out too, counting the first message's point)."""
    sent = bot.called("send_group_msg")
    return [c for c in sent if c["message"][0]["type"] == "reply"]


async def sign_up(root: Path, bot: FakeOneBot, declared_later: datetime | None = None) -> None:
    """Two sign-up commands through `shequn run`'s LiveRun; with `declared_later`, the
    activity is written only once the bot is running (it must find it without a restart)."""
    async with forward_server(bot) as url:
        add_platform(root, "qq", PlatformConfig(url=url, token_env="QQ_TOKEN"))
        bind(root, "readers", "qq", str(GROUP))
        ws = Workspace.open(root)
        adapters = {"qq": build("qq", ws.settings.platforms["qq"], root / "data")}
        bots = runners(ws, adapters, SystemClock())
        for each in bots.values():
            each.tick_seconds = 0.2
        runner = LiveRun(ws, adapters, bots=bots, tick_every=1.0, health_every=60.0)
        stop = asyncio.Event()
        running = asyncio.create_task(runner.run(stop))
        try:
            await until(lambda: bool(bot.connections), 60)
            now = int(datetime.now(UTC).timestamp())
            if declared_later is not None:
                await bot.push(group_message(3000, 20002, [text("早")], at=now, card="小红"))
                await asyncio.sleep(0.5)  # the bot has started and looked at activities/
                declare(root, declared_later)
                await asyncio.sleep(0.5)
            await bot.push(group_message(3001, 20002, [text("报名")], at=now, card="小红"))
            await until(lambda: len(answers(bot)) == 1, 60)
            await bot.push(group_message(3002, 20002, [text("/signup")], at=now, card="小红"))
            await until(lambda: len(answers(bot)) == 2, 30)
        finally:
            stop.set()
            await running
        ws.close()


@pytest.mark.parametrize(
    "declared_later", [False, True], ids=["declared", "declared-while-running"]
)
def test_a_qq_member_signs_up_by_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared_later: bool
) -> None:
    monkeypatch.setenv("QQ_TOKEN", TOKEN)
    root = tmp_path / "ws"
    init_workspace(root, community="readers").close()
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0, second=0)
    prepare(root)
    if declared_later:
        (root / "activities").mkdir()
    else:
        declare(root, start)
    bot = FakeOneBot(members=[20002])
    asyncio.run(sign_up(root, bot, start if declared_later else None))
    ws = Workspace.open(root)
    local = start.astimezone(ws.settings.zone).strftime("%m-%d %H:%M")
    said = [c["message"] for c in answers(bot)]
    assert [m[-1]["data"]["text"] for m in said] == [
        f"小红 报名成功：「周三分享会」{local} 开始。",
        "小红 已经报名了「周三分享会」。",
    ]
    query = select(events.c.member, events.c.content_id, events.c.source).where(
        events.c.type == "activity_signup"
    )
    with read_transaction(ws.engine) as conn:
        assert [tuple(r) for r in conn.execute(query)] == [("qq:20002", "talk", "bot")]
    assert report(ws, "talk").signups == 1
    ws.close()
