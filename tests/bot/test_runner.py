"""The runner over a small in-memory adapter speaking the contract: retries on
TransientError, records a PermanentError, never answers itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from shequn.bot.setup import load
from shequn.clock import FrozenClock
from shequn.config import load_settings
from shequn.platforms.base import (
    Batch,
    Capability,
    GroupInfo,
    Identity,
    JoinRequest,
    PermanentError,
    TransientError,
)
from shequn.services.bot_runner import Runner
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.bot.conftest import T0, make_workspace, message

ROOM = "!tea:localhost"


@dataclass
class MemoryAdapter:
    """Does what it is told and remembers it; fails as scripted."""

    platform: str = "matrix"
    capabilities: frozenset[Capability] = frozenset(Capability)
    done: list[tuple] = field(default_factory=list)
    fail_send: list[Exception] = field(default_factory=list)  # raised by the next sends
    fail_delete: Exception | None = None

    async def identity(self) -> Identity:
        return Identity(
            "matrix", "@bot:localhost", "bot", (GroupInfo(ROOM, "Tea", self.capabilities),)
        )

    async def listen(self, position: str | None) -> AsyncIterator[Batch]:
        yield Batch((), "0")

    async def send(
        self,
        group: str,
        text: str,
        *,
        key: str,
        private_to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        if self.fail_send:
            raise self.fail_send.pop(0)
        self.done.append(("send", group, text, key, private_to))
        return f"$sent{len(self.done)}"

    async def delete(self, group: str, message_id: str) -> None:
        if self.fail_delete:
            raise self.fail_delete
        self.done.append(("delete", group, message_id))

    async def mute(self, group: str, user: str, seconds: int) -> None:
        self.done.append(("mute", group, user, seconds))

    async def remove(self, group: str, user: str) -> None:
        self.done.append(("remove", group, user))

    async def ban(self, group: str, user: str) -> None:
        self.done.append(("ban", group, user))

    async def decide_join(
        self, group: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        self.done.append(("decide_join", group, request_id, approve))

    async def members(self, group: str) -> frozenset[str]:
        return frozenset()

    async def close(self) -> None:
        pass


def make_runner(tmp_path: Path, adapter: MemoryAdapter) -> tuple[Runner, list[float]]:
    root = make_workspace(tmp_path / "ws")
    ws = Workspace.open(root)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    setups = load(root, load_settings(root))
    runner = Runner(ws, adapter, setups, {ROOM: "tea"}, FrozenClock(T0), sleep=sleep)
    return runner, waits


def stored(runner: Runner, kind: str) -> list[str]:
    query = select(events.c.text).where(events.c.source == "bot", events.c.type == kind)
    with read_transaction(runner.ws.engine) as conn:
        return [t or "" for t in conn.scalars(query)]


def test_a_rate_limited_send_is_retried_after_the_wait_asked(tmp_path: Path) -> None:
    adapter = MemoryAdapter(fail_send=[TransientError("429", retry_after=3.5)])
    runner, waits = make_runner(tmp_path, adapter)
    ask = message("matrix:@bob:localhost", "签到", community=ROOM)
    asyncio.run(runner.handle(Batch((ask,), "1")))
    assert waits == [3.5]
    assert [d[0] for d in adapter.done] == ["send"] and "签到成功" in adapter.done[0][2]
    assert adapter.done[0][3] == f"bot|tea|{ask.source_id}|0"  # the key the platform dedups on
    assert stored(runner, "bot_failed") == []
    runner.ws.close()


def test_a_refused_delete_is_recorded_and_the_warning_still_goes_out(tmp_path: Path) -> None:
    adapter = MemoryAdapter(fail_delete=PermanentError("no power to redact"))
    runner, _ = make_runner(tmp_path, adapter)
    spam = message("matrix:@eve:localhost", "scam", community=ROOM)
    asyncio.run(runner.handle(Batch((spam,), "1")))
    assert [d[0] for d in adapter.done] == ["send"]
    assert stored(runner, "bot_failed") == ["Delete"]
    assert stored(runner, "violation") == ["banned_word"]
    runner.ws.close()


def test_unbound_groups_and_the_bot_itself_are_ignored(tmp_path: Path) -> None:
    adapter = MemoryAdapter()
    runner, _ = make_runner(tmp_path, adapter)
    other = message("matrix:@eve:localhost", "scam", community="!other:localhost")
    mine = message("matrix:@bot:localhost", "scam", community=ROOM)
    decisions = asyncio.run(runner.handle(Batch((other, mine), "1")))
    assert [bool(d) for d in decisions] == [False]  # the unbound group is not even decided on
    assert adapter.done == []
    runner.ws.close()


def test_a_join_question_is_asked_privately_and_answered_from_the_private_chat(
    tmp_path: Path,
) -> None:
    adapter = MemoryAdapter()
    runner, _ = make_runner(tmp_path, adapter)
    request = JoinRequest(ROOM, "req-7", "@carol:localhost", T0)
    asyncio.run(runner.handle(Batch((), "1", requests=(request,))))
    assert adapter.done[0][:2] == ("send", ROOM) and "What do we drink here?" in adapter.done[0][2]
    assert adapter.done[0][4] == "@carol:localhost"  # privately, as the platform's user id
    answer = message("matrix:@carol:localhost", "茶", community="!dm-carol:localhost")
    asyncio.run(runner.handle(Batch((answer,), "2")))
    assert adapter.done[-1] == ("decide_join", ROOM, "req-7", True)
    assert stored(runner, "join_approved") == [""]
    runner.ws.close()


def test_an_activity_written_before_the_first_batch_is_taken_in(tmp_path: Path) -> None:
    """Setups are built, then an activity file appears before the bot's first batch
    (`shequn run` starting while an operator saves one): the first look must take it."""
    adapter = MemoryAdapter()
    runner, _ = make_runner(tmp_path, adapter)
    assert runner.setups["tea"].activities == ()
    (runner.ws.root / "activities").mkdir()
    (runner.ws.root / "activities" / "talk.yaml").write_text(
        "name: talk\ntitle: 周三分享会\ncommunity: tea\nkind: sharing\n"
        "start: 2026-12-09T12:00:00+00:00\nend: 2026-12-09T13:00:00+00:00\nowner: lin\n"
        "goal: {metric: signups, target: 10}\n",
        encoding="utf-8",
    )
    asyncio.run(runner.handle(Batch((), "1")))
    assert [a.name for a in runner.setups["tea"].activities] == ["talk"]
    runner.ws.close()
