"""The recorded state of members comes from the analytics copy's `member_records`,
on SQLite and PostgreSQL: only the SOP engine's records, up to the instant, merged
member keys folded into their person."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from shequn.analytics.sync import open_copy
from shequn.clock import to_micros
from shequn.members.recorded import recorded
from shequn.services.members import merge
from shequn.sop import journal
from shequn.store.engine import write_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.members.test_refresh import _load


def _at(day: str) -> int:
    return to_micros(datetime.fromisoformat(day).replace(tzinfo=UTC))


def test_records_are_read_from_the_copy(ws: Workspace, tmp_path: Path) -> None:
    _load(ws, tmp_path)  # wx:a and wx:b, imported
    ws = Workspace.open(ws.root)
    rows = [
        journal.entry("points_added", _at("2026-10-03"), "club", "p1", member="wx:a", amount="5"),
        journal.entry("points_added", _at("2026-10-04"), "club", "p2", member="wx:b", amount="7"),
        journal.entry("tag_added", _at("2026-10-03"), "club", "t1", member="wx:a", text="vip"),
        journal.entry("tag_added", _at("2026-10-03"), "club", "t2", member="wx:a", text="new"),
        journal.entry("tag_removed", _at("2026-10-05"), "club", "t3", member="wx:a", text="new"),
        journal.entry("tier_changed", _at("2026-10-03"), "club", "r1", member="wx:a", text="buyer"),
        journal.entry("tier_changed", _at("2026-10-06"), "club", "r2", member="wx:b", text="vip"),
        journal.entry("state_changed", _at("2026-10-03"), "club", "s1", member="wx:b", text="new"),
        # After the instant read below: not yet recorded then.
        journal.entry("points_added", _at("2026-10-20"), "club", "p3", member="wx:a", amount="9"),
    ]
    with write_transaction(ws.engine) as conn:
        journal.record(conn, rows)
        # A tier_changed that an import brought, not the SOP engine: not a record.
        conn.execute(
            insert(events).values(
                ts=_at("2026-10-07"),
                community="club",
                member="wx:a",
                type="tier_changed",
                text="imported",
                source="csv",
                source_id="x1",
            )
        )
    with open_copy(ws) as (con, _result):
        before = recorded(con, _at("2026-10-10")).sort("member")
    assert before.rows() == [
        ("wx:a", 5, "vip", "buyer", None, None),
        ("wx:b", 7, None, "vip", "new", None),
    ]
    # wx:b merged into wx:a: one person, points summed, the later tier wins.
    merge(ws, "wx:a", ["wx:b"])
    with open_copy(ws) as (con, _result):
        merged = recorded(con, _at("2026-10-30"))
    assert merged.rows() == [("wx:a", 21, "vip", "vip", "new", None)]
