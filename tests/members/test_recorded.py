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


def _reference(records: list[tuple], now: int) -> dict[str, tuple]:
    """The fold, by hand: records (id, ts, member, type, text, points) in id order."""
    out: dict[str, dict] = {}
    for _id, ts, member, kind, text, points in sorted(records, key=lambda r: (r[1], r[0])):
        if ts > now:
            continue
        person = out.setdefault(member, {"points": None, "tags": {}, "last": {}})
        if kind == "points_added":
            person["points"] = (person["points"] or 0) + points
        elif kind in ("tag_added", "tag_removed"):
            person["tags"][text] = kind == "tag_added"
        else:
            person["last"][kind] = text
    return {
        member: (
            p["points"],
            ",".join(sorted(t for t, on in p["tags"].items() if on)) or None,
            *(p["last"].get(k) for k in ("tier_changed", "state_changed", "churn_risk_crossed")),
        )
        for member, p in out.items()
    }


def test_the_fold_equals_a_fold_by_hand() -> None:
    import random

    import duckdb

    from shequn.analytics.copy import create_schema

    rng = random.Random(4)
    kinds = ["points_added", "tag_added", "tag_removed", "tier_changed", "state_changed"]
    records = []
    for i in range(400):
        kind = rng.choice([*kinds, "churn_risk_crossed"])
        text = {
            "tag_added": rng.choice(["vip", "new", "团长"]),
            "tag_removed": rng.choice(["vip", "new", "团长"]),
            "tier_changed": rng.choice(["buyer", "regular", None]),
            "state_changed": rng.choice(["active", "silent"]),
            "churn_risk_crossed": rng.choice(["0.5", "0.9", None]),
        }.get(kind)
        points = rng.randint(1, 20) if kind == "points_added" else None
        # Ties in time: the later id wins.
        records.append(
            (i + 1, rng.randrange(30) * 1000, f"k{rng.randrange(12)}", kind, text, points)
        )
    con = duckdb.connect()
    create_schema(con)
    con.executemany("INSERT INTO member_records VALUES (?, ?, ?, ?, ?, ?)", records)
    for now in (0, 14_000, 29_000):
        folded = recorded(con, now)
        assert {r[0]: r[1:] for r in folded.rows()} == _reference(records, now)
