"""A local HTTP server speaking the Telegram Bot API's JSON, as documented.

core.telegram.org/bots/api: requests are ``POST /bot<token>/<method>`` with JSON or
form parameters (objects JSON-serialized); method names are case-insensitive; every
answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": ..., "parameters": {"retry_after": S}}`` (ResponseParameters). A wrong
token gets 401 Unauthorized. The objects answered (User, Chat, Message,
ChatInviteLink, ChatMemberAdministrator) are shaped as the docs show.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token"
BOT = {"id": 777, "is_bot": True, "first_name": "shequn", "username": "shequn_bot"}
GROUP = -1001234567890
_JSON_PARAMS = frozenset({"allowed_updates", "reply_parameters", "permissions"})


def group_chat(chat_id: int = GROUP, title: str = "Readers") -> dict[str, Any]:
    return {"id": chat_id, "title": title, "type": "supergroup"}


def user(uid: int, first: str = "Alice", last: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"id": uid, "is_bot": False, "first_name": first}
    if last:
        out["last_name"] = last
    return out


def admin(
    who: dict[str, Any], *, delete: bool = True, restrict: bool = True, invite: bool = True
) -> dict[str, Any]:
    """A ChatMemberAdministrator."""
    return {
        "status": "administrator",
        "user": who,
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": delete,
        "can_manage_video_chats": False,
        "can_restrict_members": restrict,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": invite,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }


@dataclass
class BotApiState:
    """What the server holds and what it was asked."""

    token: str = TOKEN
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    admins: list[dict[str, Any]] = field(default_factory=lambda: [admin(BOT)])
    message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1001))
    cond: threading.Condition = field(default_factory=threading.Condition)

    def push(self, *updates: dict[str, Any]) -> None:
        with self.cond:
            self.updates.extend(updates)
            self.cond.notify_all()

    def fail_next(self, method: str, status: int, **extra: Any) -> None:
        """The next call of `method` is answered with this error."""
        body = {"ok": False, "error_code": status, **extra}
        self.failures.setdefault(method.lower(), []).append((status, body))

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method.lower()]


def _answer(state: BotApiState, method: str, params: dict[str, Any]) -> Any:
    if method == "getupdates":
        return _get_updates(state, params)
    if method == "getme":
        return BOT
    if method == "sendmessage":
        chat_id = int(params["chat_id"])
        chat = group_chat(chat_id) if chat_id < 0 else {"id": chat_id, "type": "private"}
        return {
            "message_id": next(state.message_ids),
            "from": BOT,
            "chat": chat,
            "date": int(time.time()),
            "text": params["text"],
        }
    if method == "getchat":
        return group_chat(int(params["chat_id"]))
    if method == "getchatadministrators":
        return [
            {"status": "creator", "user": user(1, "Owner"), "is_anonymous": False},
            *state.admins,
        ]
    if method == "getchatmembercount":
        return 42
    if method == "createchatinvitelink":
        return {
            "invite_link": f"https://t.me/+link{len(state.called('createchatinvitelink'))}",
            "creator": BOT,
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
            "name": params.get("name"),
        }
    return True  # deleteMessage, restrictChatMember, banChatMember, ...: True on success


def _get_updates(state: BotApiState, params: dict[str, Any]) -> list[dict[str, Any]]:
    offset = int(params.get("offset") or 0)
    deadline = time.monotonic() + float(params.get("timeout") or 0)
    with state.cond:
        # Asking for an offset confirms (forgets) every update before it.
        state.updates = [u for u in state.updates if u.get("update_id", offset) >= offset]
        while not state.updates and time.monotonic() < deadline:
            state.cond.wait(deadline - time.monotonic())
        return state.updates[: int(params.get("limit") or 100)]


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    params: dict[str, Any] = dict(parse_qsl(body.decode()))
    for name in _JSON_PARAMS & params.keys():
        params[name] = json.loads(params[name])
    return params


class _Handler(BaseHTTPRequestHandler):
    state: BotApiState

    def do_POST(self) -> None:
        token, _, method = self.path.removeprefix("/bot").partition("/")
        method = method.lower()
        length = int(self.headers.get("Content-Length") or 0)
        params = _params(self.rfile.read(length), self.headers.get("Content-Type", ""))
        if token != self.state.token:
            self._send(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        self.state.calls.append((method, params))
        time.sleep(self.state.delays.get(method, 0))
        queued = self.state.failures.get(method)
        if queued:
            self._send(*queued.pop(0))
            return
        self._send(200, {"ok": True, "result": _answer(self.state, method, params)})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def bot_api_server() -> Iterator[tuple[str, BotApiState]]:
    """Serve on 127.0.0.1; yields (base_url up to /bot, state)."""
    state = BotApiState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot", state
    finally:
        with state.cond:
            state.cond.notify_all()
        server.shutdown()
        server.server_close()
