"""Local wall-clock times to instants, with one rule for daylight-saving changes.

- A wall time in the spring gap (02:30 on the day New York's clocks jump from 02:00
  to 03:00) never happens: it moves forward by the length of the gap (02:30 is
  read as 03:30), as Python's zoneinfo with ``fold=0``, java.time and most
  schedulers do. Nothing is dropped.
- A wall time in the autumn fold (01:30 happens twice) is the earlier instant, once.

Importers reading local times, step times such as ``+1d 02:30``, schedules, `sop
plan` and `sop replay` all go through here (docs/sop.md, "Daylight saving").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo


def to_utc(local: datetime) -> datetime:
    """An aware local datetime as UTC, by the rule above (its ``fold`` is ignored)."""
    if local.tzinfo is None:
        raise ValueError(f"{local.isoformat()} has no time zone")
    # fold=0 takes the offset in force before a change: in a gap that is the earlier
    # (smaller) UTC offset, so the instant lands after the gap; in a fold the earlier.
    return local.replace(fold=0).astimezone(UTC)


def wall_instant(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant (UTC) of clock time ``at`` on local ``day`` in ``zone``."""
    return to_utc(datetime.combine(day, at, tzinfo=zone))
