"""An activity as a validated model: where, when, who, its goal, budget, promotion, survey.

Times without an offset are local to the workspace time zone (`Activity.window`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from shequn.sop.model_base import Strict, compiles
from shequn.sop.timing import parse_offset

KINDS = ("sharing", "meetup", "discussion", "checkin", "lottery", "sale", "other")
GOAL_METRICS = ("signups", "attendance_rate", "messages", "orders", "gmv")


class Goal(Strict):
    """What the activity must achieve: a metric over its window and a target."""

    metric: Literal[GOAL_METRICS]  # type: ignore[valid-type]
    target: float = Field(ge=0)


class CostItem(Strict):
    item: str = Field(min_length=1)
    planned: Decimal = Field(ge=0)
    actual: Decimal | None = Field(default=None, ge=0)  # not yet known: None


def _before(value: str) -> str:
    """`-3d`, `-1h`, `-30m`: a duration before the start."""
    if not value.startswith("-"):
        raise ValueError(f"{value!r} is not before the start; write -3d, -1d or -1h")
    if parse_offset("+" + value[1:]).at is not None:
        raise ValueError(f"{value!r} is a clock time; write a duration such as -1d")
    return value


class Promotion(Strict):
    """The promotion plan, relative to the start (and to the end for the follow-up)."""

    announce: str | None = "-3d"
    reminders: list[str] = Field(default_factory=lambda: ["-1d", "-1h"])
    follow_up: str | None = "+1d"  # after the end
    announce_text: str = (
        "「{{ activity.title }}」{{ activity.start }} 开始，回复「报名」或 /signup 报名"
    )
    reminder_text: str = (
        "提醒：「{{ activity.title }}」{{ activity.start }} 开始，已报名的朋友别错过"
    )
    follow_up_text: str = "「{{ activity.title }}」已结束，感谢参与！"

    _texts = field_validator("announce_text", "reminder_text", "follow_up_text")(compiles)

    @field_validator("announce")
    @classmethod
    def _announce(cls, value: str | None) -> str | None:
        return None if value is None else _before(value)

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, value: list[str]) -> list[str]:
        return [_before(v) for v in value]

    @field_validator("follow_up")
    @classmethod
    def _follow_up(cls, value: str | None) -> str | None:
        if value is not None and parse_offset(value).at is not None:
            raise ValueError(f"{value!r} is a clock time; write a duration such as +1d")
        return value


class Feedback(Strict):
    """The survey after the end: a 0–10 score and a comment."""

    question: str = "您给这次活动打几分（0–10）？有什么建议？"
    link: str | None = None  # a form, where the platform cannot collect it in chat
    after: str = "+1h"  # after the end


class Activity(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    community: str = Field(min_length=1)
    kind: Literal[KINDS]  # type: ignore[valid-type]
    start: datetime
    end: datetime
    owner: str = Field(min_length=1)
    goal: Goal
    budget: list[CostItem] = Field(default_factory=list)
    promotion: Promotion = Promotion()
    feedback: Feedback = Feedback()

    @model_validator(mode="after")
    def _order(self) -> Activity:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("start and end must both have an offset or both be local times")
        if self.end <= self.start:
            raise ValueError("end is not after start; write an end later than the start")
        return self

    def window(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Start and end, timezone-aware (local times read in `zone`)."""
        start, end = self.start, self.end
        if start.tzinfo is None:
            start, end = start.replace(tzinfo=zone), end.replace(tzinfo=zone)
        return start, end

    @property
    def planned_cost(self) -> Decimal:
        return sum((c.planned for c in self.budget), Decimal(0))

    @property
    def actual_cost(self) -> Decimal | None:
        """The actual cost, once every item has one (None before)."""
        if any(c.actual is None for c in self.budget):
            return None
        return sum((c.actual or Decimal(0) for c in self.budget), Decimal(0))
