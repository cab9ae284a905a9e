"""Activities: the file, its promotion plan in the real tick, and hand-checked results."""

from __future__ import annotations

import csv
import math
import textwrap
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.activities import listing
from shequn.activities.loader import check
from shequn.cli.app import app
from shequn.clock import FrozenClock
from shequn.review.activities import activities_section
from shequn.services import activities as service
from shequn.services.imports import import_path
from shequn.services.sop import tick
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.sop.helpers import at

TALK = """
    name: talk
    title: 周三分享会
    community: club
    kind: sharing
    start: 2026-11-10T20:00:00+08:00
    end: 2026-11-10T21:00:00+08:00
    owner: alice
    goal: {metric: signups, target: 5}
    budget:
      - {item: 嘉宾, planned: 200, actual: 250}
      - {item: 奖品, planned: 100, actual: 50}
"""
# ts, member, type, content_id, amount, text
ROWS = [
    ("2026-11-08T10:00:00+08:00", "a", "activity_signup", "talk", "", ""),
    ("2026-11-08T10:01:00+08:00", "b", "activity_signup", "talk", "", ""),
    ("2026-11-08T10:02:00+08:00", "c", "activity_signup", "talk", "", ""),
    ("2026-11-08T10:03:00+08:00", "d", "activity_signup", "talk", "", ""),
    ("2026-11-10T20:01:00+08:00", "a", "activity_attend", "talk", "", ""),
    ("2026-11-10T20:02:00+08:00", "b", "activity_attend", "talk", "", ""),
    ("2026-11-10T20:03:00+08:00", "c", "activity_attend", "talk", "", ""),
    ("2026-11-10T22:00:00+08:00", "a", "feedback", "talk", "10", "分享很精彩，干货很多"),
    ("2026-11-10T22:01:00+08:00", "b", "feedback", "talk", "9", "干货满满"),
    ("2026-11-10T22:02:00+08:00", "c", "feedback", "talk", "4", "声音太小"),
    # Before (14 days before the start): a 1, b 1, e 1, g 2 messages.
    ("2026-11-05T10:00:00+08:00", "a", "message", "", "", "hi"),
    ("2026-11-05T10:00:00+08:00", "b", "message", "", "", "hi"),
    ("2026-11-05T10:00:00+08:00", "e", "message", "", "", "hi"),
    ("2026-11-05T10:00:00+08:00", "g", "message", "", "", "hi"),
    ("2026-11-06T10:00:00+08:00", "g", "message", "", "", "hi"),
    ("2026-11-06T10:00:00+08:00", "f", "join", "", "", ""),
    # After (14 days after the end): a 3 messages and a 200 order, b 1, e 1.
    ("2026-11-11T10:00:00+08:00", "a", "message", "", "", "hi"),
    ("2026-11-12T10:00:00+08:00", "a", "message", "", "", "hi"),
    ("2026-11-13T10:00:00+08:00", "a", "message", "", "", "hi"),
    ("2026-11-13T11:00:00+08:00", "a", "order", "", "200", ""),
    ("2026-11-11T10:00:00+08:00", "b", "message", "", "", "hi"),
    ("2026-11-11T10:00:00+08:00", "e", "message", "", "", "hi"),
]


def _setup(ws: Workspace) -> None:
    folder = ws.root / "activities"
    folder.mkdir(exist_ok=True)
    (folder / "talk.yaml").write_text(textwrap.dedent(TALK).lstrip(), encoding="utf-8")
    path = ws.root / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            (
                "ts",
                "community",
                "member",
                "type",
                "content_id",
                "order_id",
                "amount",
                "text",
                "source_id",
            )
        )
        for i, (ts, member, kind, content, amount, text) in enumerate(ROWS):
            order = f"o{i}" if kind == "order" else ""
            writer.writerow(
                (ts, "club", f"wx:{member}", kind, content, order, amount, text, f"r{i}")
            )
    import_path(ws, path)


def test_results_are_the_hand_checked_figures(ws: Workspace) -> None:
    _setup(ws)
    r = listing.report(ws, "talk")
    assert (r.signups, r.attendees, r.no_shows, r.attendance_rate) == (4, 3, 1, 0.75)
    assert math.isclose(r.average or 0, 23 / 3)
    assert math.isclose(r.nps or 0, 100 * (2 - 1) / 3)  # two promoters, one detractor
    assert r.low == [("wx:c", 4.0, "声音太小")]
    assert r.keywords[0] == ("干货", 2)
    assert r.goal_value == 4.0
    assert r.cost_per_attendee == 100.0  # actual 300 / 3 attendees
    e = r.effect
    # Participants a, b, c: strata {0: c, 1-2: a, b}; messages change +2, 0, 0 -> 2/3.
    # Controls: stratum 0: d, f (0 -> 0); stratum 1-2: e (0), g (-2) -> -1.
    # DiD = 2/3 - (1/3 * 0 + 2/3 * -1) = 4/3; GMV: a +200 -> 200/3 per participant.
    assert (e.participants, e.matched) == (3, 4)
    assert math.isclose(e.did["messages"], 4 / 3)
    assert math.isclose(e.did["gmv"], 200 / 3)
    assert math.isclose(e.attributed_gmv, 200)
    assert math.isclose(e.roi or 0, (200 - 300) / 300)
    assert e.roi_low is not None and e.roi_high is not None
    assert e.roi_low <= (e.roi or 0) <= e.roi_high


def test_a_low_score_becomes_one_follow_up_task(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws)
    assert service.follow_up_low_scores(ws, "talk", clock) == 1
    assert service.follow_up_low_scores(ws, "talk", clock) == 0  # idempotent
    with ws.engine.connect() as conn:
        keys = conn.execute(select(outbox.c.key, outbox.c.platform)).all()
    assert keys == [("activity|talk|feedback|wx:c", "task")]


def test_the_promotion_plan_runs_in_the_engine(ws: Workspace, clock: FrozenClock) -> None:
    _setup(ws)
    tick(ws, at(clock, "2026-11-07T11:00:00+00:00"))  # 19:00 local, three days before
    tick(ws, at(clock, "2026-11-07T12:30:00+00:00"))
    tick(ws, at(clock, "2026-11-10T13:30:00+00:00"))  # the day: T-1d and T-1h passed
    with ws.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.playbook, outbox.c.due_ts, outbox.c.state, outbox.c.target)
        ).all()
    names = sorted(r.playbook for r in rows)
    # The reminders go privately to the four members signed up (a–d, on 8 November).
    reminders = ["activity-talk-remind-1"] * 4 + ["activity-talk-remind-2"] * 4
    assert names == ["activity-talk-announce", *reminders]
    remind = {r.target for r in rows if r.playbook == "activity-talk-remind-1"}
    assert remind == {"wx:a", "wx:b", "wx:c", "wx:d"}
    announce = next(r for r in rows if r.playbook == "activity-talk-announce")
    assert announce.due_ts == 1_794_052_800_000_000  # 2026-11-07 20:00 +08:00


@pytest.mark.parametrize(
    ("edit", "line", "words"),
    [
        ("kind: sharing", "kind: party", "kind"),
        ("end: 2026-11-10T21:00:00+08:00", "end: 2026-11-10T19:00:00+08:00", "end is not after"),
    ],
)
def test_a_bad_file_names_its_line(edit: str, line: str, words: str) -> None:
    _, problems = check(textwrap.dedent(TALK).replace(edit, line), "activities/talk.yaml")
    assert problems and words in str(problems[0])
    assert "activities/talk.yaml" in str(problems[0])


@pytest.mark.parametrize("engine_name", ["sqlite"])  # the CLI once; services run on both
def test_the_cli_reports_lists_and_compares(ws: Workspace) -> None:
    _setup(ws)
    runner = CliRunner()
    root = str(ws.root)
    report = runner.invoke(
        app, ["activities", "report", "talk", "-w", root], catch_exceptions=False
    )
    assert "sign-ups 4, attended 3, no-shows 1, attendance rate 75.0%" in report.output
    assert "ROI -33%" in report.output
    listed = runner.invoke(app, ["activities", "list", "-w", root], catch_exceptions=False)
    assert "talk" in listed.output
    shown = runner.invoke(app, ["activities", "show", "talk", "-w", root], catch_exceptions=False)
    assert "2026-11-07 20:00" in shown.output  # the announcement, three days before
    compared = runner.invoke(app, ["activities", "compare", "sharing", "-w", root])
    assert "club" in compared.output
    none = runner.invoke(app, ["experiments", "list", "-w", root], catch_exceptions=False)
    assert none.exit_code == 0


def test_the_review_shows_the_activities_that_ended_in_its_period(ws: Workspace) -> None:
    _setup(ws)
    zone = ws.settings.zone
    november = activities_section(
        ws, "en", datetime(2026, 11, 1, tzinfo=zone), datetime(2026, 12, 1, tzinfo=zone), None
    )
    assert november.rows == (
        (
            "周三分享会",
            "club",
            "sharing",
            "4 / 5 signups",
            "75%",
            "+33",
            "100.00",
            november.rows[0][7],
        ),
    )
    assert november.rows[0][7].startswith("-33% (")
    october = activities_section(
        ws, "en", datetime(2026, 10, 1, tzinfo=zone), datetime(2026, 11, 1, tzinfo=zone), None
    )
    assert october.rows == () and october.note == "No activity ended in the period."
