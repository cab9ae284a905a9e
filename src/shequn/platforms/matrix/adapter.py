"""The Matrix adapter: listen through /sync, act through the client-server API.

Listening: the position is /sync's `next_batch`; the first sync (no position) brings
the rooms' current members (their real join events) and recent timeline. Delivering:
`send` puts the message with a transaction id derived from the outbox key, so a send
repeated after a crash returns the first event instead of posting twice (Synapse keeps
transaction ids per device for about a day; the device id is kept across restarts).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from shequn.config import PlatformConfig
from shequn.platforms.base import (
    Batch,
    Capability,
    GroupInfo,
    Identity,
    PermanentError,
)
from shequn.platforms.matrix import client as mx
from shequn.platforms.matrix.events import PLATFORM, sync_events
from shequn.platforms.matrix.power import permissions

log = logging.getLogger("shequn.matrix")

# Only what becomes events: no presence, no account data, no typing or receipts.
SYNC_FILTER = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {
        "timeline": {"limit": 500},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
}
DIRECT_FILE = "matrix-direct.json"


def transaction_id(key: str) -> str:
    """The Matrix transaction id of an outbox key: stable, URL-safe, never shared by
    two keys."""
    return "shequn-" + hashlib.sha256(key.encode()).hexdigest()[:40]


class MatrixAdapter:
    """The `Adapter` for Matrix (shequn.platforms.base).

    Args:
        config: the `[platforms.matrix]` settings (homeserver URL, bot user, secret's
            variable names).
        data: the workspace's data folder: the session (token, device id) lives there.
        environ: where the secret's variable is read (default: os.environ).
        poll_seconds: how long one /sync waits for news.
    """

    platform = PLATFORM
    capabilities = frozenset(
        {
            Capability.SEND_GROUP,
            Capability.SEND_PRIVATE,
            Capability.REPLY,
            Capability.DELETE,
            Capability.MUTE,
            Capability.REMOVE,
            Capability.BAN,
            Capability.REACTIONS,
            Capability.EDITS,
            Capability.MEMBER_LIST,
        }
    )

    def __init__(
        self,
        config: PlatformConfig,
        data: Path,
        environ: Mapping[str, str] | None = None,
        poll_seconds: float = 30.0,
    ) -> None:
        self.config, self.data, self.environ = config, data, environ
        self.poll_seconds = poll_seconds
        self._client: Any = None
        self._invites: dict[tuple[str, str], str] = {}  # (room, user) -> inviter

    async def client(self) -> Any:
        if self._client is None:
            self._client = await mx.connect(self.config, self.data, self.environ)
        return self._client

    async def _request(
        self, method: str, where: str, body: Mapping[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        return await mx.request(await self.client(), method, where, body, **kw)

    @property
    def user_id(self) -> str:
        return self.config.user

    # -- listen ---------------------------------------------------------------

    async def listen(self, position: str | None) -> AsyncIterator[Batch]:
        """Batches from `position` on, one per /sync answer (at least every
        `poll_seconds`, empty when nothing happened)."""
        since = position
        query_filter = json.dumps(SYNC_FILTER, separators=(",", ":"))
        while True:
            timeout = int(self.poll_seconds * 1000) if since else 0
            answer = await self._request(
                "GET",
                mx.path("sync", since=since, timeout=timeout, filter=query_filter),
                timeout=self.poll_seconds + 30,
            )
            next_batch = answer.get("next_batch")
            if not isinstance(next_batch, str):
                raise PermanentError("sync answered without next_batch")
            events, _ = sync_events(answer.get("rooms") or {}, self.user_id, self._invites)
            yield Batch(tuple(events), next_batch)  # even empty: the runner's heartbeat
            since = next_batch

    # -- identity -------------------------------------------------------------

    async def identity(self) -> Identity:
        client = await self.client()
        rooms = (await self._request("GET", mx.path("joined_rooms")))["joined_rooms"]
        groups = [await self._group(room) for room in rooms]
        profile = await self._request("GET", mx.path("profile", client.user_id))
        return Identity(
            PLATFORM, client.user_id, profile.get("displayname") or client.user_id, tuple(groups)
        )

    async def _state(self, room: str, kind: str) -> dict[str, Any]:
        try:
            return await self._request("GET", mx.path("rooms", room, "state", kind, ""))
        except PermanentError:
            return {}

    async def _group(self, room: str) -> GroupInfo:
        name = (await self._state(room, "m.room.name")).get("name") or room
        levels = await self._state(room, "m.room.power_levels")
        create = await self._request(
            "GET", mx.path("rooms", room, "state", "m.room.create", "", format="event")
        )
        can, missing = permissions(
            levels, create.get("content") or {}, create["sender"], self.user_id
        )
        return GroupInfo(room, name, can, missing)

    # -- deliver --------------------------------------------------------------

    async def send(
        self,
        group: str,
        text: str,
        *,
        key: str,
        private_to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        room = await self._direct_room(private_to) if private_to else group
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        where = mx.path("rooms", room, "send", "m.room.message", transaction_id(key))
        return str((await self._request("PUT", where, content))["event_id"])

    async def delete(self, group: str, message_id: str) -> None:
        txn = transaction_id(f"redact|{group}|{message_id}")
        await self._request("PUT", mx.path("rooms", group, "redact", message_id, txn), {})

    async def mute(self, group: str, user: str, seconds: int) -> None:
        """Mute: the user's power level one below what sending a message needs;
        unmute (seconds=0): their entry removed. The caller schedules the unmute."""
        where = mx.path("rooms", group, "state", "m.room.power_levels", "")
        levels = await self._request("GET", where)
        users = dict(levels.get("users") or {})
        if seconds > 0:
            needed = (levels.get("events") or {}).get(
                "m.room.message", levels.get("events_default", 0)
            )
            users[user] = int(needed) - 1
        elif users.pop(user, None) is None:
            return
        await self._request("PUT", where, {**levels, "users": users})

    async def remove(self, group: str, user: str) -> None:
        await self._request("POST", mx.path("rooms", group, "kick"), {"user_id": user})

    async def ban(self, group: str, user: str) -> None:
        await self._request("POST", mx.path("rooms", group, "ban"), {"user_id": user})

    async def decide_join(
        self, group: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        raise PermanentError("Matrix has no join requests shequn can decide (knocking is not used)")

    async def members(self, group: str) -> frozenset[str]:
        """The joined members of `group`, the bot left out."""
        joined = (await self._request("GET", mx.path("rooms", group, "joined_members")))["joined"]
        return frozenset(user for user in joined if user != self.user_id)

    async def join(self, room: str) -> str:
        """Join `room` (an id or alias the bot was invited to or may join)."""
        return str((await self._request("POST", mx.path("join", room), {}))["room_id"])

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- private rooms --------------------------------------------------------

    async def _direct_room(self, user: str) -> str:
        """The bot's private room with `user`, created (and remembered) the first time."""
        path = self.data / DIRECT_FILE
        known = json.loads(path.read_text()) if path.exists() else {}
        if user in known:
            return str(known[user])
        body = {"preset": "trusted_private_chat", "is_direct": True, "invite": [user]}
        room = str((await self._request("POST", mx.path("createRoom"), body))["room_id"])
        known[user] = room
        self.data.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1, sort_keys=True))
        return room
