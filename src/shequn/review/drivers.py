"""Drivers: which channels and communities pulled a figure down.

Rules (each a pure function over metric dicts):
- a channel whose share of joins exceeds its share of buyers by at least `MIN_SHARE_GAP`;
- a channel with at least `MIN_VISIT_SHARE` of the visits that converts at most half as
  well as all channels together;
- a community whose value of the focus metric is below the whole workspace's;
- the join cohort of the period converting (first order within N days of joining,
  `join_cohort_conversion`) at least `MIN_COHORT_DROP` worse than the previous cohort.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from shequn.review.i18n import fmt_share, fmt_value, metric_label, t

MIN_SHARE_GAP = 0.10
MIN_VISIT_SHARE = 0.10
MAX_COMMUNITIES = 3
MIN_COHORT_DROP = 0.10


@dataclass(frozen=True)
class Driver:
    """One finding: what, who, and the numbers behind it."""

    kind: Literal["channel_buyers", "channel_traffic", "community", "cohort"]
    subject: str
    figures: dict[str, Any] = field(default_factory=dict)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


def _joins(row: Mapping[str, Any]) -> float:
    return _num(row.get("joins", row.get("channel_joins")))


def channel_buyer_drivers(by_channel: Mapping[str, Mapping[str, Any]]) -> list[Driver]:
    """Channels that bring a larger share of joins than of buyers, largest gap first."""
    total_joins = sum(_joins(row) for row in by_channel.values())
    total_buyers = sum(_num(row.get("buyers")) for row in by_channel.values())
    if total_joins <= 0 or total_buyers <= 0:
        return []
    found = []
    for channel, row in by_channel.items():
        join_share = _joins(row) / total_joins
        buyer_share = _num(row.get("buyers")) / total_buyers
        if join_share - buyer_share >= MIN_SHARE_GAP - 1e-9:
            found.append(
                Driver(
                    "channel_buyers",
                    channel,
                    {"join_share": join_share, "buyer_share": buyer_share},
                )
            )
    return sorted(found, key=lambda d: d.figures["buyer_share"] - d.figures["join_share"])


def channel_traffic_drivers(by_channel: Mapping[str, Mapping[str, Any]]) -> list[Driver]:
    """Channels with many visits that convert at most half as well as the rest overall."""
    with_visits = {ch: row for ch, row in by_channel.items() if _num(row.get("visits")) > 0}
    visits = sum(_num(row.get("visits")) for row in with_visits.values())
    joins = sum(_num(row.get("channel_joins")) for row in with_visits.values())
    if visits <= 0:
        return []
    overall = joins / visits
    found = []
    for channel, row in with_visits.items():
        own_visits = _num(row.get("visits"))
        conversion = _num(row.get("channel_joins")) / own_visits
        if own_visits / visits >= MIN_VISIT_SHARE and conversion <= overall / 2:
            found.append(
                Driver(
                    "channel_traffic",
                    channel,
                    {"visits": int(own_visits), "conversion": conversion, "overall": overall},
                )
            )
    return sorted(found, key=lambda d: d.figures["conversion"])


def community_drivers(
    metrics: Mapping[str, Mapping[str, Any]],
    metric: str,
    *,
    higher_is_better: bool = True,
    names: Mapping[str, str] | None = None,
) -> list[Driver]:
    """Communities doing worse than the workspace (`*`) on `metric`, worst first."""
    overall = metrics.get("*", {}).get(metric)
    if not isinstance(overall, int | float | Decimal):
        return []
    sign = 1.0 if higher_is_better else -1.0
    found = []
    for key, row in metrics.items():
        value = row.get(metric)
        if key == "*" or not isinstance(value, int | float | Decimal):
            continue
        if sign * (float(value) - float(overall)) < 0:
            label = (names or {}).get(key) or key
            found.append(
                Driver(
                    "community",
                    label,
                    {"metric": metric, "value": float(value), "overall": float(overall)},
                )
            )
    found.sort(key=lambda d: sign * d.figures["value"])
    return found[:MAX_COMMUNITIES]


def cohort_drivers(
    current: Mapping[str, Any], previous: Mapping[str, Any], period: str, before: str
) -> list[Driver]:
    """The period's join cohort, when it converted clearly worse than the previous one."""
    now = current.get("join_cohort_conversion")
    then = previous.get("join_cohort_conversion")
    if not isinstance(now, int | float | Decimal) or not isinstance(then, int | float | Decimal):
        return []
    if not then or (float(now) - float(then)) / float(then) > -MIN_COHORT_DROP:
        return []
    figures = {"value": float(now), "overall": float(then), "before": before}
    return [Driver("cohort", period, figures)]


def describe(driver: Driver, lang: str) -> str:
    """The driver as one sentence in `lang`."""
    f = driver.figures
    if driver.kind == "channel_buyers":
        return t(
            lang,
            "drivers.channel_buyers",
            channel=driver.subject,
            join_share=fmt_share(f["join_share"]),
            buyer_share=fmt_share(f["buyer_share"]),
        )
    if driver.kind == "channel_traffic":
        return t(
            lang,
            "drivers.channel_traffic",
            channel=driver.subject,
            visits=f"{f['visits']:,}",
            conversion=fmt_value("traffic_conversion", f["conversion"]),
            overall=fmt_value("traffic_conversion", f["overall"]),
        )
    if driver.kind == "cohort":
        return t(
            lang,
            "drivers.cohort",
            period=driver.subject,
            before=f["before"],
            value=fmt_share(f["value"]),
            overall=fmt_share(f["overall"]),
        )
    return t(
        lang,
        "drivers.community",
        community=driver.subject,
        metric=metric_label(lang, f["metric"]),
        value=fmt_value(f["metric"], f["value"]),
        overall=fmt_value(f["metric"], f["overall"]),
    )
