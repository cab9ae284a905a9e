"""Random small event logs (hypothesis) for the property tests of the engine."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from shequn.clock import to_micros

# Around Europe/Berlin's change to summer time (2026-03-29) and ordinary Shanghai days.
BASE = date(2026, 3, 26)
ZONES = (ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"))
MEMBERS = ("m1", "m2", "m3", "m4")
TYPES = (
    "join", "join", "leave", "message", "message", "reaction", "checkin", "visit",
    "order", "order", "content_sent", "content_click",
)  # fmt: skip
# Minutes from a local midnight: events crowd around day boundaries, and often tie.
OFFSETS = (-60, -1, 0, 0, 1, 60, 720)
PERIODS = (
    (BASE, BASE + timedelta(days=6)),
    (BASE + timedelta(days=2), BASE + timedelta(days=4)),
    (BASE + timedelta(days=3), BASE + timedelta(days=4)),
)


def _row(draw: st.DrawFn, zone: ZoneInfo) -> dict[str, Any]:
    day = BASE + timedelta(days=draw(st.integers(0, 6)))
    local = datetime.combine(day, time(0), zone) + timedelta(minutes=draw(st.sampled_from(OFFSETS)))
    kind = draw(st.sampled_from(TYPES))
    maybe = st.one_of(st.none(), st.sampled_from(("a", "b")))
    return {
        "ts": to_micros(local),
        "community": draw(st.sampled_from(("c1", "c2"))),
        "member": None if kind == "visit" else draw(st.sampled_from(MEMBERS)),
        "type": kind,
        "channel": draw(st.one_of(st.none(), st.sampled_from(("ch1", "ch2")))),
        "inviter": draw(st.one_of(st.none(), st.sampled_from(MEMBERS))),
        "visitor": draw(maybe),
        "content_id": draw(st.one_of(st.none(), st.sampled_from(("x", "y")))),
        "order_id": draw(maybe),
        "amount": draw(st.sampled_from(("-5", "0", "3.5", "10.25"))) if kind == "order" else None,
    }


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], ZoneInfo, dict[str, str]]:
    zone = draw(st.sampled_from(ZONES))
    rows = [_row(draw, zone) for _ in range(draw(st.integers(1, 60)))]
    events = []
    for i, row in enumerate(rows, start=1):
        amount = row.pop("amount")
        events.append({"id": i, **row, "amount": Decimal(amount) if amount else None})
    persons = draw(st.sampled_from(({}, {"m4": "m1"})))
    return events, zone, persons
