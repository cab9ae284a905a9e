"""What the dispatcher needs from a platform, and each platform's rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Outgoing:
    """One action to deliver, as the outbox holds it."""

    key: str  # the idempotency key
    community: str
    target: str  # a member key, the community key, or an owner
    action: str  # send_group, send_private, alert_owner
    payload: dict[str, Any]


class TransientError(Exception):
    """Delivery failed but may succeed later (network, rate limit, server error)."""


class PermanentError(Exception):
    """Delivery can never succeed (blocked, chat gone, message rejected)."""


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


@dataclass(frozen=True)
class Limits:
    """Messages per second a platform accepts, overall and per group (None: no limit)."""

    overall: float | None = None
    per_group: float | None = None
    burst: int = 1


# Published limits (DESIGN.md): Telegram ~30 msg/s overall and ~20 msg/min per group;
# Discord 50 requests/s.
LIMITS: dict[str, Limits] = {
    "console": Limits(),
    "telegram": Limits(overall=30.0, per_group=20 / 60, burst=1),
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
