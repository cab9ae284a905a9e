"""OneBot v11 events to canonical events: pure functions on the specified shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shequn.platforms.native import Malformed
from shequn.platforms.onebot.translate import segments_of, translate
from tests.platforms.onebot_events import (
    GROUP,
    T0,
    at,
    group_message,
    group_request,
    heartbeat,
    notice,
    reply,
    text,
)

G = str(GROUP)


def test_a_group_message_with_reply_and_at() -> None:
    event = group_message(
        2001, 20002, [reply(1999), at(20003), text(" 你好"), at("all")], card="班长"
    )
    (message,) = translate(event).events
    assert (message.type, message.community, message.member) == ("message", G, "qq:20002")
    assert (message.message_id, message.reply_to) == ("2001", "1999")
    assert message.text == "@20003 你好@all"
    assert message.meta == {"name": "班长", "mentions": ["qq:20003", "all"]}
    assert message.source_id == f"{G}:2001:{T0}"
    assert message.ts == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


def test_the_cq_code_string_format_reads_the_same() -> None:
    event = group_message(2001, 20002, "[CQ:reply,id=1999][CQ:at,qq=20003] 你好&#91;1&#93;")
    (message,) = translate(event).events
    assert (message.reply_to, message.text) == ("1999", "@20003 你好[1]")
    assert message.meta == {"name": "小明", "mentions": ["qq:20003"]}
    assert segments_of("a&amp;b") == [{"type": "text", "data": {"text": "a&b"}}]


def test_invited_joins_carry_the_inviter_approved_ones_the_approver() -> None:
    (invited,) = translate(notice("group_increase", "invite", 20004, 20002)).events
    assert (invited.type, invited.member, invited.inviter) == ("join", "qq:20004", "qq:20002")
    assert invited.source_id == f"{G}:group_increase:20004:{T0}"
    (approved,) = translate(notice("group_increase", "approve", 20005, 20001)).events
    assert (approved.inviter, approved.meta) == (
        "",
        {"sub_type": "approve", "approved_by": "qq:20001"},
    )


def test_leaves_and_kicks() -> None:
    (left,) = translate(notice("group_decrease", "leave", 20004, 20004)).events
    assert (left.type, left.meta) == ("leave", {"sub_type": "leave"})
    (kicked,) = translate(notice("group_decrease", "kick", 20005, 20001)).events
    assert kicked.meta == {"sub_type": "kick", "kicked_by": "qq:20001"}
    assert translate(notice("group_decrease", "kick_me", 10000, 20001)).events == ()


def test_a_recall_is_a_message_delete() -> None:
    event = {**notice("group_recall", "", 20002, 20001), "message_id": 2001}
    del event["sub_type"]
    (recall,) = translate(event).events
    assert (recall.type, recall.message_id, recall.meta) == (
        "message_delete", "2001", {"by": "qq:20001"}
    )  # fmt: skip


def test_a_join_request_keeps_its_comment_and_flag() -> None:
    parsed = translate(group_request(20006, "问题：来自哪里 答案：海报", "flag-abc"))
    (request,) = parsed.requests
    assert (request.group_id, request.request_id, request.user_id) == (G, "flag-abc", "20006")
    assert request.comment == "问题：来自哪里 答案：海报"


def test_private_messages_and_meta_events_give_nothing() -> None:
    private = group_message(3001, 20002, [text("hi")])
    private["message_type"] = "private"
    assert translate(private).events == ()
    assert translate(heartbeat()).events == ()


@pytest.mark.parametrize(
    ("event", "where"),
    [
        ({"post_type": "message", "message_type": "group", "time": T0}, "group_id"),
        ({"post_type": "mystery"}, "post_type 'mystery'"),
        ({**group_message(1, 2, [text("x")]), "message": 5}, "array of segments"),
        ({**group_request(1, "", "f"), "flag": ""}, "flag"),
    ],
)
def test_malformed_events_name_the_field(event: dict, where: str) -> None:
    with pytest.raises(Malformed, match=where):
        translate(event)
