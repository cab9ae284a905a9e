"""Telegram and QQ wired into a workspace: `platforms add`, `communities bind`,
`channels link`, `platforms test`, then live ingest and reconciliation through the
adapters the registry builds (SQLite workspace, local Bot API and OneBot servers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.cli import app
from shequn.platforms.base import Adapter, Outgoing, PermanentError
from shequn.platforms.delivery import AdapterPlatform
from shequn.platforms.registry import build
from shequn.services import live
from shequn.services.send_intents import SqlJournal
from shequn.services.workspace import init_workspace
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.platforms.botapi import GROUP, TOKEN, BotApiState, bot_api_server
from tests.platforms.onebot_events import GROUP as QQ_GROUP
from tests.platforms.onebot_server import TOKEN as QQ_TOKEN
from tests.platforms.onebot_server import FakeOneBot, forward_server
from tests.platforms.telegram_updates import DAVE, link, member_change, message

runner = CliRunner()
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def cli(*args: str, ok: bool = True) -> str:
    """The output, and the error a user would see (main() prints ShequnError)."""
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output
    return result.output + (str(result.exception) if result.exception else "")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TG_TOKEN", TOKEN)
    monkeypatch.setenv("QQ_TOKEN", QQ_TOKEN)
    init_workspace(tmp_path / "ws", community="readers").close()
    return tmp_path / "ws"


@pytest.fixture
def server() -> Iterator[tuple[str, BotApiState]]:
    with bot_api_server() as served:
        yield served


def test_telegram_from_add_to_attributed_joins(root: Path, server: tuple[str, BotApiState]) -> None:
    base, state = server
    w = ("-w", str(root))
    cli("platforms", "add", "telegram", "--url", base, "--token-env", "TG_TOKEN", *w)
    # Telegram group ids are negative: `--` keeps them from being read as options.
    cli("communities", "bind", *w, "readers", "telegram", "--", str(GROUP))
    assert "(new): https://t.me/+link1" in cli("channels", "link", "readers", "公众号", *w)
    assert "(already made): https://t.me/+link1" in cli("channels", "link", "readers", "公众号", *w)
    assert state.called("createChatInviteLink") == [{"chat_id": str(GROUP), "name": "公众号"}]
    refused = cli("channels", "link", "readers", "公总号", *w, ok=False)
    assert "not one of community 'readers'" in refused
    shown = cli("platforms", "test", "telegram", *w)
    assert "telegram: connected as user777 (shequn_bot)" in shown
    assert f"{GROUP} Readers -> community readers" in shown

    state.push(
        member_change(100, DAVE, DAVE, "left", "member", invite_link=link("公众号")),
        message(101, 11, DAVE, "大家好"),
    )
    ws = Workspace.open(root)

    async def listen_once() -> live.IngestResult:
        adapter = build("telegram", ws.settings.platforms["telegram"], root / "data")
        batch = await asyncio.wait_for(anext(adapter.listen(None)), 10)
        await adapter.close()
        first = live.ingest(ws, "telegram", batch)
        assert live.ingest(ws, "telegram", batch).added == 0  # a replay adds nothing
        return first

    assert asyncio.run(listen_once()).added == 2
    with read_transaction(ws.engine) as conn:
        rows = conn.execute(
            select(events.c.community, events.c.type, events.c.member, events.c.channel)
            .where(events.c.source == "telegram")
            .order_by(events.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("readers", "join", "telegram:user5004", "公众号"),
        ("readers", "message", "telegram:user5004", None),
    ]
    assert live.position(ws, "telegram") == "102"
    ws.close()


def test_platforms_add_says_what_each_mode_needs(root: Path) -> None:
    w = ("-w", str(root))
    assert "needs --url" in cli("platforms", "add", "qq", "--token-env", "QQ_TOKEN", *w, ok=False)
    webhook = cli(
        "platforms", "add", "telegram", "--mode", "webhook", "--token-env", "TG_TOKEN", *w, ok=False
    )
    assert "needs --secret-env" in webhook
    assert "has no mode 'reverse'" in cli(
        "platforms", "add", "telegram", "--mode", "reverse", "--token-env", "TG_TOKEN", *w, ok=False
    )
    cli("platforms", "add", "qq", "--mode", "reverse", "--listen", "127.0.0.1:6700",
        "--token-env", "QQ_TOKEN", *w)  # fmt: skip
    assert 'listen = "127.0.0.1:6700"' in (root / "shequn.toml").read_text()
    assert QQ_TOKEN not in (root / "shequn.toml").read_text()


def test_qq_reconciliation_from_the_member_list(root: Path) -> None:
    bot = FakeOneBot(members=[10000, 20001, 20002])

    async def run() -> tuple[list[str], list[str]]:
        async with forward_server(bot) as url:
            w = ("-w", str(root))
            cli("platforms", "add", "qq", "--url", url, "--token-env", "QQ_TOKEN", *w)
            cli("communities", "bind", "readers", "qq", str(QQ_GROUP), *w)
            ws = Workspace.open(root)
            adapter = build("qq", ws.settings.platforms["qq"], root / "data")
            present = await adapter.members(str(QQ_GROUP))
            await adapter.close()
            first = live.reconcile(ws, "qq", str(QQ_GROUP), present, NOW)
            again = live.reconcile(ws, "qq", str(QQ_GROUP), present, NOW)
            assert (again.joined, again.left) == ([], [])
            ws.close()
            return first.joined, first.left

    joined, left = asyncio.run(run())
    assert joined == ["qq:10000", "qq:20001", "qq:20002"]
    assert left == []


def test_the_dispatcher_never_sends_twice_and_sees_uncertain_sends(
    root: Path, server: tuple[str, BotApiState]
) -> None:
    """Through AdapterPlatform, as `shequn run` delivers: a retry after a crash that
    lost the outbox's record sends nothing; a send with an intent and no outcome is a
    permanent 'uncertain' failure naming what to check."""
    base, state = server
    w = ("-w", str(root))
    cli("platforms", "add", "telegram", "--url", base, "--token-env", "TG_TOKEN", *w)
    cli("communities", "bind", *w, "readers", "telegram", "--", str(GROUP))
    ws = Workspace.open(root)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    adapter = asyncio.run_coroutine_threadsafe(_built(ws, "telegram"), loop).result(10)
    platform = AdapterPlatform(adapter, ws.settings, loop)
    welcome = Outgoing("k1", "readers", "readers", "send_group", {"text": "欢迎新朋友"})
    platform.send(welcome)
    platform.send(welcome)  # the dispatcher crashed before recording the first: no resend
    assert [c["text"] for c in state.called("sendMessage")] == ["欢迎新朋友"]
    SqlJournal(ws.engine).begin("k2", "telegram", str(GROUP), "第二条")  # then a crash
    with pytest.raises(PermanentError, match=r"uncertain: look in telegram group .*'第二条'"):
        platform.send(Outgoing("k2", "readers", "readers", "send_group", {"text": "第二条"}))
    assert len(state.called("sendMessage")) == 1
    asyncio.run_coroutine_threadsafe(adapter.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    ws.close()


async def _built(ws: Workspace, name: str) -> Adapter:
    return build(name, ws.settings.platforms[name], ws.root / "data")
