"""What the decision core returns: platform actions to take and events to record.

Members are member keys (``matrix:@alice:example.org``); the runner turns them into the
platform's user ids and the community into the platform's group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCE = "bot"  # the source of every event the bot records

# The bot's own event types (source "bot"); none is canonical, so the analytics copy
# and the member metrics never see them. Points go through the SOP journal
# (`points_added`, `tier_changed`, source "sop") so tiers and playbooks see them.
BOT_TYPES: tuple[str, ...] = (
    "bot_reply",  # a message the bot sent (text: what; meta.why: command, welcome...)
    "welcomed",  # a new member greeted (or counted into an aggregated welcome)
    "raid_started",  # joins above the threshold: per-join greetings stop
    "raid_welcome",  # the one aggregated welcome after a raid (amount: joins)
    "join_challenged",  # the entry question was sent to a join request
    "join_approved",
    "join_declined",  # meta.reason: wrong answer, timeout
    "faq_answered",  # meta: entry, confidence, replied (False: in its cooldown)
    "faq_unanswered",  # a question below the threshold (meta: best, confidence)
    "faq_wrong",  # an operator marked an answer wrong (meta: answer event id)
    "violation",  # rule, evidence, step, dry_run
    "warned",
    "muted",  # amount: seconds
    "unmuted",
    "removed",
    "banned",
    "pardoned",  # an operator cleared a member's warnings
    "appeal_filed",
    "checked_in",  # amount: streak
    "leaderboard_posted",
    "bot_failed",  # a platform action failed (meta: action, reason)
)
SOP_POINT_TYPES = ("points_added", "tier_changed")
# Canonical events the bot records for a member (source "bot", `meta.activity` in
# `content_id`): they count in the metrics and the activity results like imported ones.
CANONICAL_TYPES = ("activity_signup",)


@dataclass(frozen=True)
class Send:
    """A message to the group, or privately to `private_to` (a member key)."""

    text: str
    private_to: str = ""
    reply_to: str = ""  # the platform message id answered


@dataclass(frozen=True)
class Delete:
    message_id: str


@dataclass(frozen=True)
class Mute:
    member: str
    seconds: int  # 0 unmutes


@dataclass(frozen=True)
class Remove:
    member: str


@dataclass(frozen=True)
class Ban:
    member: str


@dataclass(frozen=True)
class DecideJoin:
    request_id: str
    member: str
    approve: bool
    reason: str = ""


@dataclass(frozen=True)
class OperatorTask:
    """An operator task (a low-confidence question, an appeal)."""

    title: str
    content: str
    member: str = ""
    owner: str = ""  # "" : the community's FAQ owner, else the first operator


Action = Send | Delete | Mute | Remove | Ban | DecideJoin | OperatorTask


@dataclass(frozen=True)
class Record:
    """An event to record: a BOT_TYPES, SOP_POINT_TYPES or CANONICAL_TYPES type.

    `key` makes it idempotent; "" means the cause's key and the record's place.
    """

    type: str
    member: str = ""
    text: str = ""
    amount: int | None = None
    key: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Decision:
    """What to do about one event (or one tick) in one community."""

    community: str
    cause: str  # the key of what caused it: the event's source id, or a tick's key
    actions: tuple[Action, ...] = ()
    records: tuple[Record, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.actions or self.records)


NOTHING = Decision("", "")


@dataclass(frozen=True)
class Tick:
    """Time passed: expire mutes and join questions, close raids, post the leaderboard."""


@dataclass(frozen=True)
class Request:
    """A join request, with the member key of who asks (the runner makes it)."""

    request_id: str
    member: str
    channel: str = ""  # the invite link's name
    name: str = ""
