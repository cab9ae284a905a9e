"""The decision core on hand-checked cases: each test says what a person would expect."""

from __future__ import annotations

from datetime import timedelta

from shequn.bot.core import decide, step
from shequn.bot.decision import (
    Ban,
    DecideJoin,
    Delete,
    Mute,
    OperatorTask,
    Remove,
    Request,
    Send,
    Tick,
)
from shequn.bot.setup import Setup
from shequn.bot.state import BotState
from tests.bot.conftest import T0, join, message

ALICE = "matrix:@alice:localhost"
BOB = "matrix:@bob:localhost"
LIN = "matrix:@lin:localhost"  # an operator (settings: operators[0].contact)


def kinds(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.type for r in decision.records]


def test_join_gets_the_rendered_welcome_with_the_name_as_data(setup: Setup) -> None:
    state = BotState()
    d = step(join(ALICE, meta={"name": "{{ 7*7 }} Alice"}), state, setup, T0)
    assert d.actions == (Send("Welcome {{ 7*7 }} Alice to Tea club! No ads. Be kind."),)
    assert kinds(d) == ["welcomed"]


def test_a_raid_of_200_joins_in_a_minute_gets_one_aggregated_welcome(setup: Setup) -> None:
    state = BotState()
    sends = []
    for i in range(200):
        at = T0 + timedelta(seconds=i * 0.3)
        d = step(join(f"matrix:@raider{i}:localhost"), state, setup, at)
        sends += [a for a in d.actions if isinstance(a, Send)]
        sends += [a for a in step(Tick(), state, setup, at).actions if isinstance(a, Send)]
    # The first 10 joins of the minute are greeted; the 11th starts the raid.
    assert len(sends) == 10
    calm = T0 + timedelta(seconds=200 * 0.3 + 61)
    d = step(Tick(), state, setup, calm)
    assert d.actions == (Send("欢迎 190 位新朋友！请先阅读群规：No ads. Be kind."),)
    assert kinds(d) == ["raid_welcome"]
    assert step(Tick(), state, setup, calm + timedelta(seconds=5)).actions == ()


def test_banned_link_is_deleted_and_the_ladder_climbs_then_unmutes(setup: Setup) -> None:
    state = BotState()
    first = step(message(ALICE, "see https://spam.example.com/win"), state, setup, T0)
    assert isinstance(first.actions[0], Delete)
    assert kinds(first) == ["violation", "warned"]
    assert first.records[0].meta["rule"] == "link"
    second = step(message(ALICE, "赌 博 here"), state, setup, T0 + timedelta(minutes=1))
    assert kinds(second) == ["violation", "muted"]
    assert Mute(ALICE, 600) in second.actions
    assert second.records[0].meta["evidence"] == "赌博"
    # Nothing to undo before the mute is over; at its end, one unmute.
    assert step(Tick(), state, setup, T0 + timedelta(minutes=5)).actions == ()
    over = step(Tick(), state, setup, T0 + timedelta(minutes=11))
    assert over.actions == (Mute(ALICE, 0),)
    assert kinds(over) == ["unmuted"]
    third = step(message(ALICE, "ｃａｓｉｎｏ"), state, setup, T0 + timedelta(minutes=12))
    assert Mute(ALICE, 86400) in third.actions
    fourth = step(message(ALICE, "scam"), state, setup, T0 + timedelta(minutes=13))
    assert Remove(ALICE) in fourth.actions
    fifth = step(message(ALICE, "scam"), state, setup, T0 + timedelta(minutes=14))
    assert Ban(ALICE) in fifth.actions


def test_warnings_expire(setup: Setup) -> None:
    state = BotState()
    step(message(ALICE, "scam"), state, setup, T0)
    later = step(message(ALICE, "scam"), state, setup, T0 + timedelta(days=31))
    assert kinds(later) == ["violation", "warned"]


def test_allowed_domain_trusted_member_and_operator_are_not_moderated(setup: Setup) -> None:
    state = BotState()
    assert "violation" not in kinds(
        step(message(BOB, "docs at https://example.org/a"), state, setup, T0)
    )
    assert "violation" not in kinds(
        step(message("matrix:@friend:localhost", "scam"), state, setup, T0)
    )
    assert "violation" not in kinds(step(message(LIN, "scam"), state, setup, T0))
    admin = message(BOB, "scam", meta={"admin": True})
    assert "violation" not in kinds(step(admin, state, setup, T0))


def test_dry_run_records_and_does_nothing(setup: Setup) -> None:
    from dataclasses import replace

    dry = replace(setup, config=setup.config.model_copy(update={"dry_run": True}))
    state = BotState()
    d = step(message(ALICE, "scam"), state, dry, T0)
    assert d.actions == ()
    assert kinds(d) == ["violation"] and d.records[0].meta["dry_run"] is True
    assert state.member("tea", ALICE).strikes == []


def test_flood_is_the_sixth_message_in_ten_seconds(setup: Setup) -> None:
    state = BotState()
    found = [
        kinds(step(message(BOB, f"hello {i}"), state, setup, T0 + timedelta(seconds=i)))
        for i in range(6)
    ]
    assert ["violation" in k for k in found] == [False] * 5 + [True]


def test_faq_paraphrase_is_answered_once_per_cooldown(setup: Setup) -> None:
    state = BotState()
    d = step(message(BOB, "请问晚上几点关门？"), state, setup, T0)
    assert d.actions[0] == Send(
        "门店每天 9:00–21:00 营业。 The shop is open 9:00–21:00 every day.", reply_to=d.cause
    )
    assert d.records[0].type == "faq_answered"
    again = step(message(ALICE, "店里几点开门啊"), state, setup, T0 + timedelta(minutes=5))
    assert again.actions == () and again.records[0].meta["replied"] is False
    later = step(message(ALICE, "店里几点开门啊"), state, setup, T0 + timedelta(minutes=11))
    assert isinstance(later.actions[0], Send)


def test_unknown_question_becomes_an_operator_task(setup: Setup) -> None:
    d = step(message(BOB, "有人知道明天下雨吗？"), BotState(), setup, T0)
    assert [type(a) for a in d.actions] == [OperatorTask]
    assert d.actions[0].owner == "lin"
    assert kinds(d)[0] == "faq_unanswered"


def test_chat_that_is_no_question_is_left_alone(setup: Setup) -> None:
    d = step(message(BOB, "今天的天气真好"), BotState(), setup, T0)
    assert d.actions == () and kinds(d) == ["points_added"]


def test_checkin_streak_over_two_local_days(setup: Setup) -> None:
    state = BotState()
    first = step(message(BOB, "签到"), state, setup, T0)
    assert [r.type for r in first.records] == ["checked_in", "points_added"]
    assert first.records[1].amount == 5
    again = step(message(BOB, "/checkin"), state, setup, T0 + timedelta(hours=1))
    assert kinds(again) == [] and "已经签到" in again.actions[0].text
    # 16:00 UTC on day 2 is 00:00 on the next Shanghai day.
    second = step(message(BOB, "/checkin@shequn_bot"), state, setup, T0 + timedelta(hours=15))
    assert second.records[0].amount == 2  # the streak
    assert second.records[1].amount == 6  # 5 + 1 for the second day
    assert state.totals[BOB] == 11


def test_points_cross_a_tier_and_rank(setup: Setup) -> None:
    state = BotState()
    tiers = []
    for day in range(4):
        d = step(message(BOB, "签到"), state, setup, T0 + timedelta(days=day))
        tiers += [r.text for r in d.records if r.type == "tier_changed"]
    # Bronze starts at 0 points, so it is held before any; 5 + 6 + 7 = 18 < 20, and
    # the fourth day's 8 makes 26: silver, once.
    assert tiers == ["silver"]
    ranked = step(message(ALICE, "排行"), state, setup, T0 + timedelta(days=4))
    assert ranked.actions[0].text == "积分排行：\n1. @bob:localhost  26"


def test_message_and_reply_points_with_cooldown(setup: Setup) -> None:
    state = BotState()
    original = message(ALICE, "我今天泡了龙井")
    assert [r.amount for r in step(original, state, setup, T0).records] == [1]
    answer = message(BOB, "看起来不错", reply_to=original.message_id)
    got = step(answer, state, setup, T0 + timedelta(seconds=30))
    assert [(r.member, r.amount) for r in got.records] == [(BOB, 1), (ALICE, 2)]
    soon = step(message(BOB, "真的不错"), state, setup, T0 + timedelta(minutes=1))
    assert soon.records == ()  # within the 5-minute message cooldown


def test_operator_commands_need_an_operator(setup: Setup) -> None:
    state = BotState()
    refused = step(message(BOB, "/ban @alice:localhost"), state, setup, T0)
    assert refused.records == () and "管理员" in refused.actions[0].text
    muted = step(message(LIN, "/mute @alice:localhost 30m"), state, setup, T0)
    assert Mute(ALICE, 1800) in muted.actions and kinds(muted) == ["muted"]
    pardoned = step(message(LIN, "/pardon @alice:localhost"), state, setup, T0)
    assert kinds(pardoned) == ["pardoned", "unmuted"] and Mute(ALICE, 0) in pardoned.actions


def test_pardon_resets_the_ladder(setup: Setup) -> None:
    state = BotState()
    step(message(ALICE, "scam"), state, setup, T0)
    step(message(LIN, "/pardon @alice:localhost"), state, setup, T0 + timedelta(minutes=1))
    after = step(message(ALICE, "scam"), state, setup, T0 + timedelta(minutes=2))
    assert kinds(after) == ["violation", "warned"]


def test_appeal_makes_an_operator_task(setup: Setup) -> None:
    d = step(message(ALICE, "申诉 我发的是官网链接"), BotState(), setup, T0)
    assert kinds(d) == ["appeal_filed"]
    assert any(isinstance(a, OperatorTask) and "官网" in a.content for a in d.actions)


def test_entry_question_right_wrong_and_timeout(setup: Setup) -> None:
    state = BotState()
    asked = step(Request("r1", ALICE), state, setup, T0)
    assert asked.actions[0].private_to == ALICE and kinds(asked) == ["join_challenged"]
    ok = step(message(ALICE, " ＴＥＡ "), state, setup, T0 + timedelta(minutes=1))
    assert ok.actions == (DecideJoin("r1", ALICE, True, ""),)
    step(Request("r2", BOB), state, setup, T0)
    wrong = step(message(BOB, "coffee"), state, setup, T0 + timedelta(minutes=1))
    assert wrong.actions[0] == DecideJoin("r2", BOB, False, "wrong answer")
    step(Request("r3", "matrix:@carol:localhost"), state, setup, T0)
    assert step(Tick(), state, setup, T0 + timedelta(minutes=4)).actions == ()
    late = step(Tick(), state, setup, T0 + timedelta(minutes=6))
    assert late.actions == (DecideJoin("r3", "matrix:@carol:localhost", False, "timeout"),)


def test_the_bot_ignores_itself(setup: Setup) -> None:
    assert not decide(message("matrix:@bot:localhost", "scam"), BotState(), setup, T0)


def test_weekly_leaderboard_posts_once_at_its_hour(setup: Setup) -> None:
    state = BotState()
    step(message(BOB, "签到"), state, setup, T0 - timedelta(days=1))
    monday_9 = T0 - timedelta(hours=8)  # 09:00 Monday in Shanghai: before 10:00
    assert step(Tick(), state, setup, monday_9).actions == ()
    posted = step(Tick(), state, setup, T0)
    assert "本周积分榜" in posted.actions[0].text and kinds(posted) == ["leaderboard_posted"]
    assert step(Tick(), state, setup, T0 + timedelta(hours=1)).actions == ()


def test_the_same_text_in_three_groups_is_an_ad(setup: Setup) -> None:
    from dataclasses import replace

    state = BotState()
    ad = "超低价茶叶批发，欢迎来看看我们的店铺"
    found = []
    for i, community in enumerate(("tea", "tea-2", "tea-3")):
        here = replace(setup, community=community)
        at = T0 + timedelta(minutes=i)
        found.append(kinds(step(message(BOB, ad, community=community), state, here, at)))
    assert ["violation" in k for k in found] == [False, False, True]
    short = [
        kinds(step(message(ALICE, "早上好", community=c), state, replace(setup, community=c), T0))
        for c in ("tea", "tea-2", "tea-3")
    ]
    assert not any("violation" in k for k in short)  # too short to be an ad


def test_no_links_in_a_new_members_first_hours(setup: Setup) -> None:
    from dataclasses import replace

    rules = setup.config.moderation.model_copy(
        update={"new_member_hours": 24, "allowed_domains": None}
    )
    here = replace(setup, config=setup.config.model_copy(update={"moderation": rules}))
    state = BotState()
    step(join(ALICE), state, here, T0)
    early = step(message(ALICE, "look www.example.com/tea"), state, here, T0 + timedelta(hours=2))
    assert early.records[0].meta["rule"] == "new_member_link"
    later = step(message(ALICE, "look www.example.com/tea"), state, here, T0 + timedelta(hours=25))
    assert "violation" not in kinds(later)


def test_a_command_does_not_carry_an_ad_past_moderation(setup: Setup) -> None:
    d = step(message(BOB, "/faq 来玩 casino"), BotState(), setup, T0)
    assert kinds(d)[:2] == ["violation", "warned"]
