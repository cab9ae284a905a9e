"""Timestamps as DiscordChatExporter writes them, to UTC.

JSON exports and newer CSV exports write ISO 8601 with an offset
(``2020-05-17T12:34:56.789+00:00``); older CSV exports wrote the exporting computer's
local time as ``17-May-20 12:34 PM``, read here in the import's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import polars as pl

_ISO = "%Y-%m-%dT%H:%M:%S%.f%z"
# Local forms without an offset, tried in order when ISO fails.
LOCAL_FORMATS: tuple[str, ...] = (
    "%d-%b-%y %I:%M %p",
    "%d-%b-%y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
)


def parse_times(values: pl.Series, zone: tzinfo) -> pl.Series:
    """UTC datetimes; null where a value is missing or in no known form."""
    normal = values.str.strip_chars().str.replace(r"[zZ]$", "+00:00")
    parsed = normal.str.to_datetime(_ISO, time_zone="UTC", strict=False)
    failed = parsed.is_null() & values.is_not_null()
    if not failed.any():
        return parsed.alias("ts")
    positions = failed.arg_true()
    fixed = [parse_one(values[int(i)], zone) for i in positions]
    return parsed.scatter(positions, pl.Series(fixed, dtype=pl.Datetime("us", "UTC"))).alias("ts")


def parse_one(raw: str, zone: tzinfo) -> datetime | None:
    """One timestamp: ISO (with or without offset) or a local form; None if unreadable."""
    raw = raw.strip()
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        when = None
        for form in LOCAL_FORMATS:
            try:
                when = datetime.strptime(raw, form)
                break
            except ValueError:
                continue
    if when is None:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(UTC)
