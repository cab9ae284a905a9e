"""Daylight saving: one rule everywhere (a gap time moves forward, a fold time is the
earlier instant, once), for importers, step times, schedules, plan and replay.

New York, 2026: clocks jump 02:00 -> 03:00 on 8 March (07:00 UTC) and fall back
02:00 -> 01:00 on 1 November (06:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shequn.clock import FrozenClock, to_micros
from shequn.services.sop_plan import plan
from shequn.services.sop_replay import replay
from shequn.services.workspace import init_workspace
from shequn.sop.timing import occurrences
from shequn.wall_time import wall_instant
from shequn.workspace import Workspace
from tests.sop.helpers import add_events, write_playbook

NY = ZoneInfo("America/New_York")


def us(iso: str) -> int:
    return to_micros(datetime.fromisoformat(iso))


def test_a_gap_time_moves_forward_and_a_fold_time_is_the_earlier() -> None:
    # 02:30 EST does not exist on 8 March: 02:30 read with the old offset (-5) is
    # 07:30 UTC = 03:30 EDT. 01:30 on 1 November happens at 05:30 and 06:30 UTC.
    spring = wall_instant(date(2026, 3, 8), time(2, 30), NY)
    autumn = wall_instant(date(2026, 11, 1), time(1, 30), NY)
    assert spring == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert autumn == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_a_schedule_fires_on_both_change_days_once() -> None:
    def fires(cron: str, start: str, end: str) -> list[datetime]:
        return occurrences(cron, NY, datetime.fromisoformat(start), datetime.fromisoformat(end))

    # Plain croniter fires at 03:00 on the gap day and twice at 01:30 on the fold day.
    assert fires("30 2 * * *", "2026-03-07T12:00-05:00", "2026-03-09T12:00-04:00") == [
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 03:30 EDT
        datetime(2026, 3, 9, 6, 30, tzinfo=UTC),  # 02:30 EDT
    ]
    assert fires("30 1 * * *", "2026-10-31T12:00-04:00", "2026-11-02T12:00-05:00") == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # 01:30 EDT, not again at 01:30 EST
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]


@pytest.fixture
def ny(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "ny", name="ny", timezone="America/New_York")
    write_playbook(
        ws,
        "night",
        """
        name: night
        applies_to: {communities: ["*"]}
        trigger: {type: member_joined}
        steps:
          - id: late
            at: "+1d 02:30"
            action: {type: send_private, text: "hi"}
            owner: role:assistant
            emergency: {do: "skip", alert: "role:lead"}
          - id: early
            at: "+1d 01:30"
            action: {type: send_private, text: "hi"}
            owner: role:assistant
            emergency: {do: "skip", alert: "role:lead"}
        """,
    )
    add_events(
        ws,
        [
            ("2026-03-07T10:00:00-05:00", "club", "wx:spring", "join", ""),
            ("2026-10-31T10:00:00-04:00", "club", "wx:autumn", "join", ""),
        ],
    )
    yield ws
    ws.close()


EXPECTED = [
    ("early", "wx:spring", us("2026-03-08T01:30:00-05:00")),
    ("late", "wx:spring", us("2026-03-08T03:30:00-04:00")),  # 02:30 does not exist
    ("early", "wx:autumn", us("2026-11-01T01:30:00-04:00")),  # the first 01:30, once
    ("late", "wx:autumn", us("2026-11-01T02:30:00-05:00")),
]


def test_replay_fires_steps_on_both_change_days(ny: Workspace) -> None:
    spring = replay(ny, date(2026, 3, 7), date(2026, 3, 10)).actions
    autumn = replay(ny, date(2026, 10, 31), date(2026, 11, 3)).actions
    found = [*spring.select("step", "member", "due_ts").rows()]
    found += autumn.select("step", "member", "due_ts").rows()
    assert found == EXPECTED


def test_plan_shows_the_spring_forward_step(ny: Workspace) -> None:
    clock = FrozenClock(datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    shown = [(a.step, a.member, a.when) for a in plan(ny, clock, days=2).actions]
    assert shown == EXPECTED[:2]
