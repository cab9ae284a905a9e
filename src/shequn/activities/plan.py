"""An activity's promotion plan as playbooks, run by the SOP engine like any other.

Each point of the plan becomes a small playbook `activity-<name>-<point>` with one
step. The announcement (T−3d) and the follow-up after the end go to the group: a
one-shot schedule at that local minute and a `send_group` step. The reminders (T−1d,
T−1h) and the feedback survey go privately to each member signed up by then: a
`signed_up` trigger at that instant and a `send_private` step (where the platform
cannot send privately, the engine makes it an operator task, as for any step). The
engine evaluates, keys, sends and records them exactly as it does a playbook file:
there is no second engine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from shequn.activities.loader import scan
from shequn.activities.model import Activity
from shequn.clock import from_micros
from shequn.errors import InputError
from shequn.sop.model import Playbook
from shequn.sop.render import render
from shequn.sop.timing import parse_offset

# A schedule repeats every year: the plan runs only around its activity.
_BEFORE, _AFTER = timedelta(days=300), timedelta(days=30)


# The points sent privately to each member signed up (the others go to the group).
PRIVATE = ("remind", "feedback")


def private(point: str) -> bool:
    return point.startswith(PRIVATE)


def points(activity: Activity, zone: ZoneInfo) -> list[tuple[str, datetime, str]]:
    """(point, local instant, text template) of the plan, in time order."""
    start, end = (t.astimezone(zone) for t in activity.window(zone))
    promo = activity.promotion
    found: list[tuple[str, datetime, str]] = []
    if promo.announce:
        found.append(("announce", start - _delta(promo.announce), promo.announce_text))
    for i, before in enumerate(promo.reminders, 1):
        found.append((f"remind-{i}", start - _delta(before), promo.reminder_text))
    if promo.follow_up:
        found.append(("follow-up", end + _delta(promo.follow_up), promo.follow_up_text))
    survey = activity.feedback.question + (
        f" {activity.feedback.link}" if activity.feedback.link else ""
    )
    found.append(("feedback", end + _delta(activity.feedback.after), survey))
    return sorted(found, key=lambda p: p[1])


def _delta(offset: str) -> timedelta:
    return timedelta(microseconds=parse_offset("+" + offset.lstrip("+-")).micros)


def _text(template: str, activity: Activity, zone: ZoneInfo) -> str:
    """The text with the activity's fields filled in, kept literal for the engine."""
    start, end = (t.astimezone(zone) for t in activity.window(zone))
    values = {
        "activity": {
            "name": activity.name,
            "title": activity.title,
            "start": start.strftime("%m-%d %H:%M"),
            "end": end.strftime("%m-%d %H:%M"),
            "link": activity.feedback.link or "",
        }
    }
    return "{% raw %}" + render(template, values) + "{% endraw %}"


def playbooks_of(activity: Activity, zone: ZoneInfo) -> list[Playbook]:
    """The playbooks of an activity's promotion plan."""
    found = []
    for point, at, template in points(activity, zone):
        kind = "send_private" if private(point) else "send_group"
        step = {
            "id": point,
            "at": "+0m",
            "action": {"type": kind, "text": _text(template, activity, zone)},
            "owner": activity.owner,
            "emergency": {
                "do": f"post the {point} of {activity.title} by hand",
                "alert": activity.owner,
            },
        }
        trigger = (
            {"type": "signed_up", "activity": activity.name, "when": at.isoformat()}
            if private(point)
            else {"type": "schedule", "every": f"{at.minute} {at.hour} {at.day} {at.month} *"}
        )
        found.append(
            Playbook.model_validate(
                {
                    "name": f"activity-{activity.name}-{point}",
                    "title": f"{activity.title}: {point}",
                    "applies_to": {"communities": [activity.community]},
                    "trigger": trigger,
                    "steps": [step],
                }
            )
        )
    return found


def promotion_playbooks(
    root: Path, zone: ZoneInfo, now: int, until: int | None = None
) -> tuple[list[Playbook], list[InputError]]:
    """The plans of the workspace's activities around `now` (or any instant up to
    `until`: a replay's period), and the invalid files."""
    activities, problems = scan(root)
    first, last = from_micros(now), from_micros(now if until is None else until)
    found = []
    for activity in activities:
        start, end = activity.window(zone)
        if start - _BEFORE <= last and first <= end + _AFTER:
            found.extend(playbooks_of(activity, zone))
    return found, problems
