"""Sign-up by bot command (`报名` / `/signup`): the decision on hand-checked cases, the
canonical event it records in the real store, and the state replayed from it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from shequn.activities.model import Activity
from shequn.bot.core import step
from shequn.bot.decision import Send
from shequn.bot.setup import Setup, load
from shequn.bot.state import BotState
from shequn.clock import FrozenClock
from shequn.config import load_settings
from shequn.services import bot as service
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.bot.conftest import T0, make_workspace, message

ALICE = "matrix:@alice:localhost"


def activity(name: str, title: str, start: datetime, community: str = "tea") -> Activity:
    return Activity.model_validate(
        {
            "name": name,
            "title": title,
            "community": community,
            "kind": "sharing",
            "start": start,
            "end": start + timedelta(hours=1),
            "owner": "lin",
            "goal": {"metric": "signups", "target": 10},
        }
    )


# T0 is 17:00 Monday 7 Dec in Shanghai; the talk is Wednesday 20:00 there.
TALK = activity("talk", "周三分享会", datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
MEETUP = activity("meetup", "Meetup", datetime(2026, 12, 12, 6, 0, tzinfo=UTC))
PAST = activity("past", "上周分享", T0 - timedelta(days=7))


def with_activities(setup: Setup, *found: Activity) -> Setup:
    return replace(setup, activities=found)


def replies(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.text for a in decision.actions if isinstance(a, Send)]


def test_signup_records_the_canonical_event_once(setup: Setup) -> None:
    mine = with_activities(setup, TALK, PAST)
    state = BotState()
    said = step(message(ALICE, "报名", meta={"name": "Alice"}), state, mine, T0)
    assert replies(said) == ["Alice 报名成功：「周三分享会」12-09 20:00 开始。"]
    (record,) = said.records
    assert (record.type, record.member, record.key) == ("activity_signup", ALICE, f"talk|{ALICE}")
    assert record.meta == {"activity": "talk", "via": "bot"}
    again = step(message(ALICE, "/signup@shequn_bot", meta={"name": "Alice"}), state, mine, T0)
    assert replies(again) == ["Alice 已经报名了「周三分享会」。"]
    assert again.records == ()


def test_none_open_several_open_named_and_closed(setup: Setup) -> None:
    state = BotState()  # each asks once: no flood
    none = step(message("matrix:@m1:localhost", "报名"), state, with_activities(setup, PAST), T0)
    assert replies(none) == ["现在没有可报名的活动。"]
    both = with_activities(setup, TALK, MEETUP, PAST)
    which = step(message("matrix:@m2:localhost", "报名"), state, both, T0)
    assert replies(which) == [
        "有几个活动可以报名，请写上活动名：报名 活动名。可选：周三分享会（talk）、Meetup（meetup）"
    ]
    assert which.records == ()
    named = step(message("matrix:@m3:localhost", "/signup meetup"), state, both, T0)
    assert [r.meta["activity"] for r in named.records] == ["meetup"]
    by_title = step(message("matrix:@m4:localhost", "报名 周三分享会"), state, both, T0)
    assert [r.meta["activity"] for r in by_title.records] == ["talk"]
    closed = step(message("matrix:@m5:localhost", "报名 past"), state, both, T0)
    assert replies(closed) == ["「上周分享」已结束，报名已关闭。"]
    unknown = step(message("matrix:@m6:localhost", "报名 nope"), state, both, T0)
    assert replies(unknown) == [
        "没有叫「nope」的活动。可报名：周三分享会（talk）、Meetup（meetup）"
    ]
    # Still open while it runs, closed from its end on.
    during = T0 + timedelta(days=2, hours=3, minutes=30)  # Wednesday 20:30 local
    late = step(message("matrix:@bob:localhost", "报名 talk"), state, both, during)
    assert [r.type for r in late.records] == ["activity_signup"]
    after = step(
        message("matrix:@carol:localhost", "报名 talk"), state, both, during + timedelta(hours=1)
    )
    assert replies(after) == ["「周三分享会」已结束，报名已关闭。"]


ACTIVITY_FILE = """
name: {name}
title: {name}
community: {community}
kind: meetup
start: 2026-12-09T20:00:00
end: 2026-12-09T21:00:00
owner: lin
goal: {{metric: signups, target: 5}}
"""


def test_the_setup_holds_its_own_communitys_activities(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws")
    (root / "activities").mkdir()
    for name, community in (("talk", "tea"), ("elsewhere", "coffee")):
        text = ACTIVITY_FILE.format(name=name, community=community)
        (root / "activities" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (root / "activities" / "broken.yaml").write_text("name: [", encoding="utf-8")
    setups = load(root, load_settings(root))
    assert [a.name for a in setups["tea"].activities] == ["talk"]


def test_the_signup_is_stored_as_canonical_and_replayed(ws: Workspace, setup: Setup) -> None:
    mine = with_activities(setup, TALK)
    state = BotState()
    decision = step(message(ALICE, "报名"), state, mine, T0)
    clock = FrozenClock(T0)
    service.record(ws, [decision], clock)
    service.record(ws, [decision], clock)  # recorded twice: stored once
    query = select(
        events.c.type, events.c.member, events.c.content_id, events.c.source, events.c.source_id
    ).where(events.c.type == "activity_signup")
    with read_transaction(ws.engine) as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    assert rows == [("activity_signup", ALICE, "talk", "bot", f"activity_signup|talk|{ALICE}")]
    replayed = service.load_state(ws, clock)
    assert replayed.signups == {("talk", ALICE)}
    again = step(message(ALICE, "报名", meta={"name": "Alice"}), replayed, mine, T0)
    assert replies(again) == ["Alice 已经报名了「周三分享会」。"]
    assert again.records == ()
