"""A period pinned to a time zone, and the integers the engine's SQL is written in.

`shequn.periods.Period` is a period as the user writes it (a month, a week, dates);
`ZonedPeriod` is the same half-open date range in the workspace zone, as the engine
measures it (instants, day numbers, the join-cohort N).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shequn.clock import to_micros
from shequn.errors import InputError

EPOCH = date(1970, 1, 1)
DAY_US = 86_400_000_000


def day_number(day: date) -> int:
    """Days since 1970-01-01 (the copy's `day` column for a local date)."""
    return (day - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=number)


def local_midnight_us(day: date, zone: ZoneInfo) -> int:
    """The instant a local day starts, in UTC microseconds."""
    return to_micros(datetime.combine(day, time(0), zone))


def week_number(day: int) -> int:
    """Monday-based week index of a day number (1970-01-01 was a Thursday)."""
    return (day + 3) // 7


def week_monday(week: int) -> date:
    return from_day_number(week * 7 - 3)


@dataclass(frozen=True)
class ZonedPeriod:
    """Local dates [start, end) in a zone; `cohort_days` is N of the join cohort."""

    start: date
    end: date
    zone: ZoneInfo
    cohort_days: int = 30

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InputError(
                f"the period {self.start} to {self.end} is empty",
                field="--to",
                hint="--to is the day after the last day of the period (exclusive)",
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def params(self) -> dict[str, int]:
        """Integers the engine's SQL refers to by name."""
        last = day_number(self.last)
        mau_from = self.last - timedelta(days=29)
        # Activity is staged from the MAU window (or the week of start, for retention)
        # to the end of the week of the last day.
        monday = self.start - timedelta(days=self.start.weekday())
        next_monday = self.last + timedelta(days=7 - self.last.weekday())
        return {
            "ps": local_midnight_us(self.start, self.zone),
            "pe": local_midnight_us(self.end, self.zone),
            "ds": day_number(self.start),
            "de": day_number(self.end),
            "last": last,
            "days": self.days,
            "mau_from_us": local_midnight_us(mau_from, self.zone),
            # Instants spans are looked up at: P, and the weeks that overlap it.
            "span_from": local_midnight_us(monday, self.zone),
            "span_to": local_midnight_us(next_monday, self.zone),
            "act_from": day_number(min(monday, mau_from)),
            "act_to": day_number(next_monday),
            "cohort_us": self.cohort_days * DAY_US,
        }
