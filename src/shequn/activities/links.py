"""Sign-up links: one signed token per activity and member, checked without the store.

A token is `<member, base64url>.<HMAC-SHA256 of "signup|ACTIVITY|MEMBER", 16 bytes,
base64url>`. Whoever holds a member's link can sign up that member for that activity
and nothing else; a changed activity or member breaks the signature. The key is a
secret from the environment (`shequn.services.signups.SECRET_ENV`), never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from shequn.errors import InputError

_SIG_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, activity: str, member: str) -> str:
    message = f"signup|{activity}|{member}".encode()
    return _b64(hmac.new(secret, message, hashlib.sha256).digest()[:_SIG_BYTES])


def token(secret: bytes, activity: str, member: str) -> str:
    """The token of `member`'s sign-up link for `activity`."""
    return f"{_b64(member.encode())}.{_signature(secret, activity, member)}"


def member_of(secret: bytes, activity: str, value: str) -> str:
    """The member a token signs up for `activity`.

    Raises:
        InputError: the token is malformed, or was not made for this activity.
    """
    bad = InputError(
        "this sign-up link is not valid",
        hint="ask the organiser for your own link (it may have been cut short or changed)",
    )
    head, _, signature = value.partition(".")
    try:
        member = _unb64(head).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    if not member or not hmac.compare_digest(signature, _signature(secret, activity, member)):
        raise bad
    return member
