"""The review's activities section: the activities that ended in the period, measured."""

from __future__ import annotations

from datetime import datetime

from shequn.review.i18n import t
from shequn.review.sections import Section
from shequn.workspace import Workspace


def _f(value: float | None, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def activities_section(
    ws: Workspace, lang: str, start: datetime, end: datetime, community: str | None
) -> Section:
    """One row per activity of `community` (None: all) that ended in [start, end)."""
    from shequn.activities.listing import activities
    from shequn.activities.results import measure
    from shequn.store.engine import read_transaction

    chosen = [
        item.activity
        for item in activities(ws)
        if start <= item.end < end and community in (None, item.activity.community)
    ]
    rows = []
    with read_transaction(ws.engine) as conn:
        for activity in chosen:
            r = measure(conn, activity, ws.settings.zone)
            e = r.effect
            roi = _f(e.roi, "{:+.0%}")
            if e.roi_low is not None:
                roi += f" ({e.roi_low:+.0%} … {_f(e.roi_high, '{:+.0%}')})"
            goal = f"{r.signups} / {activity.goal.target:g} {activity.goal.metric}"
            rows.append(
                (
                    activity.title,
                    activity.community,
                    activity.kind,
                    goal,
                    _f(r.attendance_rate, "{:.0%}"),
                    _f(r.nps, "{:+.0f}"),
                    _f(r.cost_per_attendee, "{:,.2f}"),
                    roi,
                )
            )
    note = t(lang, "activities.rule") if rows else t(lang, "activities.none")
    columns = tuple(t(lang, "activities.cols").split("|"))
    return Section("activities", t(lang, "section.activities"), columns, tuple(rows), note)
