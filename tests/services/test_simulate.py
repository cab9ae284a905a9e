"""`shequn simulate` into a workspace: what is generated is what is stored, once."""

from __future__ import annotations

from sqlalchemy import func, select

from shequn.services.simulate import simulate_into
from shequn.simulate import count_events, default_spec
from shequn.store.engine import read_transaction
from shequn.store.schema import events, members
from shequn.workspace import Workspace


def test_simulated_history_is_stored_once(ws: Workspace) -> None:
    first = simulate_into(ws, communities=1, days=14, events=3_000, seed=5)
    spec = default_spec(n_communities=1, days=14, seed=5, target_events=3_000)
    expected = count_events(spec)
    assert first.read == first.added == sum(expected.values())
    with read_transaction(ws.engine) as conn:
        by_type = dict(
            conn.execute(select(events.c.type, func.count()).group_by(events.c.type)).all()
        )
        named = conn.execute(
            select(func.count()).select_from(members).where(members.c.name.is_not(None))
        ).scalar()
        people = conn.execute(select(func.count()).select_from(members)).scalar()
    assert by_type == {k: v for k, v in expected.items() if v}
    assert named == people > 0  # every simulated member has a display name
    again = simulate_into(ws, communities=1, days=14, events=3_000, seed=5)
    assert (again.read, again.added) == (first.read, 0)
