"""The signed sign-up token: round trip, and every way a forged one fails."""

from __future__ import annotations

import pytest

from shequn.activities.links import member_of, token
from shequn.errors import InputError

KEY = b"k" * 32


def test_a_token_names_its_member_for_its_activity_only() -> None:
    made = token(KEY, "talk", "qq:12345")
    assert made.split(".")[0] == "cXE6MTIzNDU"  # base64url of "qq:12345", unpadded
    assert member_of(KEY, "talk", made) == "qq:12345"
    assert member_of(KEY, "talk", token(KEY, "talk", "matrix:@李.雷:example.org")) == (
        "matrix:@李.雷:example.org"
    )


@pytest.mark.parametrize(
    "forged",
    [
        token(KEY, "meetup", "qq:12345"),  # another activity's
        token(b"x" * 32, "talk", "qq:12345"),  # another key's
        "cXE6OTk5." + token(KEY, "talk", "qq:12345").split(".")[1],  # another member
        "%%%." + "a" * 22,  # not base64
        "",
        "cXE6MTIzNDU",  # no signature
    ],
)
def test_forged_tokens_are_refused(forged: str) -> None:
    with pytest.raises(InputError, match="not valid"):
        member_of(KEY, "talk", forged)
