"""Bot API updates to canonical events: pure functions on the documented shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shequn.platforms.native import Malformed
from shequn.platforms.telegram.translate import numeric_id, translate
from tests.platforms.botapi import GROUP, group_chat
from tests.platforms.telegram_updates import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    T0,
    join_request,
    link,
    member_change,
    message,
    reaction,
    reply_with_mentions,
)

G = str(GROUP)


def test_a_reply_with_mentions_is_one_message_event() -> None:
    (event,) = translate(reply_with_mentions(100)).events
    assert event.type == "message"
    assert event.community == G
    assert event.member == "telegram:user5001"
    assert event.message_id == "11"
    assert event.reply_to == "10"
    assert event.text == "👋 @bob_cn 你好 Carol"
    assert event.source_id == f"{G}:11"
    assert event.ts == datetime(2025, 11, 24, 16, 1, 40, tzinfo=UTC)  # T0 + 100 s
    assert event.meta == {"name": "Alice Wang", "mentions": ["@bob_cn", "telegram:user5003"]}


def test_a_join_through_a_named_link_carries_the_channel() -> None:
    update = member_change(101, DAVE, DAVE, "left", "member", invite_link=link("poster-a"))
    (event,) = translate(update).events
    assert (event.type, event.member, event.channel, event.inviter) == (
        "join",
        "telegram:user5004",
        "poster-a",
        "",  # the link's creator is the bot: nobody invited Dave
    )
    assert event.source_id == f"{G}:m:user5004:{T0 + 101}:join"


def test_a_member_added_by_someone_has_them_as_inviter() -> None:
    (event,) = translate(member_change(102, ALICE, DAVE, "left", "member")).events
    assert (event.type, event.inviter, event.channel) == ("join", "telegram:user5001", "")


def test_a_kick_is_a_leave_with_who_kicked() -> None:
    (event,) = translate(member_change(103, ALICE, BOB, "member", "kicked")).events
    assert (event.type, event.member) == ("leave", "telegram:user5002")
    assert event.meta == {"name": "Bob", "kicked_by": "telegram:user5001", "banned": True}


def test_leaving_by_oneself_has_no_kicker() -> None:
    (event,) = translate(member_change(104, BOB, BOB, "member", "left")).events
    assert (event.type, event.meta) == ("leave", {"name": "Bob"})


def test_a_promotion_is_not_a_membership_change() -> None:
    assert translate(member_change(105, ALICE, BOB, "member", "administrator")).events == ()


def test_a_restricted_member_who_stays_is_still_a_member() -> None:
    update = member_change(106, ALICE, BOB, "member", "restricted")
    update["chat_member"]["new_chat_member"]["is_member"] = True
    assert translate(update).events == ()


def test_reactions_count_only_the_newly_added_emoji() -> None:
    (event,) = translate(reaction(107, CAROL, ["👍"], ["👍", "🔥"])).events
    assert (event.type, event.member, event.reply_to) == ("reaction", "telegram:user5003", "11")
    assert event.source_id == f"{G}:11:r:user5003:🔥"
    assert event.meta == {"emoji": "🔥", "name": "Carol"}
    assert translate(reaction(108, CAROL, ["👍"], [])).events == ()


def test_a_join_request_is_pending_with_its_bio_and_link() -> None:
    parsed = translate(join_request(109, CAROL, "想学习", "poster-b"))
    assert parsed.events == ()
    (request,) = parsed.requests
    assert (request.group_id, request.request_id, request.user_id) == (G, "5003", "user5003")
    assert (request.comment, request.channel) == ("想学习", "poster-b")


def test_an_edit_is_a_message_edit_event_keyed_by_its_edit_date() -> None:
    update = message(110, 11, ALICE, "fixed typo")
    update["edited_message"] = {**update.pop("message"), "edit_date": T0 + 500}
    (event,) = translate(update).events
    assert (event.type, event.message_id, event.text) == ("message_edit", "11", "fixed typo")
    assert event.source_id == f"{G}:11:e:{T0 + 500}"


def test_private_chats_and_service_messages_give_nothing() -> None:
    private = message(111, 1, ALICE, "hello bot")
    private["message"]["chat"] = {"id": 5001, "type": "private", "first_name": "Alice"}
    assert translate(private).events == ()
    service = message(112, 12, ALICE, "")
    del service["message"]["text"]
    service["message"]["new_chat_members"] = [DAVE]
    assert translate(service).events == ()


def test_topic_starter_is_not_a_reply() -> None:
    update = message(113, 30, ALICE, "in a topic", is_topic_message=True, message_thread_id=7)
    update["message"]["reply_to_message"] = {
        "message_id": 7,
        "chat": group_chat(),
        "date": T0,
        "forum_topic_created": {},
    }
    assert translate(update).events[0].reply_to == ""


@pytest.mark.parametrize(
    ("update", "where"),
    [
        ({"message": {}}, "update.update_id"),
        ({"update_id": 1, "message": {"message_id": 1, "from": ALICE, "date": T0}}, "message.chat"),
        ({"update_id": 2, "chat_member": {"chat": group_chat(), "date": T0}}, "old_chat_member"),
    ],
)
def test_malformed_updates_name_the_field(update: dict, where: str) -> None:
    with pytest.raises(Malformed, match=where):
        translate(update)


def test_user_ids_read_both_forms() -> None:
    assert numeric_id("user5001") == numeric_id("5001") == numeric_id("telegram:user5001") == 5001
    with pytest.raises(ValueError, match="user123"):
        numeric_id("alice")
