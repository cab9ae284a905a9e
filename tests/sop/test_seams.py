"""The typed outbox row, the engine's state store, the member-name lookup, and a tick
that loads the lifecycle once."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import insert

from shequn.clock import FrozenClock
from shequn.platforms.base import Outgoing
from shequn.services.sop import tick
from shequn.sop import lifecycle, outbox, positions
from shequn.sop.outbox import OutboxRow
from shequn.store import members
from shequn.store import state as store_state
from shequn.store.engine import write_transaction
from shequn.store.schema import members as members_table
from shequn.workspace import Workspace
from tests.sop.helpers import at


def _row(key: str, **changes: object) -> OutboxRow:
    built = outbox.row(
        key=key,
        playbook="pb",
        step="s",
        community="club",
        target="wx:a",
        platform="console",
        action="send_private",
        payload={"text": "你好", "member": "wx:a"},
        due_ts=100,
        now=90,
        late=True,
    )
    return msgspec.structs.replace(built, **changes)


def test_an_outbox_row_reads_back_as_the_row_built(ws: Workspace) -> None:
    built = [_row("a"), _row("b", state="dead", late=False, reason="template: x")]
    with write_transaction(ws.engine) as conn:
        assert outbox.enqueue(conn, built) == built
        assert outbox.enqueue(conn, built) == []  # the keys are known: nothing new
        ready = outbox.ready(conn, now=100, limit=10)
        again = outbox.by_key(conn, "b")
    assert [msgspec.structs.replace(r, id=None) for r in ready] == built[:1]  # b is dead
    assert ready[0].id is not None and ready[0].late is True
    assert again is not None and msgspec.structs.replace(again, id=None) == built[1]
    assert built[0].payload == '{"member": "wx:a", "text": "你好"}'
    assert built[0].outgoing() == Outgoing(
        "a", "club", "wx:a", "send_private", {"member": "wx:a", "text": "你好"}
    )


def test_state_values_by_name(ws: Workspace) -> None:
    with write_transaction(ws.engine) as conn:
        assert store_state.get(conn, "adapter:telegram") is None
        store_state.put(conn, "adapter:telegram", "17")
        store_state.put(conn, "adapter:telegram", "18")
        store_state.put(conn, "last_tick", "5")
        assert store_state.get(conn, "adapter:telegram") == "18"
        assert store_state.get(conn, "last_tick") == "5"


def test_member_names_in_chunks(ws: Workspace) -> None:
    rows = [
        {"key": f"wx:{i:04d}", "person": f"wx:{i:04d}", "name": f"n{i}", "first_ts": i}
        for i in range(1203)
    ]
    rows[7]["name"] = None
    with write_transaction(ws.engine) as conn:
        conn.execute(insert(members_table), rows)
        found = members.names(conn, [f"wx:{i:04d}" for i in (*range(1203), 0, 5)] + ["wx:nobody"])
    assert len(found) == 1203
    assert (found["wx:0000"], found["wx:0007"], found["wx:1202"]) == ("n0", None, "n1202")
    assert "wx:nobody" not in found


def test_a_tick_loads_the_plan_and_positions_once(
    ws: Workspace, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan is validated and the positions read once per tick (a context object
    carries them from `advance` to the routine scopes)."""
    calls = {"plan": 0, "positions": 0}
    real_plan, real_positions = lifecycle.load_plan, positions.positions

    def count_plan(*args: object, **kwargs: object) -> object:
        calls["plan"] += 1
        return real_plan(*args, **kwargs)

    def count_positions(*args: object, **kwargs: object) -> object:
        calls["positions"] += 1
        return real_positions(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "load_plan", count_plan)
    monkeypatch.setattr(lifecycle, "positions", count_positions)
    (ws.root / "playbooks").mkdir(exist_ok=True)
    (ws.root / "playbooks" / "hi.yaml").write_text(
        "name: hi\napplies_to: {communities: ['*']}\ntrigger: {type: member_joined}\n"
        "steps:\n  - id: hi\n    at: '+0m'\n    action: {type: send_group, text: hi}\n"
        "    owner: alice\n    emergency: {do: x, alert: bob}\n",
        encoding="utf-8",
    )
    tick(ws, clock)  # the first tick only sets the window's start
    calls.update(plan=0, positions=0)
    result = tick(ws, at(clock, "2026-11-01T12:01:00+00:00"))
    assert (result.playbooks, calls) == (1, {"plan": 1, "positions": 1})


def test_the_row_type_has_every_column_of_the_table() -> None:
    from shequn.store.sop_schema import outbox as table

    assert sorted(OutboxRow.__struct_fields__) == sorted(c.name for c in table.columns)
