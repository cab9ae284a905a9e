"""What the bot did, from its events: moderation load, FAQ deflection and quality,
check-in participation (reads only; marking an answer wrong is `services.bot_report`).

The bot's events are not canonical (source `bot`), so they never enter the analytics
copy or move a member metric; these counts are read from the store directly.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from shequn.bot.decision import SOURCE
from shequn.bot.normalise import normalise
from shequn.clock import to_micros
from shequn.store.engine import read_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace

WORKSPACE = "*"
MODERATION = ("warned", "muted", "removed", "banned")


@dataclass(frozen=True)
class Row:
    """One line of `shequn metrics`' bot table: (name, Chinese label, English label)."""

    name: str
    label: str
    english: str


ROWS: tuple[Row, ...] = (
    Row("welcomed", "欢迎人数", "members welcomed"),
    Row("violations", "违规次数", "violations"),
    Row("moderation_actions", "处置次数(警告/禁言/移出/封禁)", "moderation actions"),
    Row("pardoned", "赦免次数", "pardons"),
    Row("faq_asked", "问答提问数", "FAQ questions"),
    Row("faq_answered", "自动回答数", "FAQ answered"),
    Row("faq_wrong", "答错标记数", "FAQ marked wrong"),
    Row("faq_deflection", "问答分流率", "FAQ deflection"),
    Row("checkins", "签到次数", "check-ins"),
    Row("checkin_members", "签到人数", "members checking in"),
)


@dataclass(frozen=True)
class BotFigures:
    """One scope's bot counts over a period."""

    counts: dict[str, int] = field(default_factory=dict)  # by bot event type
    checkin_members: int = 0

    def value(self, name: str) -> float | int | None:
        c = self.counts.get
        asked = c("faq_answered", 0) + c("faq_unanswered", 0)
        derived: dict[str, float | int | None] = {
            "violations": c("violation", 0),
            "moderation_actions": sum(c(k, 0) for k in MODERATION),
            "faq_asked": asked,
            "faq_deflection": c("faq_answered", 0) / asked if asked else None,
            "checkins": c("checked_in", 0),
            "checkin_members": self.checkin_members,
        }
        return derived[name] if name in derived else c(name, 0)


def shown(value: float | int | None) -> str:
    """A figure as reports show it: a share as a percentage, a count with separators."""
    if value is None:
        return "-"
    return f"{value:.1%}" if isinstance(value, float) else f"{value:,}"


def figures(ws: Workspace, start: datetime, end: datetime) -> dict[str, BotFigures]:
    """Per community and for the workspace (*): the bot's counts in [start, end)."""
    window = (
        events.c.source == SOURCE,
        events.c.ts >= to_micros(start),
        events.c.ts < to_micros(end),
    )
    by_type = select(events.c.community, events.c.type, func.count()).where(*window)
    people = (
        select(events.c.community, func.count(func.distinct(events.c.member)))
        .where(*window, events.c.type == "checked_in")
        .group_by(events.c.community)
    )
    everyone = select(func.count(func.distinct(events.c.member))).where(
        *window, events.c.type == "checked_in"
    )
    with read_transaction(ws.engine) as conn:
        counts: dict[str, Counter[str]] = {WORKSPACE: Counter()}
        for community, kind, n in conn.execute(by_type.group_by(events.c.community, events.c.type)):
            counts.setdefault(community, Counter())[kind] += n
            counts[WORKSPACE][kind] += n
        members = dict(conn.execute(people).all())
        members[WORKSPACE] = conn.scalar(everyone) or 0
    return {k: BotFigures(dict(v), members.get(k, 0)) for k, v in counts.items()}


@dataclass(frozen=True)
class FaqLine:
    entry: str
    answered: int
    wrong: int


@dataclass(frozen=True)
class FaqReport:
    """Questions asked, answered, marked wrong, and the unanswered ones (what to write next)."""

    asked: int
    answered: int
    wrong: int
    entries: list[FaqLine]
    unanswered: list[tuple[str, int]]  # question, times asked; most asked first
    recent: list[tuple[int, str, str]]  # the last answers: event id, entry, question


def faq_report(ws: Workspace, start: datetime, end: datetime, community: str = "") -> FaqReport:
    query = select(events.c.id, events.c.type, events.c.text, events.c.meta).where(
        events.c.source == SOURCE,
        events.c.type.in_(("faq_answered", "faq_unanswered", "faq_wrong")),
        events.c.ts >= to_micros(start),
        events.c.ts < to_micros(end),
    )
    if community:
        query = query.where(events.c.community == community)
    answered: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    gaps: Counter[str] = Counter()
    shown: dict[str, str] = {}
    recent: list[tuple[int, str, str]] = []
    with read_transaction(ws.engine) as conn:
        for event_id, kind, text, meta in conn.execute(query.order_by(events.c.id)):
            facts = json.loads(meta or "{}")
            if kind == "faq_answered":
                answered[facts["entry"]] += 1
                recent = [*recent[-19:], (event_id, facts["entry"], text or "")]
            elif kind == "faq_wrong":
                wrong[facts["entry"]] += 1
            else:
                key = normalise(text or "")
                gaps[key] += 1
                shown.setdefault(key, text or "")
    lines = [FaqLine(e, answered[e], wrong[e]) for e in sorted(set(answered) | set(wrong))]
    lines.sort(key=lambda line: (-line.answered, line.entry))
    return FaqReport(
        asked=sum(answered.values()) + sum(gaps.values()),
        answered=sum(answered.values()),
        wrong=sum(wrong.values()),
        entries=lines,
        unanswered=[(shown[k], n) for k, n in gaps.most_common(20)],
        recent=recent,
    )
