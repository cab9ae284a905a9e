"""The Telegram adapter: long polling (or a webhook's updates) in, Bot API calls out.

Position: the next `getUpdates` offset (the last `update_id` + 1). Telegram forgets
an update once a later offset is asked for, so the position is stored with the events
it covers and given back here on restart. Bots cannot list a group's members, so
there is no reconciliation from a member list on Telegram (docs/platforms.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from shequn.platforms.base import (
    Batch,
    Capability,
    GroupInfo,
    Identity,
    PermanentError,
    TransientError,
    Unauthorized,
)
from shequn.platforms.intents import SendJournal, send_once
from shequn.platforms.telegram.api import DEFAULT_BASE_URL, BotApi
from shequn.platforms.telegram.settings import Webhook
from shequn.platforms.telegram.translate import (
    ALLOWED_UPDATES,
    PLATFORM,
    batch_of,
    next_offset,
    numeric_id,
    user_id,
)

log = logging.getLogger(__name__)

CAPABILITIES = frozenset(
    {
        Capability.SEND_GROUP,
        Capability.SEND_PRIVATE,
        Capability.REPLY,
        Capability.DELETE,
        Capability.MUTE,
        Capability.REMOVE,
        Capability.BAN,
        Capability.JOIN_REQUESTS,
        Capability.INVITE_LINKS,
        Capability.REACTIONS,
        Capability.EDITS,
    }
)
# What each administrator right allows, and how to grant it.
_RIGHTS: tuple[tuple[str, frozenset[Capability], str], ...] = (
    ("can_delete_messages", frozenset({Capability.DELETE}), "Delete messages"),
    (
        "can_restrict_members",
        frozenset({Capability.MUTE, Capability.REMOVE, Capability.BAN}),
        "Ban users",
    ),
    (
        "can_invite_users",
        frozenset({Capability.INVITE_LINKS, Capability.JOIN_REQUESTS}),
        "Invite users via link",
    ),
)
_SENDING = frozenset({Capability.SEND_GROUP, Capability.SEND_PRIVATE, Capability.REPLY})
# Telegram treats a restriction shorter than 30 s as forever (restrictChatMember).
MIN_MUTE_SECONDS = 30
_MUTED = {
    name: False
    for name in (
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
    )
}


class TelegramAdapter:
    """Telegram groups through one bot.

    Args:
        token: the bot token.
        groups: the group ids bound to communities (bots cannot list their chats).
        journal: where sends are recorded before and after (required to send).
        base_url: the Bot API root up to ``/bot``.
        poll_timeout: seconds one `getUpdates` long poll waits.
        request_timeout: seconds any other call waits for its answer.
        webhook: receive updates on this webhook instead of polling.
    """

    platform = PLATFORM
    capabilities = CAPABILITIES

    def __init__(
        self,
        token: str,
        *,
        groups: Iterable[str] = (),
        journal: SendJournal | None = None,
        base_url: str = DEFAULT_BASE_URL,
        token_env: str = "",
        poll_timeout: int = 25,
        request_timeout: float = 20.0,
        webhook: Webhook | None = None,
    ) -> None:
        self.api = BotApi(
            token, base_url=base_url, token_env=token_env, request_timeout=request_timeout
        )
        self.groups = tuple(groups)
        self.journal = journal
        self.poll_timeout = poll_timeout
        self.webhook = webhook
        self.webhook_port: int | None = None  # the port served, once listening

    async def identity(self) -> Identity:
        me = await self.api.call("getMe")
        groups = [await self._group_info(group, me["id"]) for group in self.groups]
        return Identity(
            platform=PLATFORM,
            user_id=user_id(me["id"]),
            name=me.get("username") or me.get("first_name", ""),
            groups=tuple(groups),
        )

    async def _group_info(self, group: str, bot_id: int) -> GroupInfo:
        try:
            chat = await self.api.call("getChat", chat_id=group)
            admins = await self.api.call("getChatAdministrators", chat_id=group)
        except Unauthorized:
            raise
        except PermanentError as exc:
            why = f"the bot cannot see this group ({exc}): add the bot to it, or fix the binding"
            return GroupInfo(group_id=group, title="", can=frozenset(), missing=(why,))
        mine = next((a for a in admins if a.get("user", {}).get("id") == bot_id), None)
        can = set(_SENDING)
        missing = []
        if mine is None:
            missing.append(
                "the bot is not an administrator, so Telegram sends it no chat_member "
                "updates: make it an admin (group settings → Administrators → Add Admin)"
            )
        for right, gives, label in _RIGHTS:
            if mine is not None and (mine.get("status") == "creator" or mine.get(right)):
                can |= gives
            else:
                missing.append(f"{right}: grant the bot '{label}' in the group's admin rights")
        can.add(Capability.REACTIONS)
        can.add(Capability.EDITS)
        return GroupInfo(
            group_id=group,
            title=chat.get("title", ""),
            can=frozenset(can),
            missing=tuple(missing),
        )

    async def member_count(self, group: str) -> int:
        return int(await self.api.call("getChatMemberCount", chat_id=group))

    def listen(self, position: str | None) -> AsyncIterator[Batch]:
        """Batches from the webhook if one is set, else by long polling from `position`."""
        if self.webhook is not None:
            return self._receive(self.webhook)
        return self._poll(position)

    async def _poll(self, position: str | None) -> AsyncIterator[Batch]:
        """Long-poll `getUpdates` from `position` (None: what Telegram still holds)."""
        backoff = 1.0
        while True:
            try:
                updates = await self.api.call(
                    "getUpdates",
                    read_timeout=self.poll_timeout + 10,
                    offset=int(position) if position else None,
                    limit=100,
                    timeout=self.poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except TransientError as exc:
                wait = exc.retry_after if exc.retry_after is not None else backoff
                log.warning("telegram: getUpdates failed (%s); retrying in %g s", exc, wait)
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            new_position = next_offset(updates, position)
            if new_position != position:
                position = new_position
                yield batch_of(updates, str(position))

    async def _receive(self, webhook: Webhook) -> AsyncIterator[Batch]:
        """Serve the webhook; each batch is acknowledged when the next is asked for."""
        from shequn.platforms.telegram.webhook import serve

        async with serve(webhook) as inbox:
            self.webhook_port = inbox.port
            if webhook.public_url:
                await self.set_webhook(webhook.public_url, webhook.secret)
            while True:
                batch, stored = await inbox.queue.get()
                yield batch
                if not stored.done():
                    stored.set_result(None)

    async def send(
        self,
        group: str,
        text: str,
        *,
        key: str,
        private_to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        chat = numeric_id(private_to) if private_to else group
        reply = (
            {"message_id": int(reply_to), "allow_sending_without_reply": True} if reply_to else None
        )

        async def post() -> str:
            sent = await self.api.call(
                "sendMessage", chat_id=chat, text=text, reply_parameters=reply
            )
            return str(sent["message_id"])

        return await send_once(
            self.journal,
            key=key,
            platform=PLATFORM,
            group=f"{group} (private to {private_to})" if private_to else group,
            what=text,
            send=post,
        )

    async def delete(self, group: str, message_id: str) -> None:
        await self.api.call("deleteMessage", chat_id=group, message_id=int(message_id))

    async def mute(self, group: str, user: str, seconds: int) -> None:
        if seconds <= 0:
            permissions = {name: True for name in _MUTED}
            await self.api.call(
                "restrictChatMember",
                chat_id=group,
                user_id=numeric_id(user),
                permissions=permissions,
            )
            return
        until = int(time.time()) + max(seconds, MIN_MUTE_SECONDS)
        await self.api.call(
            "restrictChatMember",
            chat_id=group,
            user_id=numeric_id(user),
            permissions=_MUTED,
            until_date=until,
        )

    async def remove(self, group: str, user: str) -> None:
        """Ban then unban: out of the group, free to come back by a link."""
        await self.ban(group, user)
        await self.api.call(
            "unbanChatMember", chat_id=group, user_id=numeric_id(user), only_if_banned=True
        )

    async def ban(self, group: str, user: str) -> None:
        await self.api.call("banChatMember", chat_id=group, user_id=numeric_id(user))

    async def decide_join(
        self, group: str, request_id: str, approve: bool, reason: str = ""
    ) -> None:
        """Approve or decline; Telegram has no field for a reason, so it is not sent."""
        method = "approveChatJoinRequest" if approve else "declineChatJoinRequest"
        await self.api.call(method, chat_id=group, user_id=numeric_id(request_id))

    async def members(self, group: str) -> frozenset[str]:
        raise PermanentError(
            "telegram: bots cannot list a group's members (only its administrators); "
            "membership comes from chat_member updates"
        )

    async def administrators(self, group: str) -> frozenset[str]:
        admins = await self.api.call("getChatAdministrators", chat_id=group)
        return frozenset(user_id(a["user"]["id"]) for a in admins)

    async def create_invite_link(self, group: str, name: str) -> str:
        """A new invite link named `name` (the channel joins through it will carry)."""
        if not 1 <= len(name) <= 32:
            raise PermanentError(
                f"telegram: an invite link's name is 1-32 characters; {name!r} has {len(name)}"
            )
        link: Mapping[str, Any] = await self.api.call(
            "createChatInviteLink", chat_id=group, name=name
        )
        return str(link["invite_link"])

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.api.call(
            "setWebhook", url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )

    async def close(self) -> None:
        await self.api.close()
