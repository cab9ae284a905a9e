"""The canonical event: the one shape everything shequn knows is stored in.

See docs/metrics.md ("The canonical event log"). Importers and adapters produce
events; metrics read only events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    VISIT = "visit"
    JOIN = "join"
    LEAVE = "leave"
    MESSAGE = "message"
    REACTION = "reaction"
    CHECKIN = "checkin"
    CONTENT_SENT = "content_sent"
    CONTENT_CLICK = "content_click"
    ORDER = "order"
    ACTIVITY_SIGNUP = "activity_signup"
    ACTIVITY_ATTEND = "activity_attend"
    FEEDBACK = "feedback"
    # What a bot or integration posted: kept for the record, never a member's activity.
    BOT_MESSAGE = "bot_message"


EVENT_TYPES: frozenset[str] = frozenset(t.value for t in EventType)

# The source_id prefix of the joins that record who was already in a group when shequn
# first saw its member list (live reconciliation): members, but no newcomers, so no
# playbook trigger reads them.
BASELINE = "baseline:"
# Events that name no member: an anonymous visit, and a bot's message (bots are not members).
MEMBERLESS_TYPES: tuple[str, ...] = (EventType.VISIT.value, EventType.BOT_MESSAGE.value)

# The interchange columns of the canonical CSV / JSON Lines, in order.
CANONICAL_FIELDS: tuple[str, ...] = (
    "ts",
    "community",
    "member",
    "type",
    "channel",
    "inviter",
    "visitor",
    "message_id",
    "reply_to",
    "content_id",
    "order_id",
    "amount",
    "text",
    "source_id",
)

# Text fields of an event besides the required ones; empty means absent.
OPTIONAL_TEXT_FIELDS: tuple[str, ...] = (
    "channel",
    "inviter",
    "visitor",
    "message_id",
    "reply_to",
    "content_id",
    "order_id",
    "text",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a community.

    Attributes:
        ts: when, timezone-aware (stored in UTC).
        community: the community key, unique in the workspace.
        type: one of EventType.
        member: the member key (``platform:id``); empty only for an anonymous visit
            and a bot's message (MEMBERLESS_TYPES).
        source_id: the event's id at its source; with the import's source it makes
            re-import idempotent.
        meta: what the canonical fields have no room for (mentions, emoji, display
            name); stored as JSON.
    """

    ts: datetime
    community: str
    type: str
    member: str = ""
    channel: str = ""
    inviter: str = ""
    visitor: str = ""
    message_id: str = ""
    reply_to: str = ""
    content_id: str = ""
    order_id: str = ""
    amount: Decimal | None = None
    text: str = ""
    source_id: str = ""
    meta: dict[str, Any] | None = field(default=None, compare=False, hash=False)
