"""Sending at most once on platforms that cannot de-duplicate (Telegram, OneBot).

Neither the Bot API nor OneBot takes an idempotency key, so a resend after a crash
would post the message twice. The rule (DESIGN.md, "Live platforms"): record the
intent before sending, record the outcome after. A key found with an intent and no
outcome is a send that may or may not have reached the group; `UncertainError`
says so, with what the operator should check, and nothing is sent again.

An answer from the platform that refuses the send (an error response) proves it was
not sent, so the intent is dropped and a retry may send. A time-out after the request
went out proves nothing: the adapter raises `MaybeSent` and the intent stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from shequn.platforms.base import PermanentError, TransientError


class UncertainError(PermanentError):
    """A send was attempted but its outcome was never recorded (a crash, a time-out).

    Resending could post it twice, so shequn does not: an operator checks the group
    and settles it (`what_to_check` says how).
    """

    def __init__(self, key: str, what_to_check: str) -> None:
        super().__init__(f"uncertain: {what_to_check}")
        self.key = key
        self.what_to_check = what_to_check


class MaybeSent(TransientError):
    """The request went out but no answer came: the message may have been posted."""


class SendJournal(Protocol):
    """Where intents and outcomes are recorded (shequn.services.send_intents)."""

    def begin(self, key: str, platform: str, group: str, what: str) -> str | None:
        """Record the intent; the message id if this key was already sent.

        Raises:
            UncertainError: an earlier attempt with this key has no recorded outcome.
        """
        ...

    def done(self, key: str, message_id: str) -> None: ...

    def forget(self, key: str) -> None:
        """The platform refused the send: it was not sent, a retry may send."""
        ...


async def send_once(
    journal: SendJournal | None,
    *,
    key: str,
    platform: str,
    group: str,
    what: str,
    send: Callable[[], Awaitable[str]],
) -> str:
    """Run `send` at most once per key; the platform's message id."""
    if journal is None:
        raise PermanentError(
            f"{platform}: sending needs a send journal (the adapter was opened without one)"
        )
    previous = journal.begin(key, platform, group, what)
    if previous is not None:
        return previous
    try:
        message_id = await send()
    except MaybeSent:
        raise
    except (TransientError, PermanentError):
        journal.forget(key)
        raise
    journal.done(key, message_id)
    return message_id
