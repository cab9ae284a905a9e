"""A OneBot v11 implementation for tests, speaking the protocol as specified
(botuniverse/onebot-11: communication/ws.md, communication/ws-reverse.md, api/).

It answers each action `{"action", "params", "echo"}` with `{"status", "retcode",
"data", "echo"}` (`status: failed` and a retcode for refusals) and pushes events
shaped as tests/platforms/onebot_events.py writes them. Forward mode: it is the
WebSocket server and refuses a wrong `Authorization: Bearer` with 401. Reverse
mode: it connects to shequn with `Authorization: Bearer`, `X-Self-ID` and
`X-Client-Role: Universal`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.platforms.onebot_events import GROUP, SELF

TOKEN = "onebot-secret"


@dataclass
class FakeOneBot:
    """The implementation's state: what it was asked and how it answers."""

    token: str = TOKEN
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)  # actions never answered
    role: str = "admin"
    members: list[int] = field(default_factory=lambda: [SELF, 20001, 20002, 20003])
    message_ids: Any = field(default_factory=lambda: itertools.count(5001))
    connections: list[Any] = field(default_factory=list)

    def fail_next(self, action: str, retcode: int, wording: str = "") -> None:
        answer = {"status": "failed", "retcode": retcode, "data": None, "wording": wording}
        self.failures.setdefault(action, []).append(answer)

    def called(self, action: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == action]

    async def push(self, *events: dict[str, Any] | str) -> None:
        """Send events (or raw frames) on the current connection."""
        for event in events:
            frame = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
            await self.connections[-1].send(frame)

    def _data(self, action: str, params: dict[str, Any]) -> Any:
        if action in ("send_group_msg", "send_private_msg"):
            return {"message_id": next(self.message_ids)}
        if action == "get_login_info":
            return {"user_id": SELF, "nickname": "shequn"}
        if action == "get_group_list":
            return [{"group_id": GROUP, "group_name": "读书会", "member_count": 4,
                     "max_member_count": 500}]  # fmt: skip
        if action == "get_group_member_info":
            return {"group_id": params["group_id"], "user_id": params["user_id"],
                    "nickname": "shequn", "card": "", "role": self.role}  # fmt: skip
        if action == "get_group_member_list":
            return [{"group_id": params["group_id"], "user_id": uid, "nickname": f"u{uid}",
                     "card": "", "role": "member"} for uid in self.members]  # fmt: skip
        return None  # delete_msg, set_group_ban, set_group_kick, set_group_add_request

    def answer(self, frame: str) -> str | None:
        request = json.loads(frame)
        action, params = request["action"], request.get("params") or {}
        self.calls.append((action, params))
        if action in self.silent:
            return None
        queued = self.failures.get(action)
        if queued:
            return json.dumps({**queued.pop(0), "echo": request.get("echo")})
        body = {"status": "ok", "retcode": 0, "data": self._data(action, params)}
        return json.dumps({**body, "echo": request.get("echo")}, ensure_ascii=False)

    async def converse(self, connection: Any) -> None:
        self.connections.append(connection)
        try:
            async for frame in connection:
                reply = self.answer(frame)
                if reply is not None:
                    await connection.send(reply)
        except ConnectionClosed:
            pass


@asynccontextmanager
async def forward_server(bot: FakeOneBot) -> AsyncIterator[str]:
    """The implementation as a WebSocket server (forward mode); yields its URL."""

    def check(connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {bot.token}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        return None

    async with serve(bot.converse, "127.0.0.1", 0, process_request=check) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


@asynccontextmanager
async def reverse_client(bot: FakeOneBot, url: str, token: str) -> AsyncIterator[asyncio.Task]:
    """The implementation connecting to shequn (reverse mode)."""
    headers = {"Authorization": f"Bearer {token}", "X-Self-ID": str(SELF),
               "X-Client-Role": "Universal"}  # fmt: skip
    async with connect(url, additional_headers=headers) as connection:
        task = asyncio.create_task(bot.converse(connection))
        yield task
        await connection.close()
        await task
