"""Lifecycle stages: the walk by time and metrics, idempotent ticks, operator moves, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shequn.cli import app
from shequn.clock import FrozenClock
from shequn.errors import InputError
from shequn.services.lifecycle import set_stage
from shequn.services.sop import tick
from shequn.sop import lifecycle, positions
from shequn.sop.lifecycle_model import check, load_plan
from shequn.workspace import Workspace
from tests.sop.helpers import at
from tests.sop.lifecycle_helpers import add, configure, local, plan, sop_events

WALK = """
    stages:
      - name: prepare
      - name: cold_start
        enter: {after: 2d, since: created}
        playbooks: [newcomer-7day]
      - name: hot
        enter:
          match: all
          after: 1d
          metrics:
            - {metric: members, above: 3, days: 2}
      - name: dissolve
        enter: {from: any, metrics: [{metric: active_rate, below: 0.01, days: 30}]}
"""
STATE_TYPES = ("community_created", "stage_entered", "metric_crossed")


def _night(clock: FrozenClock, day: int) -> FrozenClock:
    return at(clock, f"2026-11-{day:02d}T00:30:00+08:00")


def test_a_community_walks_prepare_cold_start_hot(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws)
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))  # configured, no events yet
    add(ws, [("10-31 09:00", "wx:a", "join"), ("10-31 10:00", "wx:b", "join")], "d1")
    tick(ws, _night(clock, 1))  # a day after creation: still prepare
    add(ws, [("11-01 09:00", "wx:c", "join")], "d2")
    tick(ws, _night(clock, 2))  # two days: cold_start; members 3 is not above 3
    add(ws, [("11-02 09:00", "wx:d", "join")], "d3")
    tick(ws, _night(clock, 3))  # members 4: held one day of two
    tick(ws, _night(clock, 4))  # held two days and a day in cold_start: hot
    tick(ws, _night(clock, 4))  # the same tick again: nothing new
    tick(ws, at(clock, "2026-11-04T09:00:00+08:00"))
    made = local("2026-10-31 00:30")
    assert [(t, ts, c, text) for t, ts, c, text, _m in sop_events(ws, *STATE_TYPES)] == [
        ("community_created", made, "club", None),
        ("stage_entered", made, "club", "prepare"),
        ("stage_entered", local("2026-11-02 00:30"), "club", "cold_start"),
        ("metric_crossed", local("2026-11-04 00:00"), "club", "members>3x2d"),
        ("stage_entered", local("2026-11-04 00:30"), "club", "hot"),
    ]
    metas = [m for _t, _ts, _c, _x, m in sop_events(ws, "stage_entered", "community_created")]
    assert metas == [
        {"how": "first seen"},
        {"from": None, "reason": "created"},
        {"from": "prepare", "reason": "2d after creation"},
        {"from": "cold_start", "reason": "after 1d in cold_start; members>3x2d"},
    ]


def test_history_skips_stages_whose_conditions_hold(ws: Workspace, clock: FrozenClock) -> None:
    # First seen long after its first event, with 4 members: prepare, cold_start at
    # once (2 days after creation); hot needs a day in cold_start first.
    configure(ws)
    plan(ws, WALK)
    joins = [(f"10-0{i} 09:00", f"wx:{i}", "join") for i in range(1, 5)]
    add(ws, [*joins, ("10-20 09:00", "wx:1", "message")], "old")  # not 30 idle days
    tick(ws, _night(clock, 1))
    tick(ws, _night(clock, 2))
    rows = [(ts, text, m.get("from")) for _t, ts, _c, text, m in sop_events(ws, "stage_entered")]
    assert rows == [
        (local("2026-10-01 09:00"), "prepare", None),
        (local("2026-11-01 00:30"), "cold_start", "prepare"),
        (local("2026-11-02 00:30"), "hot", "cold_start"),
    ]


def test_operator_moves_back_audited(ws: Workspace, clock: FrozenClock) -> None:
    configure(ws)
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))
    tick(ws, _night(clock, 2))  # cold_start
    moved = set_stage(ws, at(clock, "2026-11-02T10:00:00+08:00"), "club", "prepare", "redo")
    assert moved == {"community": "club", "from": "cold_start", "stage": "prepare"}
    last = sop_events(ws, "stage_entered")[-1]
    assert (last[1], last[3], last[4]["from"], last[4]["reason"]) == (
        local("2026-11-02 10:00"),
        "prepare",
        "cold_start",
        "redo",
    )
    assert "by" in last[4]
    # Forward again by time: two days after creation still holds, at the next tick.
    tick(ws, at(clock, "2026-11-02T10:01:00+08:00"))
    assert sop_events(ws, "stage_entered")[-1][3] == "cold_start"
    with pytest.raises(InputError, match="unknown stage 'warm'"):
        set_stage(ws, clock, "club", "warm", "x")
    with pytest.raises(InputError, match="no community 'nope'"):
        set_stage(ws, clock, "nope", "hot", "x")


def test_positions_rebuild_from_the_events(ws: Workspace, clock: FrozenClock) -> None:
    from shequn.store.engine import write_transaction
    from shequn.store.sop_schema import state

    configure(ws)
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))
    tick(ws, _night(clock, 2))
    with write_transaction(ws.engine) as conn:
        cached = positions.positions(conn)
        conn.execute(state.delete().where(state.c.name == positions.POSITIONS))
        assert positions.positions(conn) == cached
    assert cached["club"].stage == "cold_start"


BAD = [
    (
        "enter: {after: 2d, since: created}",
        "enter: {after: soon, since: created}",
        "lifecycle.yaml:4 (field 'stages.1.enter.after'): 'soon' is not a duration\n"
        "  fix: write a number of days or hours: 7d, 12h",
    ),
    (
        "{metric: members, above: 3, days: 2}",
        "{metric: users, above: 3, days: 2}",
        "lifecycle.yaml:11 (field 'stages.2.enter.metrics.0.metric'): Input should be 'members'",
    ),
    (
        "  - name: hot\n",
        "  - name: prepare\n",
        "lifecycle.yaml:1 (field 'stages'): stages must be listed once each, in the order "
        "prepare, cold_start, hot, self_growth, conversion, dissolve",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD)
def test_invalid_plans_name_the_file_line_and_fix(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    text = __import__("textwrap").dedent(WALK).lstrip()
    assert old in text
    plan_path = tmp_path / "lifecycle.yaml"
    plan_path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_plan(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / expected))


def test_the_default_plan_is_valid_and_an_invalid_edit_keeps_the_last(
    ws: Workspace, clock: FrozenClock
) -> None:
    default, source = load_plan(ws.root)
    assert source == "built-in"
    assert default.stages[0].name == "prepare"
    assert check("stages: [", "x.yaml")[1][0].line == 1
    configure(ws)
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))
    plan(ws, "stages: []\n")  # invalid: the previous plan keeps running
    tick(ws, _night(clock, 2))
    assert sop_events(ws, "stage_entered")[-1][3] == "cold_start"


def test_cli_table_validate_set_and_default(ws: Workspace, clock: FrozenClock) -> None:
    runner = CliRunner()
    configure(ws)
    toml = ws.root / "shequn.toml"
    toml.write_text(toml.read_text() + '\n[[communities]]\nkey = "club"\n')
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))
    where = ["-w", str(ws.root)]
    out = runner.invoke(app, ["lifecycle", "-c", "club", *where], catch_exceptions=False).output
    assert "club" in out and "prepare 筹备" in out and "冷启动" in out and "解散" in out
    assert "0/30 days" in out  # dissolve's threshold: no day held yet
    out = runner.invoke(app, ["lifecycle", "validate", *where], catch_exceptions=False).output
    assert "valid, 4 stages" in out
    result = runner.invoke(app, ["lifecycle", "set", "club", "hot", "--reason", "go", *where])
    assert result.exit_code == 0, result.output
    assert "club: prepare → hot" in result.output
    out = runner.invoke(app, ["lifecycle", "show-default"], catch_exceptions=False).output
    assert check(out, "default")[0] is not None


def test_routine_scope_lists_the_communities_of_each_stage(
    ws: Workspace, clock: FrozenClock
) -> None:
    from shequn.store.engine import read_transaction

    configure(ws)
    plan(ws, WALK)
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))
    with read_transaction(ws.engine) as conn:
        assert lifecycle.routine_scope(
            ws.settings, lifecycle.load(conn, ws.root, remember=False)
        ) == {"newcomer-7day": set()}
    tick(ws, _night(clock, 2))  # cold_start, whose routine is newcomer-7day
    with read_transaction(ws.engine) as conn:
        scope = lifecycle.routine_scope(ws.settings, lifecycle.load(conn, ws.root, remember=False))
    assert scope == {"newcomer-7day": {"club"}}


def _greeting(name: str) -> str:
    return f"""
        name: {name}
        applies_to: {{communities: [club]}}
        trigger: {{type: member_joined}}
        steps:
          - id: hi
            at: "+1h"
            action: {{type: send_private, text: "hi"}}
            owner: alice
            emergency: {{do: "greet by hand", alert: bob}}
    """


def _queued(ws: Workspace) -> list[str]:
    from sqlalchemy import select

    from shequn.store.sop_schema import outbox

    with ws.engine.connect() as conn:
        return sorted(conn.scalars(select(outbox.c.key)))


def test_a_stage_runs_only_the_routines_it_lists(ws: Workspace, clock: FrozenClock) -> None:
    """WALK lists newcomer-7day for cold_start only; `other` is listed nowhere."""
    from shequn.services.sop_plan import plan as dry_run
    from tests.sop.helpers import write_playbook

    configure(ws)
    plan(ws, WALK)
    write_playbook(ws, "newcomer-7day", _greeting("newcomer-7day"))
    write_playbook(ws, "other", _greeting("other"))
    add(ws, [("10-31 09:00", "wx:a", "join")], "a")
    # Never ticked: club has no stage yet, so nothing restricts what the plan shows.
    shown = dry_run(ws, at(clock, "2026-10-31T09:30:00+08:00"), days=1).actions
    assert sorted(a.key for a in shown) == [
        f"newcomer-7day|hi|wx:a|{local('2026-10-31 09:00')}",
        f"other|hi|wx:a|{local('2026-10-31 09:00')}",
    ]
    tick(ws, at(clock, "2026-10-31T09:30:00+08:00"))  # club enters prepare
    shown = dry_run(ws, clock, days=1).actions
    assert [a.key for a in shown] == [f"other|hi|wx:a|{local('2026-10-31 09:00')}"]
    tick(ws, at(clock, "2026-10-31T10:30:00+08:00"))
    assert _queued(ws) == [f"other|hi|wx:a|{local('2026-10-31 09:00')}"]
    set_stage(ws, clock, "club", "cold_start", "seed members are in")
    shown = CliRunner().invoke(app, ["lifecycle", "-w", str(ws.root)], catch_exceptions=False)
    assert "cold_start" in shown.output and "newcomer-7day" in shown.output
    add(ws, [("10-31 10:40", "wx:b", "join")], "b")
    tick(ws, at(clock, "2026-10-31T11:40:00+08:00"))
    b = local("2026-10-31 10:40")
    assert _queued(ws) == [
        f"newcomer-7day|hi|wx:b|{b}",
        f"other|hi|wx:a|{local('2026-10-31 09:00')}",
        f"other|hi|wx:b|{b}",
    ]


def test_routines_follow_each_communitys_own_stage_list(ws: Workspace, clock: FrozenClock) -> None:
    """The course template's list never names newcomer-7day: it runs in every stage of a
    course; the plan's own list names it for cold_start only."""
    from shequn.config import Community
    from shequn.store.engine import read_transaction

    course, shop = Community(key="club", template="course"), Community(key="shop")
    ws.settings = ws.settings.model_copy(update={"communities": [course, shop]})
    plan(
        ws,
        """
        stages:
          - name: prepare
          - name: cold_start
            enter: {after: 30d}
            playbooks: [newcomer-7day]
        templates:
          course:
            - name: prepare
              playbooks: [course-intro]
        """,
    )
    with read_transaction(ws.engine) as conn:  # nobody placed yet: nothing restricted
        assert lifecycle.routine_scope(
            ws.settings, lifecycle.load(conn, ws.root, remember=False), ["club", "shop"]
        ) == {
            "newcomer-7day": {"club", "shop"},
            "course-intro": {"club", "shop"},
        }
    tick(ws, at(clock, "2026-10-31T00:30:00+08:00"))  # both enter prepare
    with read_transaction(ws.engine) as conn:
        assert lifecycle.routine_scope(
            ws.settings, lifecycle.load(conn, ws.root, remember=False), ["club", "shop"]
        ) == {
            "newcomer-7day": {"club"},
            "course-intro": {"club", "shop"},
        }
