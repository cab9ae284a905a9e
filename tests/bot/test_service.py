"""Recording decisions and replaying them, on SQLite and PostgreSQL (the real store)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from shequn.analytics.engine import compute
from shequn.bot.core import step
from shequn.bot.decision import Decision, Tick
from shequn.bot.report import faq_report, figures
from shequn.bot.setup import Setup
from shequn.bot.state import BotState
from shequn.clock import FrozenClock
from shequn.services import bot as service
from shequn.services.bot_report import mark_wrong
from shequn.services.tasks import list_tasks
from shequn.sop.state import member_points
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace
from tests.bot.conftest import T0, join, message

ALICE = "matrix:@alice:localhost"
BOB = "matrix:@bob:localhost"


def scenario(setup: Setup) -> tuple[BotState, list[tuple[FrozenClock, Decision]]]:
    """A day of the bot: a join, two violations, a FAQ answer, an unknown question,
    check-ins on two days; each decision with the instant it was made."""
    state, out = BotState(), []
    steps = [
        (T0, join(ALICE, meta={"name": "Alice"})),
        (T0 + timedelta(minutes=1), message(ALICE, "scam")),
        (T0 + timedelta(minutes=2), message(ALICE, "赌 博")),
        (T0 + timedelta(minutes=3), message(BOB, "请问晚上几点关门？")),
        (T0 + timedelta(minutes=4), message(BOB, "有人知道明天下雨吗？")),
        (T0 + timedelta(minutes=5), message(BOB, "签到")),
        (T0 + timedelta(minutes=13), Tick()),
        (T0 + timedelta(days=1), message(BOB, "签到")),
    ]
    for at, event in steps:
        out.append((FrozenClock(at), step(event, state, setup, at)))
    return state, out


def record_all(ws: Workspace, decisions: list[tuple[FrozenClock, Decision]]) -> int:
    return sum(service.record(ws, [d], clock) for clock, d in decisions)


def count(ws: Workspace, source: str) -> int:
    with read_transaction(ws.engine) as conn:
        return conn.scalar(
            select(func.count()).select_from(events).where(events.c.source == source)
        )


def test_recording_twice_stores_once_and_points_reach_the_sop(ws: Workspace, setup: Setup) -> None:
    _, decisions = scenario(setup)
    record_all(ws, decisions)
    bot, sop = count(ws, "bot"), count(ws, "sop")
    record_all(ws, decisions)
    assert (count(ws, "bot"), count(ws, "sop")) == (bot, sop)
    # sop: points (bob: message 1 with the FAQ, 5 + 6 check-ins) and one task_created.
    with read_transaction(ws.engine) as conn:
        assert member_points(conn, BOB) == 12
    assert [(t.owner, t.community) for t in list_tasks(ws)] == [("lin", "tea")]


def test_the_state_replayed_from_the_store_is_the_live_state(ws: Workspace, setup: Setup) -> None:
    live, decisions = scenario(setup)
    record_all(ws, decisions)
    replayed = service.load_state(ws, FrozenClock(T0 + timedelta(days=1)))
    for key in ((setup.community, ALICE), (setup.community, BOB)):
        a, b = live.members[key], replayed.members[key]
        assert (len(a.strikes), a.muted_until, a.checkin_day, a.streak, a.points) == (
            len(b.strikes),
            b.muted_until,
            b.checkin_day,
            b.streak,
            b.points,
        )
    assert replayed.totals == live.totals
    assert replayed.members[(setup.community, ALICE)].muted_until is None  # unmuted by the tick


def test_figures_faq_quality_and_a_wrong_answer(ws: Workspace, setup: Setup) -> None:
    _, decisions = scenario(setup)
    record_all(ws, decisions)
    found = figures(ws, T0 - timedelta(days=1), T0 + timedelta(days=2))
    tea = found["tea"]
    assert (tea.value("violations"), tea.value("moderation_actions")) == (2, 2)
    assert (tea.value("faq_asked"), tea.value("faq_answered"), tea.value("faq_deflection")) == (
        2,
        1,
        0.5,
    )
    assert (tea.value("checkins"), tea.value("checkin_members"), tea.value("welcomed")) == (2, 1, 1)
    assert found["*"].counts == tea.counts
    report = faq_report(ws, T0 - timedelta(days=1), T0 + timedelta(days=2))
    assert (report.asked, report.answered, report.wrong) == (2, 1, 0)
    assert report.unanswered == [("有人知道明天下雨吗？", 1)]
    answer_id, entry, _question = report.recent[0]
    assert mark_wrong(ws, answer_id, by="lin", clock=FrozenClock(T0)) == entry == "opening-hours"
    again = faq_report(ws, T0 - timedelta(days=1), T0 + timedelta(days=2))
    assert again.wrong == 1 and again.entries[0].wrong == 1


def test_bot_events_move_no_member_metric(ws: Workspace, setup: Setup) -> None:
    _, decisions = scenario(setup)
    record_all(ws, decisions)
    figures_ = compute(ws, date(2026, 12, 1), date(2027, 1, 1))
    assert figures_.get("tea", {}).get("messages", 0) == 0
    assert figures_.get("tea", {}).get("joins", 0) == 0
