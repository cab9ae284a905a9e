"""What the dashboard shows, gathered from the functions the CLI uses.

Figures and daily series come from one staged copy of the log (`analytics.engine`,
`analytics.series`); goals and the funnel from the review (`review.run`); the stage from
`sop.lifecycle`; alerts from the outbox, the tasks and the daily metric watch
(`sop.watch.crossed`: the thresholds the playbooks and the lifecycle plan declare,
judged by the watch's own rule). Labels from the metric registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shequn.clock import Clock
from shequn.domain.metrics import METRICS, figure
from shequn.errors import InputError
from shequn.periods import last_full_month
from shequn.workspace import Workspace

# The trend charts: each is a daily figure of the registry over the series' columns.
CHARTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("active", (("daily_dau", "dau"),)),
    ("growth", (("daily_joins", "joins"), ("daily_leaves", "leaves"))),
    ("messages", (("daily_messages", "messages"),)),
    ("sales", (("daily_orders", "orders"), ("daily_gmv", "gmv"))),
)


@dataclass
class Dashboard:
    scope: str  # a community key or "*"
    start: date
    end: date
    figures: list[dict[str, Any]]  # name, label, kind, value
    charts: list[dict[str, Any]]  # id, days, series [{name, label, data}]
    channels: dict[str, dict[str, Any]]  # by_channel: visits, channel_joins, conversion


@dataclass
class Goals:
    """The slower half, loaded by HTMX after the page: the review's goals and funnel."""

    review: Any  # shequn.review.build.Review
    stages: list[Any]  # sop.lifecycle.Standing


def default_period(ws: Workspace, clock: Clock) -> tuple[date, date]:
    """The last full month the data covers (as `shequn metrics`), else the last one."""
    from shequn.analytics.engine import data_days

    span = data_days(ws)
    last = span[1] if span else clock.now().astimezone(ws.settings.zone).date()
    month = last_full_month(last + timedelta(days=1))
    return month.start, month.end


def gather(ws: Workspace, scope: str, start: date, end: date, lang: str) -> Dashboard:
    """The figures and daily trends of one scope for local days [start, end)."""
    from shequn.analytics.engine import copy_cursor, figures_of, prepare
    from shequn.analytics.period import ZonedPeriod
    from shequn.analytics.series import daily_of, daily_orders

    if end <= start:
        raise InputError(
            "the period ends before it starts",
            field="to",
            hint="choose a 'to' day after the 'from' day",
        )
    with copy_cursor(ws) as (db, tz):
        period = ZonedPeriod(start, end, tz)
        prepare(db, period)
        figures = figures_of(db, period)
        daily = daily_of(db, period)
        orders = daily_orders(db, period)
    if scope not in figures and scope != "*":
        known = ", ".join(k for k in figures if k != "*") or "none"
        raise InputError(f"no community {scope!r}", field="community", hint=f"use one of: {known}")
    rows = daily.get(scope, [])
    from shequn.analytics.period import day_number

    for row in rows:
        row["orders"] = orders.get((scope, day_number(row["day"])), 0)
    return Dashboard(
        scope=scope,
        start=start,
        end=end,
        figures=_figures(figures.get(scope, {}), lang),
        charts=_charts(rows, lang),
        channels=figures.get(scope, {}).get("by_channel") or {},
    )


def gather_goals(
    ws: Workspace, scope: str, start: date, end: date, lang: str, clock: Clock
) -> Goals:
    """The review's goals against actuals and its funnel, and the lifecycle stages."""
    from shequn.review.run import review_workspace

    today = clock.now().astimezone(ws.settings.zone).date()
    review = review_workspace(
        ws,
        community=None if scope == "*" else scope,
        period=f"{start}..{end}",
        lang=lang,
        today=today,
    )
    return Goals(review=review, stages=_stages(ws, scope, clock))


def _figures(values: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "name": m.name,
            "label": m.label_in(lang),
            "kind": m.kind,
            "percent": m.percent,
            "value": values.get(m.name),
        }
        for m in METRICS
        if m.kind != "table"
    ]


def _charts(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    days = [r["day"].isoformat() for r in rows]
    charts = []
    for chart_id, series in CHARTS:
        charts.append(
            {
                "id": chart_id,
                "days": days,
                "series": [
                    {
                        "name": column,
                        "label": _label(name, lang),
                        "data": [float(r[column]) for r in rows],
                    }
                    for name, column in series
                ],
            }
        )
    return charts


def _label(name: str, lang: str) -> str:
    metric = figure(name)
    return metric.label_in(lang) if metric else name


def _stages(ws: Workspace, scope: str, clock: Clock) -> list[Any]:
    from shequn.sop.lifecycle import overview

    return [s for s in overview(ws, clock) if scope in ("*", s.community)]


def alerts(ws: Workspace, scope: str, clock: Clock) -> dict[str, int]:
    from shequn.services.tasks import list_tasks
    from shequn.web.queries import outbox_counts

    overdue = [t for t in list_tasks(ws, overdue=True, clock=clock) if scope in ("*", t.community)]
    dead = outbox_counts(ws, None if scope == "*" else scope).get("dead", 0)
    return {"overdue_tasks": len(overdue), "dead_actions": dead}


def local_time(ws: Workspace, when: datetime | None) -> str:
    if when is None:
        return "-"
    return when.astimezone(ws.settings.zone).strftime("%Y-%m-%d %H:%M")


def crossings(
    ws: Workspace, scope: str, start: date, end: date, clock: Clock
) -> list[dict[str, Any]]:
    """The declared thresholds crossed on the ended local days of [start, end).

    The thresholds are those the engine watches (the playbooks in force and the lifecycle
    plan); each crossing is judged as the daily watch judges it (`sop.watch.crossed`), so
    the dashboard shows a crossing over imported history too, where no engine ran.
    """
    from shequn.sop import watch
    from shequn.sop.evaluate import thresholds_of
    from shequn.sop.lifecycle import current_plan
    from shequn.sop.selection import in_force

    today = clock.now().astimezone(ws.settings.zone).date()
    last = min(end, today) - timedelta(days=1)
    if last < start:
        return []
    with ws.engine.connect() as conn:
        running, _problems = in_force(conn, ws.root / "playbooks")
        thresholds = (
            thresholds_of(running) | current_plan(conn, ws.root, remember=False).thresholds()
        )
        conn.rollback()
    if not thresholds:
        return []
    first = start - timedelta(days=max(t.days for t in thresholds))
    readings = watch.measure(ws, first, last)
    communities = list(readings.values) if scope == "*" else [scope]
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
    rows, _held = watch.crossed(readings, ws.settings, thresholds, communities, days)
    found = [
        {"community": r["community"], "threshold": r["text"], **json.loads(r["meta"])} for r in rows
    ]
    return sorted(found, key=lambda c: (c["day"], c["community"], c["threshold"]), reverse=True)
