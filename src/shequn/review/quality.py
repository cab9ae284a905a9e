"""Data-quality warnings of a review, and unknown figures kept unknown (not zero).

A community with no order in its log has no purchase conversion: its order metrics are
None ("no data"), never 0%. Other gaps are warned about in the review itself: no leave
event (churn looks like 0), no join that says where it came from and no visit (traffic
conversion and channel drivers cannot be measured), a period the log covers only part of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shequn.analytics.coverage import Coverage
from shequn.clock import from_micros
from shequn.periods import Period

# Metrics that only orders can make: unknown, not zero, without any order.
ORDER_METRICS = (
    "buyers",
    "purchase_conversion",
    "repurchase_rate",
    "orders",
    "gmv",
    "aov",
    "arpu",
    "join_cohort_conversion",
)
# Days without an event at either end of a period before it counts as partly covered.
SLACK = timedelta(days=1)


@dataclass(frozen=True)
class Warning:
    """One data-quality problem of a scope: a key of review/texts.py and its values."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


def mask_unknown(
    figures: Mapping[str, Mapping[str, Any]], coverage: Mapping[str, Coverage]
) -> dict[str, dict[str, Any]]:
    """The figures with order metrics set to None in scopes whose log has no order."""
    masked = {}
    for scope, row in figures.items():
        row = dict(row)
        if coverage.get(scope, Coverage()).orders == 0:
            row |= {m: None for m in ORDER_METRICS if m in row}
            row["by_channel"] = {
                ch: {**r, "buyers": None} for ch, r in (row.get("by_channel") or {}).items()
            }
        masked[scope] = row
    return masked


def warnings(cover: Coverage | None, period: Period, zone: ZoneInfo) -> tuple[Warning, ...]:
    """The data-quality warnings of one scope over a review period."""
    if cover is None or cover.first_ts is None or cover.last_ts is None:
        return (Warning("empty"),)
    found = []
    if cover.orders == 0:
        found.append(Warning("no_orders"))
    if cover.leaves == 0 and cover.joins > 0:
        found.append(Warning("no_leaves"))
    if cover.joins > 0 and cover.channel_joins == 0 and cover.visits == 0:
        found.append(Warning("no_channels"))
    first, last = _day(cover.first_ts, zone), _day(cover.last_ts, zone)
    # One quiet day at either end is no gap in the data.
    if first > period.start + SLACK or last < period.end - timedelta(days=1) - SLACK:
        shown_first, shown_last = max(first, period.start), min(last, period.end - timedelta(1))
        values = {"first": shown_first, "last": shown_last, "period": period.label}
        if shown_first > shown_last:
            found.append(Warning("outside", {"first": first, "last": last, "period": period.label}))
        else:
            found.append(Warning("partial", values))
    return tuple(found)


def _day(micros: int, zone: ZoneInfo) -> date:
    moment: datetime = from_micros(micros)
    return moment.astimezone(zone).date()
