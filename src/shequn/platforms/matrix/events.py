"""Matrix client-server events (as /sync returns them) -> canonical shequn events.

One function per Matrix event type in `_READERS`; each returns an `Event` or None for
an event that is no membership change, message, reaction, edit or deletion (a profile
change, a rejected invite, a state event we do not track). `source_id` is always the
Matrix event id, so a replayed sync adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from shequn.domain.events import Event, EventType
from shequn.platforms.base import MESSAGE_DELETE, MESSAGE_EDIT, member_key

log = logging.getLogger("shequn.matrix")
PLATFORM = "matrix"
Native = Mapping[str, Any]


class Malformed(ValueError):
    """A Matrix event missing a field its type requires."""


def _key(user_id: str) -> str:
    return member_key(PLATFORM, user_id)


def _ts(event: Native) -> datetime:
    return datetime.fromtimestamp(int(event["origin_server_ts"]) / 1000, UTC)


def _base(room: str, event: Native, kind: str, user: str, **fields: Any) -> Event:
    return Event(
        ts=_ts(event),
        community=room,
        type=kind,
        member=_key(user),
        source_id=str(event["event_id"]),
        **fields,
    )


def _membership(room: str, event: Native) -> Event | None:
    """join (with inviter), leave (left, kicked, banned); None for anything else."""
    user, sender = event.get("state_key"), event["sender"]
    if not isinstance(user, str) or not user:
        raise Malformed("m.room.member without a state_key")
    unsigned = event.get("unsigned") or {}
    before = (unsigned.get("prev_content") or {}).get("membership", "leave")
    now = (event.get("content") or {}).get("membership")
    name = (event.get("content") or {}).get("displayname") or ""
    if now == "join" and before != "join":
        inviter = ""
        if before == "invite":  # Synapse: the invite's sender is unsigned.prev_sender
            inviter = unsigned.get("prev_sender") or ""
        elif sender != user:  # joined on the user's behalf (an appservice)
            inviter = sender
        return _base(
            room,
            event,
            EventType.JOIN,
            user,
            inviter=_key(inviter) if inviter else "",
            meta={"name": name} if name else None,
        )
    if now in ("leave", "ban") and before == "join":
        how = "left" if sender == user else ("banned" if now == "ban" else "kicked")
        meta: dict[str, Any] = {"how": how}
        if sender != user:
            meta["by"] = _key(sender)
            if reason := (event.get("content") or {}).get("reason"):
                meta["reason"] = reason
        return _base(room, event, EventType.LEAVE, user, meta=meta)
    return None


def _relation(content: Native) -> Native:
    relation = content.get("m.relates_to")
    return relation if isinstance(relation, Mapping) else {}


def _message(room: str, event: Native) -> Event | None:
    """A message (reply-to, mentions) or an edit (`m.replace`)."""
    content = event.get("content") or {}
    if not content:  # redacted: its deletion is its own event
        return None
    relation = _relation(content)
    if relation.get("rel_type") == "m.replace":
        new = content.get("m.new_content") or {}
        return _base(
            room,
            event,
            MESSAGE_EDIT,
            event["sender"],
            message_id=str(relation.get("event_id") or ""),
            text=str(new.get("body") or content.get("body") or ""),
        )
    reply = relation.get("m.in_reply_to") or {}
    mentioned = (content.get("m.mentions") or {}).get("user_ids") or []
    meta: dict[str, Any] = {}
    if mentioned:
        meta["mentions"] = [_key(u) for u in mentioned]
    if content.get("msgtype") not in (None, "m.text"):
        meta["msgtype"] = content.get("msgtype")
    return _base(
        room,
        event,
        EventType.MESSAGE,
        event["sender"],
        message_id=str(event["event_id"]),
        reply_to=str(reply.get("event_id") or ""),
        text=str(content.get("body") or ""),
        meta=meta or None,
    )


def _reaction(room: str, event: Native) -> Event | None:
    relation = _relation(event.get("content") or {})
    if relation.get("rel_type") != "m.annotation":
        return None
    return _base(
        room,
        event,
        EventType.REACTION,
        event["sender"],
        reply_to=str(relation.get("event_id") or ""),
        meta={"emoji": str(relation.get("key") or "")},
    )


def _redaction(room: str, event: Native) -> Event | None:
    # Room version 11+ carries `redacts` in the content; older ones at the top level.
    target = (event.get("content") or {}).get("redacts") or event.get("redacts")
    if not target:
        raise Malformed("m.room.redaction without redacts")
    return _base(room, event, MESSAGE_DELETE, event["sender"], message_id=str(target))


_READERS: dict[str, Callable[[str, Native], Event | None]] = {
    "m.room.member": _membership,
    "m.room.message": _message,
    "m.reaction": _reaction,
    "m.room.redaction": _redaction,
}


def to_event(room: str, event: Native, own_user: str = "") -> Event | None:
    """The canonical event for one Matrix event of `room`, or None to skip it.

    The bot's own messages and membership are skipped: what shequn sends is recorded
    by the dispatcher (`message_sent`); the bot is no member of its communities.

    Raises:
        Malformed: a field the event's type requires is missing or of the wrong type.
    """
    reader = _READERS.get(str(event.get("type")))
    if reader is None:
        return None
    try:
        about = event.get("state_key") if event.get("type") == "m.room.member" else event["sender"]
        if own_user and about == own_user:
            return None
        return reader(room, event)
    except (KeyError, TypeError, AttributeError) as exc:
        raise Malformed(f"{event.get('type')} event without a valid {exc}") from None


def room_events(rooms: Mapping[str, Any]) -> Iterator[tuple[str, Native]]:
    """(room id, event) for every state and timeline event of the joined and left
    rooms of a /sync response's `rooms`, in the order the server sent them."""
    for section in ("join", "leave"):
        for room, data in (rooms.get(section) or {}).items():
            for part in ("state", "timeline"):
                for event in (data.get(part) or {}).get("events") or []:
                    yield room, event


def _remember_invite(room: str, event: Native, invites: dict[tuple[str, str], str]) -> None:
    """Note who invited whom, for homeservers that do not send `prev_sender`."""
    content = event.get("content") or {}
    if event.get("type") == "m.room.member" and content.get("membership") == "invite":
        invites[(room, str(event.get("state_key")))] = str(event.get("sender"))


def sync_events(
    rooms: Mapping[str, Any],
    own_user: str,
    invites: dict[tuple[str, str], str] | None = None,
) -> tuple[list[Event], int]:
    """The canonical events of a /sync response's `rooms`, and how many were skipped
    as malformed (each logged with its type and id).

    `invites` (kept by the caller across syncs) remembers the invites seen, so a join
    whose event does not name its inviter gets it from the invite.
    """
    invites = {} if invites is None else invites
    found: list[Event] = []
    seen: set[str] = set()
    bad = 0
    for room, event in room_events(rooms):
        _remember_invite(room, event, invites)
        try:
            result = to_event(room, event, own_user)
        except Malformed as exc:
            bad += 1
            log.warning("matrix: skipped %s in %s: %s", event.get("event_id"), room, exc)
            continue
        if result is None or result.source_id in seen:
            continue
        if result.type == EventType.JOIN and not result.inviter:
            inviter = invites.pop((room, str(event.get("state_key"))), "")
            if inviter and inviter != event.get("state_key"):
                result = replace(result, inviter=_key(inviter))
        seen.add(result.source_id)
        found.append(result)
    return found, bad
