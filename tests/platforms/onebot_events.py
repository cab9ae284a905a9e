"""OneBot v11 events shaped as the specification shows them (botuniverse/onebot-11:
event/message.md, event/notice.md, event/request.md, event/meta.md), written for
these tests."""

from __future__ import annotations

from typing import Any

SELF = 10000  # the bot's QQ number
GROUP = 123456
T0 = 1_764_000_000  # 2025-11-24T16:00:00Z


def group_message(
    message_id: int, user: int, segments: list[dict[str, Any]] | str, *, at: int = T0,
    card: str = "", nickname: str = "小明",
) -> dict[str, Any]:  # fmt: skip
    raw = segments if isinstance(segments, str) else "".join(
        s["data"].get("text", "") for s in segments
    )  # fmt: skip
    return {
        "time": at,
        "self_id": SELF,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": message_id,
        "group_id": GROUP,
        "user_id": user,
        "anonymous": None,
        "message": segments,
        "raw_message": raw,
        "font": 0,
        "sender": {
            "user_id": user, "nickname": nickname, "card": card, "sex": "unknown", "age": 0,
            "area": "", "level": "1", "role": "member", "title": "",
        },
    }  # fmt: skip


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


def at(qq: int | str) -> dict[str, Any]:
    return {"type": "at", "data": {"qq": str(qq)}}


def reply(message_id: int) -> dict[str, Any]:
    return {"type": "reply", "data": {"id": str(message_id)}}


def notice(kind: str, sub_type: str, user: int, operator: int, *, at: int = T0) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF,
        "post_type": "notice",
        "notice_type": kind,
        "sub_type": sub_type,
        "group_id": GROUP,
        "operator_id": operator,
        "user_id": user,
    }


def group_request(user: int, comment: str, flag: str, *, at: int = T0) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF,
        "post_type": "request",
        "request_type": "group",
        "sub_type": "add",
        "group_id": GROUP,
        "user_id": user,
        "comment": comment,
        "flag": flag,
    }


def heartbeat(at: int = T0) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
        "status": {"online": True, "good": True},
        "interval": 5000,
    }
