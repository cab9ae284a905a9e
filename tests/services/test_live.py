"""Live ingest on every engine: idempotent by platform ids, the position in the same
transaction, unbound groups left out, reconciliation appended once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.config import Community, Settings
from shequn.domain.events import Event
from shequn.platforms.base import Batch
from shequn.services import live
from shequn.services.sop import tick
from shequn.store.engine import read_transaction
from shequn.store.schema import events, members
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import GROUP_WELCOME, at, write_playbook

ROOM, OTHER = "!room:localhost", "!other:localhost"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def bound(ws: Workspace) -> Workspace:
    ws.settings = Settings(
        communities=[Community(key="fans", platform="matrix", group=ROOM)],
    )
    return ws


def ev(kind: str, user: str, source_id: str, minutes: int = 0, room: str = ROOM, **kw) -> Event:
    return Event(
        ts=T0 + timedelta(minutes=minutes),
        community=room,
        type=kind,
        member=f"matrix:{user}",
        source_id=source_id,
        **kw,
    )


def stored(ws: Workspace) -> list[tuple]:
    with read_transaction(ws.engine) as conn:
        rows = conn.execute(
            select(events.c.community, events.c.type, events.c.member, events.c.source_id)
            .where(events.c.source == "matrix")
            .order_by(events.c.id)
        )
        return [tuple(r) for r in rows]


def test_ingest_maps_groups_keeps_position_and_is_idempotent(bound: Workspace) -> None:
    batch = Batch(
        (
            ev("join", "@a:x", "$1", inviter="matrix:@b:x", meta={"name": "Ann"}),
            ev("message", "@a:x", "$2", 1, message_id="$2", text="hi"),
            ev("message", "@z:x", "$3", 2, room=OTHER, text="elsewhere"),
        ),
        position="s1",
    )
    first = live.ingest(bound, "matrix", batch)
    assert (first.added, first.repeated, first.unbound) == (2, 0, 1)
    assert live.position(bound, "matrix") == "s1"
    again = live.ingest(bound, "matrix", Batch(batch.events, "s2"))
    assert (again.added, again.repeated, again.unbound) == (0, 2, 1)
    assert live.position(bound, "matrix") == "s2"
    assert stored(bound) == [
        ("fans", "join", "matrix:@a:x", "$1"),
        ("fans", "message", "matrix:@a:x", "$2"),
    ]
    with read_transaction(bound.engine) as conn:
        row = conn.execute(select(events).where(events.c.source_id == "$1")).one()
        who = conn.execute(select(members.c.name, members.c.platform)).all()
    assert (row.inviter, json.loads(row.meta)) == ("matrix:@b:x", {"name": "Ann"})
    assert who == [("Ann", "matrix")]


def test_a_failed_batch_stores_neither_events_nor_position(bound: Workspace) -> None:
    live.ingest(bound, "matrix", Batch((ev("join", "@a:x", "$1"),), "s1"))
    broken = Batch((ev("message", "@a:x", "$2"), ev("message", "@a:x", None)), "s2")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="source_id"):
        live.ingest(bound, "matrix", broken)
    assert live.position(bound, "matrix") == "s1"
    assert [r[3] for r in stored(bound)] == ["$1"]


def test_reconcile_appends_the_difference_once(bound: Workspace) -> None:
    live.ingest(
        bound,
        "matrix",
        Batch(
            (ev("join", "@a:x", "$1"), ev("join", "@b:x", "$2"), ev("leave", "@b:x", "$3", 5)),
            "s",
        ),
    )
    # on the platform: a (logged) and c (joined while we were away); b left (logged)
    now = T0 + timedelta(hours=1)
    first = live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now)
    assert (first.joined, first.left) == (["matrix:@c:x"], [])
    again = live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now)
    assert (again.joined, again.left) == ([], [])
    assert stored(bound)[-1] == ("fans", "join", "matrix:@c:x", "reconcile:fans:matrix:@c:x:join:0")
    # c leaves unseen, then comes back unseen: a leave, then a second join, each once
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x"}, now).left == ["matrix:@c:x"]
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now).joined == ["matrix:@c:x"]
    reconciled = [r[3] for r in stored(bound) if r[3].startswith("reconcile:")]
    assert reconciled == [
        "reconcile:fans:matrix:@c:x:join:0",
        "reconcile:fans:matrix:@c:x:leave:1",
        "reconcile:fans:matrix:@c:x:join:2",
    ]
    with read_transaction(bound.engine) as conn:
        metas = conn.scalars(select(events.c.meta).where(events.c.source_id.like("reconcile:%")))
        assert set(metas) == {'{"reconciled": true}'}


def test_a_difference_must_be_seen_twice_when_confirming(bound: Workspace) -> None:
    """A join on the member list whose event is still on its way is not appended;
    one still missing at the next run is."""
    live.ingest(bound, "matrix", Batch((ev("join", "@a:x", "$1"),), "s"))
    now = T0 + timedelta(hours=1)
    first = live.reconcile(bound, "matrix", ROOM, {"@a:x", "@late:x", "@lost:x"}, now, ())
    assert (first.joined, first.differences) == ([], {"join:matrix:@late:x", "join:matrix:@lost:x"})
    live.ingest(bound, "matrix", Batch((ev("join", "@late:x", "$2"),), "s2"))  # it arrives
    second = live.reconcile(
        bound, "matrix", ROOM, {"@a:x", "@late:x", "@lost:x"}, now, first.differences
    )
    assert (second.joined, second.differences) == (["matrix:@lost:x"], frozenset())
    joins = [r[2] for r in stored(bound) if r[1] == "join"]
    assert joins == ["matrix:@a:x", "matrix:@late:x", "matrix:@lost:x"]


def test_an_event_arriving_after_its_tick_still_triggers_its_step(bound: Workspace) -> None:
    """A join stored after the tick that covered its time (the listener was
    reconnecting) is welcomed at the next tick, once."""
    write_playbook(bound, "welcome", GROUP_WELCOME)
    clock = FrozenClock(T0)
    tick(bound, clock)  # the first tick only records the time
    at(clock, "2026-11-01T12:10:00+00:00")
    assert tick(bound, clock).queued == 0
    live.ingest(bound, "matrix", Batch((ev("join", "@late:x", "$9", 5),), "s1"))
    at(clock, "2026-11-01T12:11:00+00:00")
    assert tick(bound, clock).queued == 1
    at(clock, "2026-11-01T12:12:00+00:00")
    live.ingest(bound, "matrix", Batch((ev("join", "@late:x", "$9", 5),), "s2"))  # replayed
    assert tick(bound, clock).queued == 0
    with read_transaction(bound.engine) as conn:
        targets = conn.execute(select(outbox.c.target, outbox.c.action)).all()
    assert targets == [("matrix:@late:x", "send_group")]


def test_each_group_feeds_its_own_community(ws: Workspace) -> None:
    ws.settings = Settings(
        communities=[
            Community(key="fans", platform="matrix", group=ROOM),
            Community(key="club", platform="matrix", group=OTHER),
            Community(key="tg", platform="telegram", group=ROOM),  # same id, other platform
        ]
    )
    batch = Batch((ev("join", "@a:x", "$1"), ev("join", "@b:x", "$2", room=OTHER)), "s")
    assert live.ingest(ws, "matrix", batch).added == 2
    assert [(r[0], r[2]) for r in stored(ws)] == [("fans", "matrix:@a:x"), ("club", "matrix:@b:x")]


def test_the_first_member_list_is_a_baseline_that_welcomes_nobody(bound: Workspace) -> None:
    """Binding a group that already has members (QQ has no history to read): they are
    recorded as members, but no newcomer playbook fires for them; a member who joins
    unseen after that baseline is welcomed."""
    write_playbook(bound, "welcome", GROUP_WELCOME)
    clock = FrozenClock(T0)
    tick(bound, clock)  # the first tick only records the time
    at(clock, "2026-11-01T12:10:00+00:00")
    baseline = live.reconcile(bound, "matrix", ROOM, {"@a:x", "@b:x"}, clock.now())
    assert baseline.joined == ["matrix:@a:x", "matrix:@b:x"]
    at(clock, "2026-11-01T12:11:00+00:00")
    assert tick(bound, clock).queued == 0
    later = live.reconcile(bound, "matrix", ROOM, {"@a:x", "@b:x", "@c:x"}, clock.now())
    assert later.joined == ["matrix:@c:x"]
    at(clock, "2026-11-01T12:12:00+00:00")
    assert tick(bound, clock).queued == 1
    with read_transaction(bound.engine) as conn:
        targets = conn.execute(select(outbox.c.target)).scalars().all()
        joins = select(events.c.source_id).where(events.c.type == "join").order_by(events.c.id)
        ids = conn.execute(joins).scalars().all()
    assert targets == ["matrix:@c:x"]
    assert ids == [
        "baseline:reconcile:fans:matrix:@a:x:join:0",
        "baseline:reconcile:fans:matrix:@b:x:join:0",
        "reconcile:fans:matrix:@c:x:join:0",
    ]
