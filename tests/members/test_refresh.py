"""`refresh` records tier and state changes once, on SQLite and PostgreSQL; the flow counts them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.domain.events import CANONICAL_FIELDS
from shequn.members.flow import Flow, state_flow
from shequn.services import members
from shequn.services.imports import import_path
from shequn.services.members import refresh
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace

HEADER = ",".join(CANONICAL_FIELDS) + "\n"
ROWS = [
    "2026-10-01T09:00:00Z,club,wx:a,join,,,,,,,,,,e1",
    "2026-10-01T10:00:00Z,club,wx:a,message,,,,m1,,,,,hi,e2",
    "2026-10-02T10:00:00Z,club,wx:a,order,,,,,,,o1,30,,e3",
    "2026-10-01T09:00:00Z,club,wx:b,join,,,,,,,,,,e4",
    "2026-10-25T10:00:00Z,club,wx:b,message,,,,m2,m1,,,,ok,e5",
]


def _load(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n")
    import_path(ws, path)
    (ws.root / "shequn.toml").write_text(
        (ws.root / "shequn.toml").read_text() + '\n[[tiers]]\nname = "buyer"\nmin_orders = 1\n'
    )


# Both ways `refresh` writes its events: inserted directly (few), staged in bulk (many).
WRITES = pytest.mark.parametrize("bulk", [False, True], ids=["direct", "bulk"], indirect=True)


@pytest.fixture
def bulk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if request.param:
        monkeypatch.setattr(members, "BULK_ROWS", 1)
    return bool(request.param)


def _recorded(ws: Workspace) -> list[tuple]:
    query = (
        select(events.c.member, events.c.type, events.c.text)
        .where(events.c.type.in_(("tier_changed", "state_changed", "churn_risk_crossed")))
        .order_by(events.c.type, events.c.member, events.c.id)
    )
    with read_transaction(ws.engine) as conn:
        return [tuple(r) for r in conn.execute(query)]


@WRITES
def test_refresh_records_changes_once(ws: Workspace, tmp_path: Path, bulk: bool) -> None:
    _load(ws, tmp_path)
    ws = Workspace.open(ws.root)
    first = FrozenClock(datetime(2026, 11, 1, tzinfo=UTC))
    result = refresh(ws, first)
    # a: idle since 10-01 10:00 (30.6 days): at_risk; b: spoke 10-25 (6.6 days ago):
    # active. Too little history for a model: the hiatus rule gives a 30.6/14 -> 1.0
    # (band 0.9) and b 6.6/14 = 0.47 (no band).
    assert (result.members, result.tier_changes, result.state_changes) == (2, 1, 2)
    assert result.risk_rises == 1
    assert refresh(ws, first).state_changes == 0
    assert refresh(ws, first, cold=True).state_changes == 0  # cold equals kept
    later = FrozenClock(datetime(2026, 12, 15, tzinfo=UTC))
    again = refresh(ws, later)
    assert again.state_changes == 2  # a churned (74 days), b at risk (51)
    assert again.risk_rises == 2  # a's risk is gone (churned): "0"; b reaches 0.9
    assert _recorded(ws) == [
        ("wx:a", "churn_risk_crossed", "0.9"),
        ("wx:a", "churn_risk_crossed", "0"),
        ("wx:b", "churn_risk_crossed", "0.9"),
        ("wx:a", "state_changed", "at_risk"),
        ("wx:a", "state_changed", "churned"),
        ("wx:b", "state_changed", "active"),
        ("wx:b", "state_changed", "at_risk"),
        ("wx:a", "tier_changed", "buyer"),
    ]
    with read_transaction(ws.engine) as conn:
        flow = state_flow(conn, to_micros(later.at), to_micros(later.at) + 1)
        everything = state_flow(conn, 0, to_micros(later.at) + 1)
    assert flow == [Flow("active", "at_risk", 1), Flow("at_risk", "churned", 1)]
    assert sum(f.count for f in everything) == 4


@WRITES
def test_refresh_rows_carry_the_entry_shape(ws: Workspace, tmp_path: Path, bulk: bool) -> None:
    """Every column of what the first refresh records, read back."""
    _load(ws, tmp_path)
    ws = Workspace.open(ws.root)
    first = FrozenClock(datetime(2026, 11, 1, tzinfo=UTC))
    refresh(ws, first)
    query = (
        select(events.c.ts, events.c.community, events.c.member, events.c.type, events.c.text)
        .add_columns(events.c.amount, events.c.source, events.c.source_id, events.c.meta)
        .where(events.c.source == "sop")
        .order_by(events.c.type, events.c.member)
    )
    with read_transaction(ws.engine) as conn:
        rows = [tuple(r) for r in conn.execute(query)]
    now = 1_793_491_200_000_000  # 2026-11-01T00:00Z in µs
    # member, type, text, meta; every row at `now` in club, no amount, keyed by all three.
    expected = [
        ("wx:a", "churn_risk_crossed", "0.9", '{"from": "0", "risk": 1.0}'),
        ("wx:a", "state_changed", "at_risk", '{"from": null}'),
        ("wx:b", "state_changed", "active", '{"from": null}'),
        ("wx:a", "tier_changed", "buyer", '{"from": null, "reason": "meets buyer"}'),
    ]
    assert rows == [
        (now, "club", member, kind, text, None, "sop", f"{kind}|{member}|{now}", meta)
        for member, kind, text, meta in expected
    ]
