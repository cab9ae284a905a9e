"""When a step is due: offsets after the trigger, clock times, schedules.

Offsets are written `+30m`, `+2h`, `+1d`, or with a local clock time `+1d 20:00`
("the next day at 20:00", counted in calendar days of the workspace time zone).
Schedules are `every day 08:00`, `every weekday 08:00`, `every monday 20:00` or a
cron expression; both are read in the workspace time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from shequn.wall_time import to_utc

_OFFSET = re.compile(r"^\+(\d+)([mhd])(?:\s+(\d{1,2}):(\d{2}))?$")
_EVERY = re.compile(r"^every\s+(\w+)\s+(\d{1,2}):(\d{2})$")
_MARGIN = timedelta(hours=3)
_UNIT_US = {"m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
_DAYS = {
    "day": "*",
    "weekday": "1-5",
    "weekend": "0,6",
    **{
        name: str(i)
        for i, name in enumerate(
            ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
        )
    },
}
OFFSET_HINT = "write +30m, +2h, +1d or +1d 20:00 (days with a local clock time)"
SCHEDULE_HINT = (
    "write 'every day 08:00', 'every weekday 08:00', 'every monday 20:00' or a cron "
    "expression such as '0 8 * * 1-5'"
)


@dataclass(frozen=True)
class Offset:
    """A step's time after its trigger: a duration, or calendar days plus a clock time."""

    text: str
    micros: int  # the duration, or the whole days when `at` is set
    at: time | None = None

    @property
    def days(self) -> int:
        return self.micros // _UNIT_US["d"]

    @property
    def max_micros(self) -> int:
        """An upper bound of the delay, for how far back the tick must read."""
        return self.micros + (_UNIT_US["d"] if self.at is not None else 0)


def parse_offset(text: str) -> Offset:
    """Parse `+30m`, `+2h`, `+1d`, `+1d 20:00`.

    Raises:
        ValueError: with the fix, when the text is none of these.
    """
    match = _OFFSET.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a step time; {OFFSET_HINT}")
    amount, unit, hour, minute = match.groups()
    at = None
    if hour is not None:
        if unit != "d":
            raise ValueError(f"{text!r}: a clock time needs whole days; {OFFSET_HINT}")
        if int(hour) > 23 or int(minute) > 59:
            raise ValueError(f"{text!r}: {hour}:{minute} is not a clock time; {OFFSET_HINT}")
        at = time(int(hour), int(minute))
    return Offset(text.strip(), int(amount) * _UNIT_US[unit], at)


def to_cron(text: str) -> str:
    """The cron expression for `every ... HH:MM`, or the text itself if it is cron.

    Raises:
        ValueError: with the fix, when the text is not a schedule.
    """
    text = text.strip()
    match = _EVERY.match(text)
    if match:
        day, hour, minute = match.groups()
        if day not in _DAYS or int(hour) > 23 or int(minute) > 59:
            raise ValueError(f"{text!r} is not a schedule; {SCHEDULE_HINT}")
        return f"{int(minute)} {int(hour)} * * {_DAYS[day]}"
    if text.startswith("every") or not croniter.is_valid(text):
        raise ValueError(f"{text!r} is not a schedule; {SCHEDULE_HINT}")
    return text


def occurrences(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Schedule instants in (start, end], read in the workspace zone, returned in UTC.

    The schedule runs over local wall times; each becomes an instant by the one
    daylight-saving rule of `shequn.wall_time` (a time in the spring gap moves
    forward, a time in the autumn fold fires once, at the earlier instant), so a
    schedule neither skips the day clocks jump nor fires twice the day they fall back.
    """
    # Wall times from a little before the window's local start: a change of offset
    # moves instants across the window's edges by at most a few hours.
    it = croniter(cron, start.astimezone(zone).replace(tzinfo=None) - _MARGIN)
    last = end.astimezone(zone).replace(tzinfo=None) + _MARGIN
    found: set[datetime] = set()
    while (wall := it.get_next(datetime)) <= last:
        at = to_utc(wall.replace(tzinfo=zone))
        if start < at <= end:
            found.add(at)
    return sorted(found)
