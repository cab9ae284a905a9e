"""The bot end to end: a real Synapse, the Matrix adapter, the live ingest, the store.

A member joins (welcome), posts a link as a new member (deleted, warned), again (muted
for the ladder's 10 minutes, then unmuted by a tick), asks a FAQ paraphrase
(answered), asks something unknown (operator task), checks in on two local days
(streak 2), and an operator pardons. Every step is an event; the bot figures count
them. The clock is passed in, so "ten minutes later" and "the next day" take no time.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import tomlkit
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.bot.report import figures
from shequn.bot.runner import runners
from shequn.cli import app
from shequn.clock import FrozenClock
from shequn.platforms.base import Batch
from shequn.platforms.matrix.adapter import MatrixAdapter
from shequn.reports.markdown import render_markdown
from shequn.review.run import review_workspace
from shequn.services import live
from shequn.services.tasks import list_tasks
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.bot.conftest import DATA
from tests.platforms.conftest import LiveRoom, live_room, synapse  # noqa: F401 (fixtures)
from tests.platforms.synapse import Client

START = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 Monday in Shanghai


def add_bot(ws: Workspace, operator: str) -> Workspace:
    """The workspace of `live_room` with a bot for `fans`, the test FAQ and an operator."""
    path = ws.root / "shequn.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    bot = tomlkit.table()
    bot.update(
        {"rules": "No ads.", "moderation": {"banned_words": ["scam"]}, "faq": {"owner": "lin"}}
    )
    document["communities"][0]["bot"] = bot
    operators = tomlkit.aot()
    operators.append(tomlkit.item({"name": "lin", "contact": f"matrix:{operator}"}))
    document["operators"] = operators
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    (ws.root / "faq").mkdir()
    shutil.copy(DATA / "library.yaml", ws.root / "faq")
    ws.close()
    return Workspace.open(ws.root)


def bot_events(ws: Workspace) -> list[tuple[str, str]]:
    query = select(events.c.type, events.c.text).where(events.c.source.in_(("bot", "sop")))
    with read_transaction(ws.engine) as conn:
        return [(t, x or "") for t, x in conn.execute(query.order_by(events.c.id))]


class Pump:
    """Feed /sync batches to the bot until what a test waits for has happened."""

    def __init__(self, runner, listen: AsyncIterator[Batch]) -> None:  # type: ignore[no-untyped-def]
        self.runner, self.listen = runner, listen

    async def until(self, check: Callable[[], object], what: str, batches: int = 40) -> None:
        for _ in range(batches):
            await self.runner.handle(await anext(self.listen))
            if check():
                return
        pytest.fail(f"the bot never got to: {what}")


def texts_from(client: Client, room: str, user: str) -> list[str]:
    return [body for sender, body in client.texts(room) if sender == user]


def test_the_bot_on_a_real_synapse(live_room: LiveRoom, tmp_path: Path) -> None:  # noqa: F811
    asyncio.run(_scenario(live_room))


async def _scenario(room: LiveRoom) -> None:
    alice, bot_id = room.alice, room.bot.user_id
    ws = add_bot(room.ws, alice.user.user_id)
    clock = FrozenClock(START)
    config = ws.settings.platforms["matrix"]
    adapter = MatrixAdapter(config, ws.root / "data", poll_seconds=0.5)
    runner = runners(ws, {"matrix": adapter}, clock)["matrix"]
    runner.ingest = lambda batch: live.ingest(ws, "matrix", batch)
    pump = Pump(runner, adapter.listen(None))
    said = lambda: texts_from(alice, room.room, bot_id)  # noqa: E731
    try:
        await pump.until(lambda: True, "the first sync")
        bob = room.person("bob")
        bob.join(room.room)
        await pump.until(lambda: any(t.startswith("欢迎") for t in said()), "welcome bob")

        clock.at += timedelta(minutes=1)
        spam = bob.say(room.room, "great deals at https://spam.example.com")
        await pump.until(lambda: any("警告" in t for t in said()), "warn bob")
        redacted = [e for e in alice.messages(room.room) if e["event_id"] == spam]
        assert redacted and not redacted[0]["content"]  # deleted on the server

        clock.at += timedelta(minutes=1)
        bob.say(room.room, "scam")
        await pump.until(lambda: any("禁言 10 分钟" in t for t in said()), "mute bob")
        levels = alice.call("GET", f"/rooms/{room.room}/state/m.room.power_levels/")
        assert levels["users"][bob.user.user_id] < 0

        clock.at += timedelta(minutes=11)
        await pump.until(
            lambda: (
                bob.user.user_id
                not in alice.call("GET", f"/rooms/{room.room}/state/m.room.power_levels/")["users"]
            ),
            "unmute bob after 10 minutes",
        )

        clock.at += timedelta(minutes=1)
        bob.say(room.room, "请问晚上几点关门？")
        await pump.until(lambda: any("9:00–21:00" in t for t in said()), "answer the FAQ")

        clock.at += timedelta(minutes=1)
        bob.say(room.room, "有人知道明天下雨吗？")
        await pump.until(lambda: list_tasks(ws), "an operator task for the unknown question")

        clock.at += timedelta(minutes=1)
        bob.say(room.room, "签到")
        await pump.until(lambda: any("连续 1 天" in t for t in said()), "check in, day 1")
        clock.at += timedelta(days=1)
        bob.say(room.room, "签到")
        await pump.until(lambda: any("连续 2 天" in t for t in said()), "check in, day 2")

        alice.say(room.room, f"/pardon {bob.user.user_id}")
        await pump.until(lambda: any("警告已清除" in t for t in said()), "the pardon")
    finally:
        await adapter.close()

    kinds = [t for t, _ in bot_events(ws)]
    for kind in (
        "welcomed",
        "violation",
        "warned",
        "muted",
        "unmuted",
        "faq_answered",
        "faq_unanswered",
        "task_created",
        "checked_in",
        "points_added",
        "pardoned",
    ):
        assert kind in kinds, kind
    assert kinds.count("violation") == 2 and kinds.count("checked_in") == 2
    tasks = list_tasks(ws)
    assert [t.owner for t in tasks] == ["lin"] and "下雨" in tasks[0].title
    counted = figures(ws, START - timedelta(days=1), START + timedelta(days=3))["fans"]
    assert counted.value("violations") == 2
    assert counted.value("moderation_actions") == 2  # warned, muted
    assert counted.value("faq_asked") == 2 and counted.value("faq_deflection") == 0.5
    assert counted.value("checkins") == 2 and counted.value("checkin_members") == 1
    review = review_workspace(ws, community="fans", period="2026-12", today=date(2027, 1, 5))
    markdown = render_markdown(review)
    assert "| 问答分流率 | 50.0% |" in markdown and "| 签到次数 | 2 |" in markdown
    shown = CliRunner().invoke(
        app, ["metrics", "-w", str(ws.root), "--from", "2026-12-01", "--to", "2027-01-01"]
    )
    assert shown.exit_code == 0, shown.output
    assert "FAQ deflection" in shown.output and "50.0%" in shown.output
    ws.close()
