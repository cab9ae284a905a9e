"""Periods as written: a month, an ISO week or custom dates, the period before, horizons.

Periods are half-open local-date ranges `[start, end)` (docs/metrics.md, "Time"). The
review and goals use `Period`; the analytics engine pins one to a time zone as
`shequn.analytics.period.ZonedPeriod`. Imports nothing of shequn but `errors`, so the
settings (`shequn.config`) can check a goal's period with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shequn.errors import InputError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_HORIZON = re.compile(r"^(?:day\s*)?(\d+)$", re.IGNORECASE)
PERIOD_HINT = "write a month (2026-10), an ISO week (2026-W43) or dates (2026-10-01..2026-10-15)"


@dataclass(frozen=True)
class Period:
    """A half-open range of local dates, with the kind it was written as."""

    start: date
    end: date
    kind: str = "custom"  # "month", "week" or "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def month(year: int, number: int) -> Period:
    """The calendar month `year-number`."""
    start = date(year, number, 1)
    end = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period(start, end, "month")


def week_of(day: date) -> Period:
    """The Monday-to-Sunday week holding `day`."""
    start = day - timedelta(days=day.weekday())
    return Period(start, start + timedelta(days=7), "week")


def parse_period(text: str, *, field: str = "--period") -> Period:
    """Read `2026-10`, `2026-W43` or `2026-10-01..2026-10-15` (end exclusive).

    Raises:
        InputError: naming the field, when the text is none of these.
    """
    value = text.strip()
    try:
        if m := _MONTH.match(value):
            return month(int(m[1]), int(m[2]))
        if m := _WEEK.match(value):
            return week_of(date.fromisocalendar(int(m[1]), int(m[2]), 1))
        if m := _RANGE.match(value):
            start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if end > start:
                return Period(start, end, "custom")
    except ValueError:
        pass
    raise InputError(f"{text!r} is not a period", field=field, hint=PERIOD_HINT)


def horizon_days(text: str, *, bare: bool = True) -> int | None:
    """The days of a horizon written `day 30` (or `30` when `bare`), else None."""
    value = text.strip()
    found = _HORIZON.match(value)
    if found is None or (not bare and not value.lower().startswith("day")):
        return None
    return int(found[1])


def previous(period: Period) -> Period:
    """The period of the same kind and length just before `period`."""
    if period.kind == "month":
        before = period.start - timedelta(days=1)
        return month(before.year, before.month)
    length = timedelta(days=period.days)
    return Period(period.start - length, period.start, period.kind)


def last_full_month(today: date) -> Period:
    """The calendar month before the one holding `today` (the default review period)."""
    return previous(month(today.year, today.month))


def units(kind: str, period: Period) -> list[Period]:
    """The weeks or months that belong to `period`.

    A week belongs to the period holding its Thursday (ISO 8601's rule: a week that
    straddles two months belongs to the month of its Thursday); a month belongs to a
    period that holds all of it.
    """
    found: list[Period] = []
    if kind == "week":
        week = week_of(period.start)
        while week.start < period.end:
            thursday = week.start + timedelta(days=3)
            if period.start <= thursday < period.end:
                found.append(week)
            week = Period(week.end, week.end + timedelta(days=7), "week")
    elif kind == "month":
        current = month(period.start.year, period.start.month)
        while current.start < period.end:
            if period.start <= current.start and current.end <= period.end:
                found.append(current)
            current = month(current.end.year, current.end.month)
    return found


def parse_day(value: str, field: str) -> date:
    """A local date as a user writes it (`--from 2026-10-01`, `?from=2026-10-01`).

    Raises:
        InputError: not an ISO date, naming `field`.
    """
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date", field=field, hint="write a local date: 2026-10-01"
        ) from None


def day_start(value: str, field: str, zone: ZoneInfo) -> datetime:
    """The instant a local date as written starts (`--at 2026-10-01`, `?at=...`).

    Raises:
        InputError: not an ISO date, naming `field`.
    """
    return datetime.combine(parse_day(value, field), time(), zone)


# Events this long before the day asked about suggest an imported history, not a live
# group: what is decided as of that day finds everyone idle since (`history_ended`).
HISTORY_GAP = timedelta(days=30)


@dataclass(frozen=True)
class HistoryEnd:
    """What a view as of a day says of a history that ended long before it (an imported
    one, such as the demo's, where everyone has been idle since): its last local day, or
    None, and the day after it to ask about."""

    end: date | None

    @property
    def after(self) -> date | None:
        return None if self.end is None else self.end + timedelta(days=1)


def history_ended(last: date | None, today: date) -> HistoryEnd:
    """The last local day with events when it is more than `HISTORY_GAP` before
    `today`."""
    return HistoryEnd(last if last is not None and today - last > HISTORY_GAP else None)
