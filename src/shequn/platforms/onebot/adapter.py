"""The QQ adapter, through a OneBot v11 implementation (NapCat, LLOneBot, Lagrange).

Listening: events arrive over the link as they happen; whatever has arrived when the
consumer asks is one batch (up to `BATCH_MAX`), so a burst is stored in a few
transactions instead of one per message. OneBot keeps nothing for a reconnecting
client: there is no position to resume from (docs/platforms.md), so membership is
made good by reconciliation (`members`) and every event has an idempotent id.
Delivering: actions with an `echo`; sends go through the send journal (OneBot
cannot de-duplicate) as a segment array, so member text is never read as CQ code.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from shequn.platforms import native
from shequn.platforms.base import (
    Batch,
    Capability,
    GroupInfo,
    Identity,
    TransientError,
)
from shequn.platforms.intents import SendJournal, send_once
from shequn.platforms.onebot.link import CLOSED, Link
from shequn.platforms.onebot.translate import PLATFORM, translate

log = logging.getLogger(__name__)

BATCH_MAX = 2000
_MEMBER_CAN = frozenset(
    {Capability.SEND_GROUP, Capability.SEND_PRIVATE, Capability.REPLY, Capability.MEMBER_LIST}
)
_ADMIN_CAN = frozenset(
    {
        Capability.DELETE,
        Capability.MUTE,
        Capability.REMOVE,
        Capability.BAN,
        Capability.JOIN_REQUESTS,
    }
)
CAPABILITIES = _MEMBER_CAN | _ADMIN_CAN
_MAKE_ADMIN = (
    "the bot's QQ account is not an admin of this group: the owner sets it as admin "
    "(群设置 → 群管理 → 设置管理员) to delete, mute, remove, ban and answer join requests"
)


def _user(user: str) -> int:
    digits = user.removeprefix(f"{PLATFORM}:")
    if not digits.isdigit():
        raise ValueError(f"{user!r} is not a QQ number")
    return int(digits)


def _kind(raw: Any) -> str:
    return f"{raw.get('post_type') if isinstance(raw, dict) else type(raw).__name__} event"


def batch_of(raw_events: list[Any]) -> Batch:
    """Translate raw events; malformed ones are logged with their type and skipped.
    The position is the time of the last event (OneBot replays nothing)."""
    times = [r.get("time") for r in raw_events if isinstance(r, dict) and r.get("time")]
    position = str(times[-1]) if times else ""
    return native.batch_of(raw_events, translate, platform=PLATFORM, kind=_kind, position=position)


class OneBotAdapter:
    """QQ groups through one OneBot v11 connection.

    Args:
        link: the WebSocket link (forward or reverse).
        journal: where sends are recorded before and after (required to send).
    """

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(self, link: Link, *, journal: SendJournal | None = None) -> None:
        self.link = link
        self.journal = journal

    async def identity(self) -> Identity:
        me = await self.link.call("get_login_info")
        groups = await self.link.call("get_group_list")
        infos = [await self._group_info(g, me["user_id"]) for g in groups]
        return Identity(
            platform=PLATFORM, user_id=str(me["user_id"]), name=me.get("nickname", ""),
            groups=tuple(infos),
        )  # fmt: skip

    async def _group_info(self, group: dict[str, Any], self_id: int) -> GroupInfo:
        mine = await self.link.call(
            "get_group_member_info", group_id=group["group_id"], user_id=self_id, no_cache=True
        )
        admin = mine.get("role") in ("owner", "admin")
        return GroupInfo(
            group_id=str(group["group_id"]),
            title=group.get("group_name", ""),
            can=_MEMBER_CAN | _ADMIN_CAN if admin else _MEMBER_CAN,
            missing=() if admin else (_MAKE_ADMIN,),
        )

    async def listen(self, position: str | None) -> AsyncIterator[Batch]:
        """Events from now on (OneBot replays nothing; `position` is not used)."""
        await self.link.open()
        while True:
            raw = [await self.link.events.get()]
            while len(raw) < BATCH_MAX and not self.link.events.empty():
                raw.append(self.link.events.get_nowait())
            closed = any(r is CLOSED for r in raw)
            batch = batch_of([r for r in raw if r is not CLOSED])
            if batch.events or batch.requests:
                yield batch
            if closed:
                raise TransientError("qq: the OneBot connection closed")

    async def send(
        self,
        group: str,
        text: str,
        *,
        key: str,
        private_to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        message = [{"type": "text", "data": {"text": text}}]
        if reply_to:
            message.insert(0, {"type": "reply", "data": {"id": reply_to}})

        async def post() -> str:
            if private_to:
                # group_id lets implementations open a temporary session from the group.
                sent = await self.link.call(
                    "send_private_msg", user_id=_user(private_to), group_id=int(group),
                    message=message,
                )  # fmt: skip
            else:
                sent = await self.link.call("send_group_msg", group_id=int(group), message=message)
            return str(sent["message_id"])

        target = f"{group} (private to {private_to})" if private_to else group
        return await send_once(
            self.journal, key=key, platform=PLATFORM, group=target, what=text, send=post
        )

    async def delete(self, group: str, message_id: str) -> None:
        await self.link.call("delete_msg", message_id=int(message_id))

    async def mute(self, group: str, user: str, seconds: int) -> None:
        await self.link.call(
            "set_group_ban", group_id=int(group), user_id=_user(user), duration=max(seconds, 0)
        )

    async def remove(self, group: str, user: str) -> None:
        await self.link.call(
            "set_group_kick", group_id=int(group), user_id=_user(user), reject_add_request=False
        )

    async def ban(self, group: str, user: str) -> None:
        """Kick and refuse their future requests to join."""
        await self.link.call(
            "set_group_kick", group_id=int(group), user_id=_user(user), reject_add_request=True
        )

    async def decide_join(
        self, group: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        await self.link.call(
            "set_group_add_request", flag=request_id, sub_type="add", approve=approve,
            reason=reason,
        )  # fmt: skip

    async def members(self, group: str) -> frozenset[str]:
        listed = await self.link.call("get_group_member_list", group_id=int(group))
        return frozenset(str(m["user_id"]) for m in listed)

    async def close(self) -> None:
        await self.link.close()
