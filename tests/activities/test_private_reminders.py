"""The reminders and the survey of an activity go privately to each member signed up
by then, through the engine (`signed_up` trigger): outbox rows with stable keys, the
same rows in `sop plan` and `sop replay`, nothing twice.

Hand-checked: the talk starts 2026-11-10 20:00 +08:00 and ends 21:00. T−1d is 11-09
20:00 (12:00 UTC), T−1h 11-10 19:00 (11:00 UTC), the survey 11-10 22:00 (14:00 UTC).
wx:a and wx:b sign up on 11-08, wx:e on 11-10 at 10:00 (after T−1d), wx:f through a
console link on 11-10 at 20:30 (during the talk); wx:x signs up for another activity.
"""

from __future__ import annotations

import csv
import textwrap
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from shequn.activities.listing import get
from shequn.clock import FrozenClock
from shequn.services.imports import import_path
from shequn.services.signups import sign_up
from shequn.services.sop import tick
from shequn.services.sop_plan import plan
from shequn.services.sop_replay import replay
from shequn.sop.recent import RecentEvents
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.activities.test_activities import TALK as BASE
from tests.sop.helpers import at

# The talk of test_activities, with a survey link.
TALK = BASE + '    feedback: {link: "https://example.org/form"}\n'
SIGNUPS = [
    ("2026-11-08T10:00:00+08:00", "wx:a", "talk"),
    ("2026-11-08T11:00:00+08:00", "wx:b", "talk"),
    ("2026-11-10T10:00:00+08:00", "wx:e", "talk"),
    ("2026-11-08T10:00:00+08:00", "wx:x", "other"),
]
T1D, T1H, SURVEY = (
    int(datetime(2026, 11, d, h, tzinfo=UTC).timestamp() * 1_000_000)
    for d, h in ((9, 12), (10, 11), (10, 14))
)


def _setup(ws: Workspace) -> None:
    folder = ws.root / "activities"
    folder.mkdir(exist_ok=True)
    (folder / "talk.yaml").write_text(textwrap.dedent(TALK).lstrip(), encoding="utf-8")
    path = ws.root / "signups.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("ts", "community", "member", "type", "content_id", "source_id"))
        for i, (ts, member, activity) in enumerate(SIGNUPS):
            writer.writerow((ts, "club", member, "activity_signup", activity, f"s{i}"))
    import_path(ws, path)


def _rows(ws: Workspace) -> list[tuple[str, str, str, int]]:
    query = select(outbox.c.step, outbox.c.target, outbox.c.action, outbox.c.due_ts)
    with ws.engine.connect() as conn:
        found = conn.execute(query.where(outbox.c.action == "send_private")).all()
    return sorted((r.step, r.target, r.action, r.due_ts) for r in found)


EXPECTED = [
    ("feedback", "wx:a", "send_private", SURVEY),
    ("feedback", "wx:b", "send_private", SURVEY),
    ("feedback", "wx:e", "send_private", SURVEY),
    ("feedback", "wx:f", "send_private", SURVEY),
    ("remind-1", "wx:a", "send_private", T1D),
    ("remind-1", "wx:b", "send_private", T1D),
    ("remind-2", "wx:a", "send_private", T1H),
    ("remind-2", "wx:b", "send_private", T1H),
    ("remind-2", "wx:e", "send_private", T1H),
]


@pytest.mark.parametrize("kept", [False, True], ids=["one-shot", "kept"])
def test_each_member_signed_up_gets_the_reminders_and_the_survey_once(
    ws: Workspace, clock: FrozenClock, kept: bool
) -> None:
    """One-shot ticks read the sign-ups afresh; the engine keeps them between ticks and
    reads only those appended since (wx:f's, here)."""
    _setup(ws)
    recent = RecentEvents() if kept else None
    tick(ws, at(clock, "2026-11-09T11:00:00+00:00"), recent=recent)
    tick(ws, at(clock, "2026-11-09T12:30:00+00:00"), recent=recent)  # T−1d: a and b
    tick(ws, at(clock, "2026-11-10T11:30:00+00:00"), recent=recent)  # T−1h: e too
    sign_up(ws, get(ws, "talk"), "wx:f", at(clock, "2026-11-10T12:30:00+00:00"))
    tick(ws, at(clock, "2026-11-10T14:30:00+00:00"), recent=recent)  # the survey: f too
    tick(ws, at(clock, "2026-11-10T14:31:00+00:00"), recent=recent)  # nothing twice
    assert _rows(ws) == EXPECTED
    if recent is not None:
        assert recent.full_reads == 1 and recent.signups is not None
        assert sorted(recent.signups["member"]) == ["wx:a", "wx:b", "wx:e", "wx:f"]
    with ws.engine.connect() as conn:
        keys = conn.execute(
            select(outbox.c.key, outbox.c.payload).where(outbox.c.target == "wx:e")
        ).all()
    assert sorted(k for k, _ in keys) == [
        f"activity-talk-feedback|feedback|wx:e|{SURVEY}",
        f"activity-talk-remind-2|remind-2|wx:e|{T1H}",
    ]
    survey = next(p for k, p in keys if "feedback" in k)
    assert "您给这次活动打几分（0–10）？有什么建议？ https://example.org/form" in survey


def test_plan_and_replay_show_the_same_rows(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws)
    sign_up(ws, get(ws, "talk"), "wx:f", at(clock, "2026-11-10T12:30:00+00:00"))
    # Planned the day before: e and f have not signed up yet, so they are not listed.
    planned = plan(ws, at(clock, "2026-11-09T11:00:00+00:00"), days=2)
    rows = sorted((a.step, a.member, a.when) for a in planned.actions if a.member)
    assert rows == [
        ("feedback", "wx:a", SURVEY),
        ("feedback", "wx:b", SURVEY),
        ("remind-1", "wx:a", T1D),
        ("remind-1", "wx:b", T1D),
        ("remind-2", "wx:a", T1H),
        ("remind-2", "wx:b", T1H),
    ]
    replayed = replay(ws, date(2026, 11, 9), date(2026, 11, 11))
    private = replayed.actions.filter(replayed.actions["action"] == "send_private")
    found = sorted(private.select("step", "member", "action", "due_ts").rows())
    assert found == EXPECTED
