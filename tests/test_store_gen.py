"""The generator of the 1M-member benchmark workspace (benchmarks/store_gen.py) stores
what it promises: the events asked for, each member joining once before anything else
they do, replies to messages that exist."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from shequn.store.schema import events, members
from shequn.workspace import Workspace


def _store_gen():  # type: ignore[no-untyped-def]
    path = Path(__file__).parents[1] / "benchmarks" / "store_gen.py"
    spec = importlib.util.spec_from_file_location("store_gen", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_workspace_has_the_members_and_events_asked_for(tmp_path: Path) -> None:
    _store_gen().store_into(tmp_path / "ws", members=300, events=5_000, seed=1)
    ws = Workspace.open(tmp_path / "ws")
    try:
        with ws.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(events)) == 5_000
            assert conn.scalar(select(func.count()).select_from(members)) == 300
            rows = conn.execute(
                select(
                    events.c.member, events.c.type, events.c.ts, events.c.message_id
                ).add_columns(events.c.reply_to, events.c.amount, events.c.community)
            ).all()
    finally:
        ws.close()
    joins = [r for r in rows if r.type == "join"]
    assert len(joins) == len({r.member for r in joins}) == 300  # each member joins once
    joined = {r.member: r.ts for r in joins}
    assert all(r.ts >= joined[r.member] for r in rows)  # nothing before one's join
    said = {r.message_id for r in rows if r.type == "message"}
    replies = [r.reply_to for r in rows if r.reply_to is not None]
    assert replies and set(replies) <= said
    assert all(r.amount is not None for r in rows if r.type == "order")
    assert {r.community for r in rows} == {"c1", "c2", "c3"}


def test_the_year_starts_where_asked(tmp_path: Path) -> None:
    start = datetime(2025, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    _store_gen().store_into(tmp_path / "ws", members=50, events=800, seed=2, start=start)
    ws = Workspace.open(tmp_path / "ws")
    try:
        with ws.engine.connect() as conn:
            first, last = conn.execute(select(func.min(events.c.ts), func.max(events.c.ts))).one()
    finally:
        ws.close()
    began, day = int(start.timestamp() * 1_000_000), 86_400_000_000
    assert began <= first and last < began + 365 * day  # all in the year from `start`
    assert last > began + 300 * day  # and over the whole of it
