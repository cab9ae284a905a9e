"""Live ingest on every engine: idempotent by platform ids, the position in the same
transaction, unbound groups left out, reconciliation appended once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shequn.config import Community, Settings
from shequn.domain.events import Event
from shequn.platforms.base import Batch
from shequn.services import live
from shequn.store.engine import read_transaction
from shequn.store.schema import events, members
from shequn.workspace import Workspace

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
            (ev("join", "@a:x", "$1"), ev("join", "@b:x", "$2"), ev("leave", "@b:x", "$3", 5)), "s"
        ),
    )
    # on the platform: a (logged) and c (joined while we were away); b left (logged)
    now = T0 + timedelta(hours=1)
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now) == (["matrix:@c:x"], [])
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now) == ([], [])
    assert stored(bound)[-1] == ("fans", "join", "matrix:@c:x", "reconcile:fans:matrix:@c:x:join:0")
    # c leaves unseen, then comes back unseen: a leave, then a second join, each once
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x"}, now) == ([], ["matrix:@c:x"])
    assert live.reconcile(bound, "matrix", ROOM, {"@a:x", "@c:x"}, now) == (["matrix:@c:x"], [])
    reconciled = [r[3] for r in stored(bound) if r[3].startswith("reconcile:")]
    assert reconciled == [
        "reconcile:fans:matrix:@c:x:join:0",
        "reconcile:fans:matrix:@c:x:leave:1",
        "reconcile:fans:matrix:@c:x:join:2",
    ]
    with read_transaction(bound.engine) as conn:
        metas = conn.scalars(select(events.c.meta).where(events.c.source_id.like("reconcile:%")))
        assert {m for m in metas} == {'{"reconciled": true}'}
