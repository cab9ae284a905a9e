"""The state triggers (tags, tiers, community created, stages, metric thresholds) and
emergency alerts on thresholds, through the tick on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from shequn.clock import FrozenClock, to_micros
from shequn.services.sop import tick
from shequn.sop import journal
from shequn.sop.evaluate import thresholds_of
from shequn.sop.loader import check
from shequn.sop.model import ALL_TRIGGERS
from shequn.sop.thresholds import Threshold
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import at, write_playbook


def _us(hhmm: str) -> int:
    return to_micros(datetime.fromisoformat(f"2026-11-01T{hhmm}:00+00:00"))


# (type, HH:MM UTC on 2026-11-01, community, member, text)
STATE = [
    ("tag_added", "01:00", "club", "m:a", "VIP"),
    ("tag_added", "01:10", "club", "m:b", "newbie"),
    ("tag_removed", "02:00", "club", "m:a", "VIP"),
    ("tier_changed", "01:20", "club", "m:a", "金卡"),
    ("tier_changed", "01:30", "club", "m:b", "银卡"),
    ("community_created", "01:00", "club", None, None),
    ("community_created", "01:05", "shop", None, None),
    ("stage_entered", "01:40", "club", None, "cold_start"),
    ("stage_entered", "03:00", "club", None, "hot"),
    ("metric_crossed", "02:30", "club", None, "active_rate<0.3x3d"),
    ("metric_crossed", "02:35", "shop", None, "active_rate<0.3x3d"),
    ("metric_crossed", "02:40", "club", None, "dau<5x1d"),
    ("churn_risk_crossed", "01:50", "club", "m:a", "0.7"),
    ("churn_risk_crossed", "01:55", "club", "m:b", "0.5"),
    ("churn_risk_crossed", "02:50", "club", "m:a", "0"),  # fell below every band
]


def _record(ws: Workspace) -> None:
    rows = [
        journal.entry(kind, _us(hhmm), community, f"{kind}{i}", member=member, text=text)
        for i, (kind, hhmm, community, member, text) in enumerate(STATE)
    ]
    with write_transaction(ws.engine) as conn:
        journal.record(conn, rows)


def _playbook(
    trigger: str, action: str, communities: str = '["*"]', emergency: str = "", name: str = "pb"
) -> str:
    return f"""
    name: {name}
    applies_to:
      communities: {communities}
    trigger: {trigger}
    steps:
      - id: s
        at: "+0m"
        action: {{type: {action}, text: "hi"}}
        owner: alice
        emergency: {{do: "call the lead", alert: bob{emergency}}}
    """


def _queued(ws: Workspace, clock: FrozenClock, *playbooks: str) -> list[tuple]:
    for i, text in enumerate(playbooks):
        write_playbook(ws, f"pb{i}", text)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    _record(ws)
    tick(ws, at(clock, "2026-11-01T04:00:00+00:00"))
    with ws.engine.connect() as conn:
        query = select(outbox.c.key, outbox.c.target, outbox.c.action, outbox.c.state)
        return [tuple(r) for r in conn.execute(query.order_by(outbox.c.key))]


# trigger, action, the (target, HH:MM) of each occurrence the tick must queue
CASES = [
    ("{type: tag_changed, tag: VIP}", "send_private", [("m:a", "01:00")]),
    ("{type: tag_changed}", "send_private", [("m:a", "01:00"), ("m:b", "01:10")]),
    ("{type: tag_changed, tag: VIP, change: removed}", "send_private", [("m:a", "02:00")]),
    (
        "{type: tag_changed, change: any}",
        "send_private",
        [("m:a", "01:00"), ("m:a", "02:00"), ("m:b", "01:10")],
    ),
    ("{type: tier_changed, to: 金卡}", "send_private", [("m:a", "01:20")]),
    ("{type: tier_changed}", "send_private", [("m:a", "01:20"), ("m:b", "01:30")]),
    ("{type: community_created}", "send_group", [("club", "01:00"), ("shop", "01:05")]),
    ("{type: stage_entered, stage: hot}", "send_group", [("club", "03:00")]),
    (
        "{type: metric_threshold, metric: active_rate, below: 0.3, days: 3}",
        "send_group",
        [("club", "02:30"), ("shop", "02:35")],
    ),
    ("{type: metric_threshold, metric: dau, below: 5}", "send_group", [("club", "02:40")]),
    ("{type: churn_risk_above, above: 0.7}", "send_private", [("m:a", "01:50")]),
    (
        "{type: churn_risk_above, above: 0.5}",
        "send_private",
        [("m:a", "01:50"), ("m:b", "01:55")],
    ),
]


def test_each_state_trigger_queues_exactly_its_occurrences(
    ws: Workspace, clock: FrozenClock
) -> None:
    # One workspace, one playbook per case (pb00, pb01, ...), one tick over them all.
    texts = [_playbook(t, a, name=f"pb{i:02d}") for i, (t, a, _) in enumerate(CASES)]
    rows = _queued(ws, clock, *texts)
    assert rows == sorted(
        (f"pb{i:02d}|s|{target}|{_us(hhmm)}", target, action, "pending")
        for i, (_, action, expected) in enumerate(CASES)
        for target, hhmm in expected
    )


def test_a_community_level_trigger_keeps_to_its_communities(
    ws: Workspace, clock: FrozenClock
) -> None:
    rows = _queued(ws, clock, _playbook("{type: community_created}", "send_group", "[shop]"))
    assert [r[0] for r in rows] == [f"pb|s|shop|{_us('01:05')}"]


def test_an_emergency_threshold_alerts_once_per_crossing(ws: Workspace, clock: FrozenClock) -> None:
    # Members join nowhere here: the alert comes from the metric, not from the step.
    threshold = ", threshold: {metric: active_rate, below: 0.3, days: 3}"
    playbook = _playbook("{type: member_joined}", "send_private", "[club]", threshold)
    rows = _queued(ws, clock, playbook)
    key = f"pb|s|emergency|club|{_us('02:30')}"
    assert rows == [(key, "bob", "alert_owner", "pending")]  # shop's crossing is not ours
    with ws.engine.connect() as conn:
        payload = json.loads(conn.scalar(select(outbox.c.payload).where(outbox.c.key == key)))
    assert payload["text"] == (
        "club: active_rate below 0.3 for 3 day(s) (active_rate<0.3x3d; playbook pb, step s). "
        "Do: call the lead"
    )
    # The next tick over later time adds nothing: one alert per crossing.
    tick(ws, at(clock, "2026-11-01T05:00:00+00:00"))
    assert len(_queued_keys(ws)) == 1


def _queued_keys(ws: Workspace) -> list[str]:
    with ws.engine.connect() as conn:
        return list(conn.scalars(select(outbox.c.key)))


def _errors(text: str) -> list[str]:
    playbook, problems = check(textwrap.dedent(text).lstrip(), "pb.yaml")
    assert playbook is None
    return [str(p) for p in problems]


def test_community_level_playbooks_have_no_member() -> None:
    text = _playbook("{type: stage_entered, stage: hot}", "send_private")
    assert _errors(text) == [
        "pb.yaml:1: step 's': a stage_entered trigger has no member, so it can neither "
        "send_private/tag/untag/add_points nor take a member condition\n"
        "  fix: use send_group or create_task"
    ]
    text = _playbook("{type: community_created}", "send_group") + "audience: {channels: [qr]}\n"
    assert _errors(text) == [
        "pb.yaml:1: audience: a community_created trigger has no member to choose by join "
        "channel\n  fix: remove audience: or use a member trigger such as member_joined"
    ]


def test_state_trigger_fields_are_checked_with_line_and_fix() -> None:
    bad_stage = _errors(_playbook("{type: stage_entered, stage: warm}", "send_group"))
    assert len(bad_stage) == 1
    assert bad_stage[0].startswith("pb.yaml:4 (field 'trigger.stage'): Input should be 'prepare'")
    both = _errors(
        _playbook("{type: metric_threshold, metric: dau, below: 1, above: 9}", "send_group")
    )
    assert both == [
        "pb.yaml:4 (field 'trigger'): a threshold needs exactly one of below: or above: "
        "(a number, or goal for the community's target of that metric)\n  fix: see docs/sop.md"
    ]
    assert _errors(_playbook("{type: tag_changed, change: renamed}", "send_private"))[0].startswith(
        "pb.yaml:4 (field 'trigger.change'): Input should be 'added', 'removed' or 'any'"
    )


def test_thresholds_of_lists_triggers_and_emergencies() -> None:
    trigger, _ = check(
        textwrap.dedent(
            _playbook("{type: metric_threshold, metric: gmv, above: goal, days: 2}", "send_group")
        ),
        "a.yaml",
    )
    emergency, _ = check(
        textwrap.dedent(
            _playbook(
                "{type: member_joined}",
                "send_private",
                emergency=", threshold: {metric: dau, below: 5}",
            )
        ),
        "b.yaml",
    )
    assert trigger is not None and emergency is not None
    found = thresholds_of([trigger, emergency])
    assert sorted(t.id for t in found) == ["dau<5x1d", "gmv>goalx2d"]
    assert Threshold(metric="dau", below=5) in found


def test_every_trigger_is_in_the_docs_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "sop.md").read_text(encoding="utf-8")
    table = docs.split("### Triggers", 1)[1].split("###", 1)[0]
    documented = {line.split("`")[1] for line in table.splitlines() if line.startswith("| `")}
    assert documented == set(ALL_TRIGGERS)
    assert "planned" not in table.lower()
