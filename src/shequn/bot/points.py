"""Points and levels: awarding points as `points_added` records, and the tier they reach.

Levels are the workspace's tiers (`[[tiers]]` in shequn.toml, `Settings.tier_at`):
points crossing a tier also record `tier_changed`, the event the SOP's `tier_changed`
trigger starts playbooks on.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shequn.bot.decision import Record
from shequn.bot.setup import Setup
from shequn.bot.state import BotState


def award(state: BotState, setup: Setup, member: str, points: int, reason: str) -> list[Record]:
    """`points_added` (and `tier_changed` when a tier is crossed) for `member`."""
    if points == 0:
        return []
    before = state.totals.get(member, 0)
    total = before + points
    out = [
        Record(
            "points_added",
            member,
            text=reason,
            amount=points,
            meta={"reason": reason, "total": total},
        )
    ]
    old, new = setup.tier_at(before), setup.tier_at(total)
    if new != old and new is not None:
        out.append(Record("tier_changed", member, text=new, meta={"from": old}))
    return out


def checkin_day(now: datetime, zone: ZoneInfo) -> int:
    """The local date of `now` as an ordinal: consecutive days differ by one."""
    return now.astimezone(zone).date().toordinal()


def week_of(now: datetime, zone: ZoneInfo) -> str:
    """The local ISO week: 2026-W49."""
    year, week, _ = now.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
