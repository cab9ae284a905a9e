"""Building small event logs for the analytics tests, and running the engine on them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from shequn.analytics.copy import STORE_COLUMNS, memory_copy
from shequn.analytics.engine import compute
from shequn.analytics.series import daily_series, retention
from shequn.clock import to_micros

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_us(when: str, zone: ZoneInfo = SHANGHAI) -> int:
    """UTC microseconds of a local time ("2026-03-01 10:00") in `zone`."""
    return to_micros(datetime.fromisoformat(when).replace(tzinfo=zone))


class LogBuilder:
    """Events in the order they are added (their ids), with local times in `zone`."""

    def __init__(self, zone: ZoneInfo = SHANGHAI) -> None:
        self.zone = zone
        self.events: list[dict[str, Any]] = []

    def add(self, when: str, type_: str, member: str | None = None, **fields: Any) -> dict:
        """Add one event at local time `when` ("2026-03-01 10:00")."""
        local = datetime.fromisoformat(when).replace(tzinfo=self.zone)
        event = dict.fromkeys(STORE_COLUMNS)
        amount = fields.pop("amount", None)
        event.update(
            id=len(self.events) + 1,
            ts=to_micros(local),
            community=fields.pop("community", "c1"),
            member=member,
            type=type_,
            amount=Decimal(amount) if amount is not None else None,
            **fields,
        )
        self.events.append(event)
        return event


def to_arrow(events: list[dict[str, Any]]) -> pa.Table:
    """Store-shaped rows (amount as decimal text) for `shequn.analytics.copy.append`."""
    columns: dict[str, list[Any]] = {name: [] for name in STORE_COLUMNS}
    for event in events:
        for name in STORE_COLUMNS:
            value = event.get(name)
            columns[name].append(str(value) if name == "amount" and value is not None else value)
    return pa.table(
        {
            name: pa.array(values, type=pa.int64() if name in ("id", "ts") else pa.string())
            for name, values in columns.items()
        }
    )


def persons_table(persons: dict[str, str]) -> pa.Table:
    return pa.table(
        {"key": list(persons), "person": list(persons.values())},
        schema=pa.schema([("key", pa.string()), ("person", pa.string())]),
    )


def engine_figures(
    events: list[dict[str, Any]],
    start: date,
    end: date,
    zone: ZoneInfo = SHANGHAI,
    persons: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, dict[str, Any]]:
    """The engine's figures over an in-memory copy loaded with `events`."""
    return engine_periods(events, [(start, end)], zone, persons, **options)[0]


def engine_periods(
    events: list[dict[str, Any]],
    periods: list[tuple[date, date]],
    zone: ZoneInfo = SHANGHAI,
    persons: dict[str, str] | None = None,
    **options: Any,
) -> list[dict[str, dict[str, Any]]]:
    """The engine's figures for several periods over one in-memory copy."""
    con = memory_copy(to_arrow(events), zone, persons_table(persons or {}))
    # A handful of rows: one thread plans and runs them fastest.
    con.execute("SET threads = 1")
    try:
        return [compute(con, start, end, zone=zone, **options) for start, end in periods]
    finally:
        con.close()


def engine_series(
    events: list[dict[str, Any]], start: date, end: date, zone: ZoneInfo = SHANGHAI
) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """(daily series, retention cohorts) over an in-memory copy."""
    con = memory_copy(to_arrow(events), zone, persons_table({}))
    try:
        return daily_series(con, start, end, zone=zone), retention(con, start, end, zone=zone)
    finally:
        con.close()


# The week of the canonical log: 2026-03-02 to 2026-03-09 (local, end exclusive).
MARCH = (date(2026, 3, 2), date(2026, 3, 9))


def canonical_log() -> LogBuilder:
    """Two communities' canonical events around `MARCH`, one of each kind that counts."""
    log = LogBuilder()
    log.add("2026-03-01 08:00", "visit", None, channel="ch1", visitor="v1")  # c1 starts here
    log.add("2026-03-01 09:00", "message", "h")  # history start: a member since 08:00
    log.add("2026-03-01 10:00", "join", "a", channel="ch1", visitor="v1")
    log.add("2026-03-02 10:00", "join", "b", inviter="a")
    log.add("2026-03-03 11:00", "message", "a")
    log.add("2026-03-03 12:00", "content_sent", None, content_id="x")
    log.add("2026-03-03 13:00", "content_click", "b", content_id="x")
    log.add("2026-03-04 09:00", "order", "b", order_id="o1", amount="12.50")
    log.add("2026-03-05 09:00", "leave", "h")
    log.add("2026-03-03 09:00", "reaction", "k", community="c2")  # c2 starts here
    return log
