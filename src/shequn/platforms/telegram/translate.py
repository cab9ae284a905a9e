"""Bot API updates (JSON, core.telegram.org/bots/api#update) to canonical events.

Pure functions of the documented shapes; the adapter feeds them what `getUpdates` or
the webhook delivers. Choices, documented because they shape the data:

- Member key ``telegram:user<id>`` — the same form as Telegram Desktop exports
  (`from_id` ``user123``), so a community's imported history and its live events
  name a member alike. Group ids are the Bot API chat id (``-1001234567890``).
- Only ``group`` and ``supergroup`` chats are read; private chats and channels give
  nothing. Service messages (``new_chat_members``, ``left_chat_member``, ...) give
  nothing either: ``chat_member`` updates are the record of joins and leaves.
- ``source_id``: ``<chat>:<message id>`` for a message (as the exports), edits
  ``<chat>:<message id>:e:<edit_date>``, reactions ``<chat>:<message id>:r:user<id>:<emoji>``
  (as the exports), membership ``<chat>:m:user<id>:<date>:<join|leave>``.
- A join's ``channel`` is the name of the invite link it came through (shequn names
  each link it mints after its channel); ``inviter`` is who added the member, else a
  human creator of the link. A leave made by someone else carries ``meta.kicked_by``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shequn.domain.events import Event, EventType
from shequn.platforms import native
from shequn.platforms.base import MESSAGE_EDIT, Batch, JoinRequest, member_key
from shequn.platforms.native import (
    NOTHING,
    Malformed,
    Parsed,
    integer,
    obj,
    text,
    unix_time,
)

log = logging.getLogger(__name__)

PLATFORM = "telegram"
GROUP_TYPES = frozenset({"group", "supergroup"})
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
)
_MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})


def user_id(numeric: int) -> str:
    """shequn's id of a Telegram user: ``user123`` (as Telegram Desktop exports write)."""
    return f"user{numeric}"


def numeric_id(user: str) -> int:
    """The Bot API's integer id of ``user123`` (or of a bare ``123``)."""
    digits = user.removeprefix(f"{PLATFORM}:").removeprefix("user")
    if not digits.lstrip("-").isdigit():
        raise ValueError(f"{user!r} is not a Telegram user id; write user123 or 123")
    return int(digits)


def _member(user: Mapping[str, Any]) -> str:
    return member_key(PLATFORM, user_id(integer(user, "id", "user")))


def _display_name(user: Mapping[str, Any]) -> str:
    return " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)


def _group(chat: Mapping[str, Any]) -> str | None:
    """The chat's id if it is a group or supergroup, else None."""
    if chat.get("type") not in GROUP_TYPES:
        return None
    return str(integer(chat, "id", "chat"))


def _mentions(message: Mapping[str, Any], body: str) -> list[str]:
    """Who a message mentions: member keys for text_mention, ``@name`` for mention.

    Entity offsets count UTF-16 code units (Bot API, MessageEntity).
    """
    entities = message.get("entities") or message.get("caption_entities") or []
    units = body.encode("utf-16-le")
    found: list[str] = []
    for entity in entities:
        kind = entity.get("type") if isinstance(entity, Mapping) else None
        if kind == "text_mention":
            found.append(_member(obj(entity, "user", "message.entities[]")))
        elif kind == "mention":
            start = integer(entity, "offset", "message.entities[]") * 2
            end = start + integer(entity, "length", "message.entities[]") * 2
            found.append(units[start:end].decode("utf-16-le", errors="replace"))
    return found


def _reply_to(message: Mapping[str, Any]) -> str:
    replied = message.get("reply_to_message")
    if not isinstance(replied, Mapping):
        return ""
    target = integer(replied, "message_id", "message.reply_to_message")
    # In a forum topic every message "replies" to the topic's first message.
    if message.get("is_topic_message") and target == message.get("message_thread_id"):
        return ""
    return str(target)


def message_events(message: Mapping[str, Any], *, edited: bool = False) -> Parsed:
    """A group message (or its edit) as one event; service messages give nothing."""
    group = _group(obj(message, "chat", "message"))
    sender = message.get("from")
    if group is None or not isinstance(sender, Mapping):
        return NOTHING  # a private chat, or a message sent on behalf of a chat
    if "text" not in message and any(k in message for k in _SERVICE_KEYS):
        return NOTHING
    mid = integer(message, "message_id", "message")
    body = text(message, "text", "message") or text(message, "caption", "message")
    meta: dict[str, Any] = {"name": _display_name(sender)}
    if mentions := _mentions(message, body):
        meta["mentions"] = mentions
    if edited:
        edit_date = integer(message, "edit_date", "edited_message")
        meta["edit_date"] = edit_date
        source_id = f"{group}:{mid}:e:{edit_date}"
    else:
        source_id = f"{group}:{mid}"
    event = Event(
        ts=unix_time(message, "edit_date" if edited else "date", "message"),
        community=group,
        type=MESSAGE_EDIT if edited else EventType.MESSAGE.value,
        member=_member(sender),
        message_id=str(mid),
        reply_to=_reply_to(message),
        text=body,
        source_id=source_id,
        meta=meta,
    )
    return Parsed(events=(event,))


_SERVICE_KEYS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
    }
)


def _is_member(member: Mapping[str, Any]) -> bool:
    status = member.get("status")
    return status in _MEMBER_STATUSES or (status == "restricted" and bool(member.get("is_member")))


def chat_member_events(update: Mapping[str, Any]) -> Parsed:
    """A ``chat_member`` update (ChatMemberUpdated) as a join or a leave, if it is one."""
    where = "chat_member"
    group = _group(obj(update, "chat", where))
    if group is None:
        return NOTHING
    old, new = obj(update, "old_chat_member", where), obj(update, "new_chat_member", where)
    was, now = _is_member(old), _is_member(new)
    if was == now:
        return NOTHING  # a promotion, a restriction, ...: not a membership change
    user = obj(new, "user", f"{where}.new_chat_member")
    who = _member(user)
    actor = _member(obj(update, "from", where))
    date = integer(update, "date", where)
    kind = EventType.JOIN if now else EventType.LEAVE
    meta: dict[str, Any] = {"name": _display_name(user)}
    channel = inviter = ""
    if now:
        link = update.get("invite_link")
        if isinstance(link, Mapping):
            channel = text(link, "name", f"{where}.invite_link")
            creator = link.get("creator")
            if isinstance(creator, Mapping) and not creator.get("is_bot"):
                inviter = _member(creator)
        if actor != who:
            inviter = actor
        if update.get("via_join_request"):
            meta["via_join_request"] = True
    elif actor != who:
        meta["kicked_by"] = actor
        meta["banned"] = new.get("status") == "kicked"
    event = Event(
        ts=unix_time(update, "date", where),
        community=group,
        type=kind.value,
        member=who,
        channel=channel,
        inviter=inviter,
        source_id=f"{group}:m:{user_id(integer(user, 'id', 'user'))}:{date}:{kind.value}",
        meta=meta,
    )
    return Parsed(events=(event,))


def _emoji(reaction: Mapping[str, Any]) -> str:
    kind = reaction.get("type")
    if kind == "emoji":
        return text(reaction, "emoji", "reaction")
    if kind == "custom_emoji":
        return f"custom:{text(reaction, 'custom_emoji_id', 'reaction')}"
    return str(kind or "")


def reaction_events(update: Mapping[str, Any]) -> Parsed:
    """A ``message_reaction`` update: one reaction event per newly added emoji."""
    where = "message_reaction"
    group = _group(obj(update, "chat", where))
    user = update.get("user")
    if group is None or not isinstance(user, Mapping):
        return NOTHING  # anonymous reactions (actor_chat) have no member
    who = _member(user)
    mid = integer(update, "message_id", where)
    old = {_emoji(r) for r in update.get("old_reaction") or []}
    added = [e for e in dict.fromkeys(_emoji(r) for r in update.get("new_reaction") or []) if e]
    events = tuple(
        Event(
            ts=unix_time(update, "date", where),
            community=group,
            type=EventType.REACTION.value,
            member=who,
            reply_to=str(mid),
            source_id=f"{group}:{mid}:r:{who.removeprefix(PLATFORM + ':')}:{emoji}",
            meta={"emoji": emoji, "name": _display_name(user)},
        )
        for emoji in added
        if emoji not in old
    )
    return Parsed(events=events)


def join_request(update: Mapping[str, Any]) -> Parsed:
    """A ``chat_join_request`` (ChatJoinRequest) as a pending request."""
    where = "chat_join_request"
    group = _group(obj(update, "chat", where))
    if group is None:
        return NOTHING
    asker = integer(obj(update, "from", where), "id", f"{where}.from")
    link = update.get("invite_link")
    request = JoinRequest(
        group_id=group,
        request_id=str(asker),  # approveChatJoinRequest takes the user's id
        user_id=user_id(asker),
        ts=unix_time(update, "date", where),
        comment=text(update, "bio", where),
        channel=text(link, "name", f"{where}.invite_link") if isinstance(link, Mapping) else "",
    )
    return Parsed(requests=(request,))


def _bot_status(update: Mapping[str, Any]) -> Parsed:
    chat = obj(update, "chat", "my_chat_member")
    status = obj(update, "new_chat_member", "my_chat_member").get("status")
    log.info("telegram: the bot is now %s in chat %s", status, chat.get("id"))
    return NOTHING


_HANDLERS: dict[str, Callable[[Mapping[str, Any]], Parsed]] = {
    "message": message_events,
    "edited_message": lambda m: message_events(m, edited=True),
    "chat_member": chat_member_events,
    "message_reaction": reaction_events,
    "chat_join_request": join_request,
    "my_chat_member": _bot_status,
}


def translate(update: Mapping[str, Any]) -> Parsed:
    """One Update as canonical events and join requests.

    Raises:
        Malformed: the update lacks a documented field or has one of the wrong type.
    """
    if not isinstance(update, Mapping):
        raise Malformed("an update is not a JSON object")
    integer(update, "update_id", "update")
    for kind, handler in _HANDLERS.items():
        if kind in update:
            return handler(obj(update, kind, "update"))
    log.debug("telegram: update %s of a kind shequn does not read", update["update_id"])
    return NOTHING


def _kind(update: Any) -> str:
    kinds = [k for k in update if k != "update_id"] if isinstance(update, Mapping) else []
    return f"{'/'.join(kinds) or 'empty'} update"


def batch_of(updates: Iterable[Any], position: str) -> Batch:
    """Translate updates (raw JSON); malformed ones are logged with their type, skipped."""
    return native.batch_of(updates, translate, platform=PLATFORM, kind=_kind, position=position)


def next_offset(updates: Iterable[Any], position: str | None) -> str | None:
    """The offset after these updates (the largest well-formed update_id + 1)."""
    ids = [u["update_id"] for u in updates if isinstance(u, dict)]
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return str(max(ids) + 1) if ids else position
