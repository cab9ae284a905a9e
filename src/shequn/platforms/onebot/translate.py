"""OneBot v11 events (github.com/botuniverse/onebot-11, event/) to canonical events.

Pure functions of the documented shapes; the adapter feeds them what the OneBot
implementation (NapCat, LLOneBot, Lagrange) pushes over the WebSocket. Choices:

- Member key ``qq:<QQ number>`` (as the QQ chat-record importer); group ids are the
  QQ group numbers.
- Only group messages and group notices are read; private messages, friend notices
  and meta events (heartbeat, lifecycle) give nothing.
- A message's ``message`` is an array of segments (``text``, ``at``, ``reply``,
  ``face``, ``image`` ...) or, when the implementation is set to the string format,
  a CQ-coded string; both are read. The text keeps ``text`` segments and writes an
  ``at`` as ``@<QQ>``; mentions go to ``meta.mentions``, the replied-to message id
  to ``reply_to``.
- ``source_id``: messages ``<group>:<message_id>:<time>`` (some implementations
  reuse short message ids, the time tells them apart); notices have no id, so one
  is made from what they say: ``<group>:<notice>:<user>:<time>``. A replayed event
  is stored once either way.
- OneBot has no replayable position: the position is the time of the last event,
  kept for the health line only. Lost events are made up by reconciliation
  (``get_group_member_list``) for joins and leaves; lost messages stay lost.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shequn.domain.events import Event, EventType
from shequn.platforms.base import MESSAGE_DELETE, JoinRequest, member_key
from shequn.platforms.native import NOTHING, Malformed, Parsed, integer, text, unix_time

log = logging.getLogger(__name__)

PLATFORM = "qq"
_CQ_CODE = re.compile(r"\[CQ:([a-z_]+)((?:,[^,\]]+=[^,\]]*)*)\]")


def _unescape(value: str) -> str:
    """CQ-code escaping: &amp; &#91; &#93; &#44;."""
    return html.unescape(value)


def segments_of(message: Any) -> list[dict[str, Any]]:
    """A message as segments, from the array format or a CQ-coded string."""
    if isinstance(message, list):
        return [s for s in message if isinstance(s, dict)]
    if not isinstance(message, str):
        raise Malformed("message.message is neither an array of segments nor a string")
    found: list[dict[str, Any]] = []
    cursor = 0
    for code in _CQ_CODE.finditer(message):
        if code.start() > cursor:
            found.append(
                {"type": "text", "data": {"text": _unescape(message[cursor : code.start()])}}
            )
        pairs = (p.partition("=") for p in code.group(2).split(",")[1:])
        found.append({"type": code.group(1), "data": {k: _unescape(v) for k, _, v in pairs}})
        cursor = code.end()
    if cursor < len(message):
        found.append({"type": "text", "data": {"text": _unescape(message[cursor:])}})
    return found


def _read_segments(segments: Sequence[Mapping[str, Any]]) -> tuple[str, list[str], str]:
    """(text, mentions, replied-to message id) of a message's segments."""
    parts: list[str] = []
    mentions: list[str] = []
    reply_to = ""
    for segment in segments:
        data = segment.get("data") or {}
        kind = segment.get("type")
        if kind == "text":
            parts.append(str(data.get("text", "")))
        elif kind == "at":
            qq = str(data.get("qq", ""))
            parts.append(f"@{qq}")
            mentions.append("all" if qq == "all" else member_key(PLATFORM, qq))
        elif kind == "reply":
            reply_to = str(data.get("id", ""))
    return "".join(parts), mentions, reply_to


def _group(event: Mapping[str, Any], where: str) -> str:
    return str(integer(event, "group_id", where))


def _user(event: Mapping[str, Any], key: str, where: str) -> str:
    return member_key(PLATFORM, str(integer(event, key, where)))


def message_events(event: Mapping[str, Any]) -> Parsed:
    """A group message (``message_type: group``) as one event."""
    if event.get("message_type") != "group":
        return NOTHING
    where = "message"
    group = _group(event, where)
    mid = integer(event, "message_id", where)
    body, mentions, reply_to = _read_segments(segments_of(event.get("message")))
    sender = event.get("sender")
    sender = sender if isinstance(sender, Mapping) else {}
    meta: dict[str, Any] = {"name": sender.get("card") or sender.get("nickname") or ""}
    if mentions:
        meta["mentions"] = mentions
    if event.get("sub_type") == "anonymous":
        meta["anonymous"] = True
    message = Event(
        ts=unix_time(event, "time", where),
        community=group,
        type=EventType.MESSAGE.value,
        member=_user(event, "user_id", where),
        message_id=str(mid),
        reply_to=reply_to,
        text=body,
        source_id=f"{group}:{mid}:{integer(event, 'time', where)}",
        meta=meta,
    )
    return Parsed(events=(message,))


def _membership(event: Mapping[str, Any], kind: EventType) -> Event:
    where = f"notice.{event.get('notice_type')}"
    group = _group(event, where)
    who = _user(event, "user_id", where)
    operator = event.get("operator_id")
    by = member_key(PLATFORM, str(operator)) if operator not in (None, 0, "0") else ""
    sub_type = text(event, "sub_type", where)
    meta: dict[str, Any] = {"sub_type": sub_type}
    inviter = ""
    if kind is EventType.JOIN and sub_type == "invite" and by != who:
        inviter = by
    elif kind is EventType.JOIN and by:
        meta["approved_by"] = by
    elif kind is EventType.LEAVE and sub_type == "kick":
        meta["kicked_by"] = by
    time = integer(event, "time", where)
    return Event(
        ts=unix_time(event, "time", where),
        community=group,
        type=kind.value,
        member=who,
        inviter=inviter,
        source_id=f"{group}:{event.get('notice_type')}:{who.removeprefix('qq:')}:{time}",
        meta=meta,
    )


def notice_events(event: Mapping[str, Any]) -> Parsed:
    """Group joins, leaves and recalls; other notices give nothing."""
    kind = event.get("notice_type")
    if kind == "group_increase":
        return Parsed(events=(_membership(event, EventType.JOIN),))
    if kind == "group_decrease":
        if event.get("sub_type") == "kick_me":
            log.warning("qq: the bot was removed from group %s", event.get("group_id"))
            return NOTHING
        return Parsed(events=(_membership(event, EventType.LEAVE),))
    if kind == "group_recall":
        where = "notice.group_recall"
        group, mid = _group(event, where), integer(event, "message_id", where)
        recall = Event(
            ts=unix_time(event, "time", where),
            community=group,
            type=MESSAGE_DELETE,
            member=_user(event, "user_id", where),
            message_id=str(mid),
            source_id=f"{group}:group_recall:{mid}",
            meta={"by": _user(event, "operator_id", where)},
        )
        return Parsed(events=(recall,))
    return NOTHING


def request_events(event: Mapping[str, Any]) -> Parsed:
    """A request to join a group (``request_type: group``, ``sub_type: add``)."""
    if event.get("request_type") != "group":
        return NOTHING
    where = "request.group"
    if event.get("sub_type") != "add":
        log.info("qq: the bot was invited to group %s (answer it in QQ)", event.get("group_id"))
        return NOTHING
    flag = text(event, "flag", where)
    if not flag:
        raise Malformed(f"{where}.flag is missing")
    request = JoinRequest(
        group_id=_group(event, where),
        request_id=flag,
        user_id=str(integer(event, "user_id", where)),
        ts=unix_time(event, "time", where),
        comment=text(event, "comment", where),
    )
    return Parsed(requests=(request,))


_HANDLERS: dict[str, Callable[[Mapping[str, Any]], Parsed]] = {
    "message": message_events,
    "notice": notice_events,
    "request": request_events,
    "meta_event": lambda _event: NOTHING,
}


def translate(event: Any) -> Parsed:
    """One OneBot event as canonical events and join requests.

    Raises:
        Malformed: not an event of the documented shape.
    """
    if not isinstance(event, Mapping):
        raise Malformed("an event is not a JSON object")
    handler = _HANDLERS.get(event.get("post_type"))  # type: ignore[arg-type]
    if handler is None:
        raise Malformed(f"post_type {event.get('post_type')!r} is not a OneBot v11 event")
    return handler(event)
