"""What the bot may do in a room, from `m.room.create` and `m.room.power_levels`.

Room version 12 (Synapse's default now) makes the room's creators — the sender of
`m.room.create` and its `additional_creators` — infinitely powerful without any entry
in `m.room.power_levels`; older versions give everyone `users_default` unless listed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shequn.platforms.base import Capability

# Room versions where the creators have infinite power (spec: room version 12).
CREATOR_VERSIONS = frozenset({"12", "org.matrix.hydra.11"})
_MODERATOR = 50


def creators(create: Mapping[str, Any], sender: str) -> frozenset[str]:
    """The room's creators, when their power is infinite; else nobody."""
    content = create or {}
    if str(content.get("room_version", "1")) not in CREATOR_VERSIONS:
        return frozenset()
    return frozenset({sender, *(content.get("additional_creators") or [])})


def level(levels: Mapping[str, Any], user: str, room_creators: frozenset[str]) -> float:
    """`user`'s power level (math.inf for a creator of a version-12 room)."""
    if user in room_creators:
        return math.inf
    return float((levels.get("users") or {}).get(user, levels.get("users_default", 0)))


def _needed(levels: Mapping[str, Any], key: str, default: int) -> float:
    return float(levels.get(key, default))


def _event_level(levels: Mapping[str, Any], event_type: str, state: bool) -> float:
    events = levels.get("events") or {}
    if event_type in events:
        return float(events[event_type])
    return _needed(
        levels, "state_default" if state else "events_default", _MODERATOR if state else 0
    )


# capability -> (what it needs, how to read the level needed, the hint to grant it)
def _requirements(levels: Mapping[str, Any]) -> dict[Capability, tuple[str, float]]:
    return {
        Capability.SEND_GROUP: ("send messages", _event_level(levels, "m.room.message", False)),
        Capability.REPLY: ("send messages", _event_level(levels, "m.room.message", False)),
        Capability.REACTIONS: ("send reactions", _event_level(levels, "m.reaction", False)),
        Capability.DELETE: ("redact others' messages", _needed(levels, "redact", _MODERATOR)),
        Capability.MUTE: (
            "change power levels",
            _event_level(levels, "m.room.power_levels", True),
        ),
        Capability.REMOVE: ("kick", _needed(levels, "kick", _MODERATOR)),
        Capability.BAN: ("ban", _needed(levels, "ban", _MODERATOR)),
    }


def permissions(
    levels: Mapping[str, Any], create: Mapping[str, Any], create_sender: str, bot: str
) -> tuple[frozenset[Capability], tuple[str, ...]]:
    """What `bot` may do in the room, and for each missing permission what it is and
    how to grant it. Every joined member can read the member list."""
    room_creators = creators(create, create_sender)
    mine = level(levels, bot, room_creators)
    can = {Capability.MEMBER_LIST, Capability.EDITS}
    missing = []
    for capability, (what, needed) in _requirements(levels).items():
        if mine >= needed:
            can.add(capability)
        else:
            missing.append(
                f"{capability.value}: needs power {needed:g} to {what}, the bot has {mine:g}; "
                f"an admin can raise {bot} to {needed:g} or more in the room's settings "
                "(Roles & Permissions)"
            )
    return frozenset(can), tuple(dict.fromkeys(missing))
