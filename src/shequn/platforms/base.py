"""What shequn needs from a platform: the dispatcher's `Platform`, the live `Adapter`
contract (listen + deliver + moderate), and each platform's rate limits.

The adapter contract (docs/platforms.md):

* `listen(position)` yields `Batch`es of canonical `Event`s whose `source_id` is the
  platform's own id for that happening, with the adapter's position after them; the
  live ingest service stores both in one transaction.
* Every verb raises `TransientError` (maybe with `retry_after` seconds) or
  `PermanentError`; a verb the platform lacks raises `PermanentError` and is absent
  from `capabilities`.
* Member keys are ``platform:user_id`` (`member_key`); the community key comes from
  the binding in shequn.toml (``[communities.X] platform = ..., group = ...``).
* Facts with no canonical column (mentions, kicked-by, display name, edits,
  deletions, `reconciled`) go in `Event.meta`; edits and deletions are the event
  types `MESSAGE_EDIT` and `MESSAGE_DELETE`, which are not canonical event types and
  so stay out of the metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from shequn.domain.events import Event


@dataclass(frozen=True)
class Outgoing:
    """One action to deliver, as the outbox holds it."""

    key: str  # the idempotency key
    community: str
    target: str  # a member key, the community key, or an owner
    action: str  # send_group, send_private, alert_owner
    payload: dict[str, Any]


class TransientError(Exception):
    """Delivery failed but may succeed later (network, rate limit, server error).

    Attributes:
        retry_after: seconds the platform asked us to wait (HTTP 429 `retry_after`,
            Synapse `retry_after_ms` / 1000), or None when it did not say.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Delivery can never succeed (blocked, chat gone, message rejected, no permission)."""


class Unauthorized(PermanentError):
    """The platform refused the bot's credentials (token revoked, bot removed): the
    adapter stops with this error; the others go on."""


class Platform(Protocol):
    name: str

    def delivered(self, key: str) -> bool:
        """True if the platform already holds a delivery with this key (crash recovery)."""
        ...

    def send(self, message: Outgoing) -> None:
        """Deliver; return only once the platform has confirmed it.

        Raises:
            TransientError: try again later.
            PermanentError: never try again.
        """
        ...


class Capability(StrEnum):
    """What a platform adapter can carry out."""

    SEND_GROUP = "send_group"
    SEND_PRIVATE = "send_private"
    REPLY = "reply"
    DELETE = "delete"
    MUTE = "mute"
    REMOVE = "remove"
    BAN = "ban"
    JOIN_REQUESTS = "join_requests"
    INVITE_LINKS = "invite_links"
    REACTIONS = "reactions"
    EDITS = "edits"
    MEMBER_LIST = "member_list"


# Live event types beyond the canonical ones (domain.events.EventType). They are
# stored in the log like any event but are not canonical, so the analytics copy and
# the metrics never see them.
MESSAGE_EDIT = "message_edit"  # message_id = the edited message; text = the new text
MESSAGE_DELETE = "message_delete"  # message_id = the deleted message; meta.by = who
LIVE_TYPES: frozenset[str] = frozenset({MESSAGE_EDIT, MESSAGE_DELETE})


def member_key(platform: str, user_id: str) -> str:
    """The member key of a platform user: ``matrix:@alice:example.org``, ``qq:10001``."""
    return f"{platform}:{user_id}"


@dataclass(frozen=True)
class GroupInfo:
    """A group (room, chat) the bot sees, and what it may do there."""

    group_id: str
    title: str
    can: frozenset[Capability]  # the permissions the bot holds in this group
    missing: tuple[str, ...] = ()  # for each lacking permission: what and how to grant it


@dataclass(frozen=True)
class Identity:
    """Who the bot is on a platform and the groups it sees."""

    platform: str
    user_id: str
    name: str
    groups: tuple[GroupInfo, ...]


@dataclass(frozen=True)
class JoinRequest:
    """A pending request to join a group (Telegram, QQ)."""

    group_id: str
    request_id: str  # what decide_join takes
    user_id: str
    ts: datetime
    comment: str = ""
    channel: str = ""  # the invite link's name, when the platform tells it


@dataclass(frozen=True)
class Batch:
    """What `Adapter.listen` yields: events, then the position just after them.

    Attributes:
        events: canonical events; `source_id` is the platform's own id, `community`
            is the platform's group id until the ingest maps it through the bindings.
        position: the adapter's position after these events (Matrix `next_batch`,
            Telegram `update_id`, ...); give it back to `listen` to resume.
        requests: pending join requests seen in this batch.
    """

    events: tuple[Event, ...]
    position: str
    requests: tuple[JoinRequest, ...] = ()


class Adapter(Protocol):
    """One live platform: listen to its groups and act in them.

    Every verb raises TransientError (retry later, maybe with `retry_after`) or
    PermanentError; a verb not in `capabilities` raises PermanentError.
    """

    platform: str  # "matrix" | "telegram" | "qq"
    capabilities: frozenset[Capability]

    async def identity(self) -> Identity:
        """Connect, and say who the bot is, which groups it sees and its permissions."""
        ...

    def listen(self, position: str | None) -> AsyncIterator[Batch]:
        """Yield batches from `position` on (None: from now), forever."""
        ...

    async def send(
        self,
        group: str,
        text: str,
        *,
        key: str,
        private_to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        """Send `text` to `group` (or privately to a platform user); the platform's
        message id. `key` is the outbox key: never reused for another message."""
        ...

    async def delete(self, group: str, message_id: str) -> None: ...

    async def mute(self, group: str, user: str, seconds: int) -> None:
        """Mute `user` for `seconds` (0 unmutes)."""
        ...

    async def remove(self, group: str, user: str) -> None: ...

    async def ban(self, group: str, user: str) -> None: ...

    async def decide_join(
        self, group: str, request_id: str, approve: bool, reason: str = ""
    ) -> None: ...

    async def members(self, group: str) -> frozenset[str]:
        """The platform user ids in `group` now (for reconciliation)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Limits:
    """Messages per second a platform accepts, overall and per group (None: no limit)."""

    overall: float | None = None
    per_group: float | None = None
    burst: int = 1


# Published limits (DESIGN.md): Telegram ~30 msg/s overall and ~20 msg/min per group
# (core.telegram.org/bots/faq);
# Discord 50 requests/s.
LIMITS: dict[str, Limits] = {
    "console": Limits(),
    "telegram": Limits(overall=30.0, per_group=20 / 60, burst=1),
    # QQ publishes no bot limits; a faster pace gets accounts flagged (docs/platforms.md).
    "qq": Limits(overall=1.0, per_group=20 / 60, burst=3),
    "discord": Limits(overall=50.0, burst=5),
}
# What each platform does without a person, by action kind; a platform absent here does
# every kind. WeCom/WeChat group and private sends need staff confirmation: none, so
# their messages become operator tasks.
CAPABILITIES: dict[str, frozenset[str]] = {"wecom": frozenset(), "wechat": frozenset()}


def can_do(platform: str, action: str) -> bool:
    """Whether `platform` carries out actions of kind `action` itself."""
    allowed = CAPABILITIES.get(platform)
    return allowed is None or action in allowed
