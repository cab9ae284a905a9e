"""Bot API updates shaped as core.telegram.org/bots/api documents them (Update,
Message, MessageEntity, ChatMemberUpdated, ChatInviteLink, ChatJoinRequest,
MessageReactionUpdated), written for these tests."""

from __future__ import annotations

from typing import Any

from tests.platforms.botapi import BOT, group_chat, user

T0 = 1_764_000_000  # 2025-11-24T16:00:00Z
ALICE, BOB, CAROL, DAVE, ERIN = (
    user(5001, "Alice", "Wang"),
    user(5002, "Bob"),
    user(5003, "Carol"),
    user(5004, "Dave"),
    user(5005, "Erin"),
)


def link(name: str, *, requests: bool = False) -> dict[str, Any]:
    return {
        "invite_link": "https://t.me/+AbCdEf123",
        "creator": BOT,
        "creates_join_request": requests,
        "is_primary": False,
        "is_revoked": False,
        "name": name,
    }


def message(update_id: int, message_id: int, who: dict[str, Any], text: str, **extra: Any) -> dict:
    body = {"message_id": message_id, "from": who, "chat": group_chat(), "date": T0 + update_id}
    return {"update_id": update_id, "message": {**body, "text": text, **extra}}


def reply_with_mentions(update_id: int = 100) -> dict[str, Any]:
    """Alice replies to message 10, mentioning @bob_cn and (by name) Carol.

    "👋 @bob_cn 你好 Carol": 👋 is two UTF-16 units, so @bob_cn starts at 3 and Carol at 14.
    """
    replied = {"message_id": 10, "from": BOB, "chat": group_chat(), "date": T0, "text": "hi"}
    return message(
        update_id,
        11,
        ALICE,
        "👋 @bob_cn 你好 Carol",
        entities=[
            {"offset": 3, "length": 7, "type": "mention"},
            {"offset": 14, "length": 5, "type": "text_mention", "user": CAROL},
        ],
        reply_to_message=replied,
    )


def member_change(
    update_id: int, actor: dict, who: dict, old: str, new: str, **extra: Any
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chat_member": {
            "chat": group_chat(),
            "from": actor,
            "date": T0 + update_id,
            "old_chat_member": {"status": old, "user": who},
            "new_chat_member": {
                "status": new,
                "user": who,
                **({"until_date": 0} if new == "kicked" else {}),
            },
            **extra,
        },
    }


def reaction(update_id: int, who: dict, old: list[str], new: list[str]) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message_reaction": {
            "chat": group_chat(),
            "message_id": 11,
            "user": who,
            "date": T0 + update_id,
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        },
    }


def join_request(update_id: int, who: dict, bio: str, link_name: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chat_join_request": {
            "chat": group_chat(),
            "from": who,
            "user_chat_id": who["id"],
            "date": T0 + update_id,
            "bio": bio,
            "invite_link": link(link_name, requests=True),
        },
    }
