"""Matrix /sync events -> canonical events, on payloads shaped as the client-server
spec shows them (m.room.member, m.room.message, m.reaction, m.room.redaction)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from shequn.platforms.base import MESSAGE_DELETE, MESSAGE_EDIT
from shequn.platforms.matrix.events import Malformed, sync_events, to_event

ROOM = "!abc:localhost"
BOT = "@bot:localhost"
TS = 1_780_000_000_123  # ms


def member(user: str, membership: str, before: str | None, sender: str | None = None, **un):
    unsigned = dict(un)
    if before is not None:
        unsigned["prev_content"] = {"membership": before}
    return {
        "type": "m.room.member",
        "event_id": f"$m-{user}-{membership}",
        "sender": sender or user,
        "state_key": user,
        "origin_server_ts": TS,
        "content": {"membership": membership, "displayname": user[1:].split(":")[0].title()},
        "unsigned": unsigned,
    }


def test_join_through_an_invite_records_the_inviter_and_name() -> None:
    event = to_event(
        ROOM, member("@carol:localhost", "join", "invite", prev_sender="@al:localhost")
    )
    assert event is not None
    assert (event.type, event.member, event.inviter) == (
        "join",
        "matrix:@carol:localhost",
        "matrix:@al:localhost",
    )
    assert event.meta == {"name": "Carol"}
    assert event.ts == datetime(2026, 5, 28, 20, 26, 40, 123000, tzinfo=UTC)
    assert (event.community, event.source_id) == (ROOM, "$m-@carol:localhost-join")


def test_a_public_join_has_no_inviter_and_a_profile_change_is_no_join() -> None:
    assert to_event(ROOM, member("@d:localhost", "join", None)).inviter == ""
    assert to_event(ROOM, member("@d:localhost", "join", "join")) is None


def test_leave_kick_and_ban_are_leaves_saying_how_and_by_whom() -> None:
    left = to_event(ROOM, member("@d:localhost", "leave", "join"))
    kicked = to_event(ROOM, member("@d:localhost", "leave", "join", sender="@mod:localhost"))
    banned = to_event(ROOM, member("@d:localhost", "ban", "join", sender="@mod:localhost"))
    assert [e.type for e in (left, kicked, banned)] == ["leave"] * 3
    assert left.meta == {"how": "left"}
    assert kicked.meta == {"how": "kicked", "by": "matrix:@mod:localhost"}
    assert banned.meta == {"how": "banned", "by": "matrix:@mod:localhost"}
    # a declined invite or a ban of a non-member changes no membership
    assert to_event(ROOM, member("@d:localhost", "leave", "invite")) is None
    assert to_event(ROOM, member("@d:localhost", "ban", None, sender="@mod:localhost")) is None


def message(content: dict, event_id: str = "$msg", sender: str = "@d:localhost") -> dict:
    return {
        "type": "m.room.message",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": TS,
        "content": content,
    }


def test_message_with_reply_and_mentions() -> None:
    event = to_event(
        ROOM,
        message(
            {
                "msgtype": "m.text",
                "body": "> <@a:localhost> hi\n\nhello @e",
                "m.relates_to": {"m.in_reply_to": {"event_id": "$parent"}},
                "m.mentions": {"user_ids": ["@e:localhost"]},
            }
        ),
    )
    assert (event.type, event.message_id, event.reply_to) == ("message", "$msg", "$parent")
    assert event.meta == {"mentions": ["matrix:@e:localhost"]}


def test_edit_reaction_and_redaction() -> None:
    edit = to_event(
        ROOM,
        message(
            {
                "msgtype": "m.text",
                "body": "* fixed",
                "m.new_content": {"msgtype": "m.text", "body": "fixed"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"},
            },
            event_id="$edit",
        ),
    )
    assert (edit.type, edit.message_id, edit.text, edit.source_id) == (
        MESSAGE_EDIT,
        "$orig",
        "fixed",
        "$edit",
    )
    reaction = to_event(
        ROOM,
        {
            "type": "m.reaction",
            "event_id": "$r",
            "sender": "@d:localhost",
            "origin_server_ts": TS,
            "content": {
                "m.relates_to": {"rel_type": "m.annotation", "event_id": "$msg", "key": "👍"}
            },
        },
    )
    assert (reaction.type, reaction.reply_to, reaction.meta) == (
        "reaction",
        "$msg",
        {"emoji": "👍"},
    )
    redaction = {
        "type": "m.room.redaction",
        "event_id": "$x",
        "sender": "@mod:localhost",
        "origin_server_ts": TS,
        "content": {"redacts": "$msg"},
    }
    deleted = to_event(ROOM, redaction)
    assert (deleted.type, deleted.message_id, deleted.member) == (
        MESSAGE_DELETE,
        "$msg",
        "matrix:@mod:localhost",
    )
    # a redacted message arrives with empty content: its deletion says what happened
    assert to_event(ROOM, message({})) is None


def test_the_bot_itself_is_left_out() -> None:
    assert to_event(ROOM, message({"body": "welcome"}, sender=BOT), BOT) is None
    assert to_event(ROOM, member(BOT, "join", "invite", prev_sender="@a:localhost"), BOT) is None
    kicked_by_bot = member("@d:localhost", "leave", "join", sender=BOT)
    assert to_event(ROOM, kicked_by_bot, BOT).meta == {"how": "kicked", "by": f"matrix:{BOT}"}


def test_unknown_types_are_skipped_and_malformed_ones_raise() -> None:
    assert to_event(ROOM, {"type": "m.room.topic", "event_id": "$t"}) is None
    with pytest.raises(
        Malformed, match=re.escape("m.room.message event without a valid 'origin_server_ts'")
    ):
        to_event(
            ROOM,
            {
                "type": "m.room.message",
                "event_id": "$m",
                "sender": "@d:x",
                "content": {"body": "x"},
            },
        )
    with pytest.raises(Malformed, match="without a state_key"):
        to_event(ROOM, {**member("@d:x", "join", None), "state_key": None})


def test_sync_events_skips_malformed_logs_them_and_keeps_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rooms = {
        "join": {
            ROOM: {
                "state": {"events": [member("@old:localhost", "join", None)]},
                "timeline": {
                    "events": [
                        message({"body": "one"}, "$1"),
                        {"type": "m.room.message", "event_id": "$bad", "content": {"body": 1}},
                        message({"body": "two"}, "$2"),
                        message({"body": "one"}, "$1"),  # the same event twice: once
                    ]
                },
            }
        },
        "leave": {"!gone:localhost": {"timeline": {"events": [message({"body": "bye"}, "$3")]}}},
    }
    with caplog.at_level(logging.WARNING, logger="shequn.matrix"):
        found, bad = sync_events(rooms, BOT)
    assert [e.source_id for e in found] == ["$m-@old:localhost-join", "$1", "$2", "$3"]
    assert bad == 1
    assert (
        "skipped $bad in !abc:localhost: m.room.message event without a valid 'sender'"
        in caplog.text
    )


def test_an_inviter_missing_from_the_join_comes_from_the_invite_seen_before() -> None:
    """Homeservers other than Synapse may not send `unsigned.prev_sender`."""
    invite = member("@e:localhost", "invite", None, sender="@al:localhost")
    join = member("@e:localhost", "join", "invite")  # no prev_sender
    invites: dict[tuple[str, str], str] = {}
    first, _ = sync_events({"join": {ROOM: {"timeline": {"events": [invite]}}}}, BOT, invites)
    assert first == []  # an invite is no membership yet
    found, _ = sync_events({"join": {ROOM: {"timeline": {"events": [join]}}}}, BOT, invites)
    assert [(e.type, e.inviter) for e in found] == [("join", "matrix:@al:localhost")]
    assert invites == {}
