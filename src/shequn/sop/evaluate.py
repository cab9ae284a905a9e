"""One vectorized pass: which steps of which playbooks fall due in a tick's window.

A step is due in the window (start, end] when its trigger occurred at `occ` and
`occ + offset` (or the local clock time `offset.days` days after occ's local day)
lies in the window. Occurrences are first cut to those that can fall due in the
window, so the per-step work touches only a handful of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl

from shequn.clock import from_micros, to_micros
from shequn.sop.model import Playbook, ScheduleTrigger, Step
from shequn.sop.timing import occurrences as schedule_occurrences
from shequn.sop.triggers import CONDITION_RULES, DAY_US, TRIGGER_RULES, Frames

_MARGIN = 2 * 3_600_000_000
DUE_SCHEMA = {
    "playbook": pl.String,
    "step": pl.String,
    "community": pl.String,
    "member": pl.String,
    "target": pl.String,
    "occ_ts": pl.Int64,
    "due_ts": pl.Int64,
    "key": pl.String,
}


@dataclass(frozen=True)
class Window:
    """The instants (start, end] in µs this tick is responsible for."""

    start: int
    end: int


def lookback(playbooks: Sequence[Playbook]) -> int:
    """How far before the window the tick must read events (µs)."""
    longest = 0
    for pb in playbooks:
        days = getattr(pb.trigger, "days", None) or 0
        step_max = max(step.offset.max_micros for step in pb.steps)
        longest = max(longest, step_max + days * DAY_US)
    return longest + DAY_US  # a day more: leaves after the last activity, DST shifts


def communities_of(
    pb: Playbook, known: Sequence[str], templates: dict[str, str]
) -> list[str] | None:
    """The community keys a playbook applies to; None means every community.

    Args:
        pb: the playbook.
        known: every community key of the workspace (settings and the store).
        templates: community key -> its template name, from the settings.
    """
    chosen = set(pb.applies_to.communities)
    chosen |= {key for key, name in templates.items() if name in pb.applies_to.templates}
    if "*" in chosen:
        return None if pb.per_member else sorted(known)
    return sorted(chosen)


def _due_ts(step: Step, zone: str) -> pl.Expr:
    offset = step.offset
    if offset.at is None:
        return pl.col("occ_ts") + offset.micros
    local_day = (
        pl.from_epoch("occ_ts", time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(zone)
        .dt.date()
        .dt.offset_by(f"{offset.days}d")
    )
    return (
        local_day.dt.combine(offset.at)
        .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.epoch("us")
    )


def _schedule(trigger: ScheduleTrigger, zone: str, start: int, end: int) -> list[int]:
    return [
        to_micros(at.astimezone(UTC))
        for at in schedule_occurrences(
            trigger.cron, ZoneInfo(zone), from_micros(start), from_micros(end)
        )
    ]


def band(step: Step, window: Window) -> tuple[int, int]:
    """The trigger instants (lo, hi] from which this step can fall due in the window."""
    offset = step.offset
    if offset.at is None:
        return window.start - offset.micros, window.end - offset.micros
    # The clock time lies within a day of the trigger's local time; DST moves it an hour.
    return (
        window.start - (offset.days + 1) * DAY_US - _MARGIN,
        window.end - (offset.days - 1) * DAY_US + _MARGIN,
    )


def _occurrences(
    pb: Playbook, frames: Frames, zone: str, window: Window, communities: list[str] | None
) -> pl.DataFrame:
    bands = [band(step, window) for step in pb.steps]
    lo, hi = min(b[0] for b in bands), max(b[1] for b in bands)
    if isinstance(pb.trigger, ScheduleTrigger):
        times = _schedule(pb.trigger, zone, lo, hi)
        keys = communities or []
        return pl.DataFrame(
            {
                "community": [c for c in keys for _ in times],
                "member": pl.Series([None] * (len(keys) * len(times)), dtype=pl.String),
                "occ_ts": [t for _ in keys for t in times],
            },
            schema={"community": pl.String, "member": pl.String, "occ_ts": pl.Int64},
        )
    found = TRIGGER_RULES[pb.trigger.type](frames, pb.trigger, lo, hi)
    if communities is not None:
        found = found.filter(pl.col("community").is_in(communities))
    return found


def _audience(pb: Playbook, frames: Frames, found: pl.DataFrame) -> pl.DataFrame:
    if not pb.audience.channels or not pb.per_member:
        return found
    joined = (
        frames.between(("join",), -(2**62))  # every join the tick read
        .filter(pl.col("channel").is_in(pb.audience.channels))
        .select("community", "member")
        .unique()
    )
    return found.join(joined, on=["community", "member"], how="semi")


def due_steps(
    playbooks: Sequence[Playbook],
    frames: Frames,
    window: Window,
    zone: str,
    communities: dict[str, list[str] | None],
) -> pl.DataFrame:
    """Every (playbook, step, target, occurrence) due in the window, with its key.

    Args:
        playbooks: the valid playbooks.
        frames: the events the tick read.
        window: the tick's window.
        zone: the workspace time zone, for clock-time offsets and schedules.
        communities: per playbook name, the community keys it applies to (None: all);
            schedule playbooks need the explicit list of known communities.
    """
    parts: list[pl.DataFrame] = []
    for pb in playbooks:
        found = _audience(pb, frames, _occurrences(pb, frames, zone, window, communities[pb.name]))
        if found.is_empty():
            continue
        for step in pb.steps:
            lo, hi = band(step, window)
            due = found.filter((pl.col("occ_ts") > lo) & (pl.col("occ_ts") <= hi))
            due = due.with_columns(_due_ts(step, zone).alias("due_ts")).filter(
                (pl.col("due_ts") > window.start) & (pl.col("due_ts") <= window.end)
            )
            if step.condition is not None and not due.is_empty():
                due = CONDITION_RULES[step.condition](frames, due, window.end)
            if not due.is_empty():
                parts.append(_keyed(due, pb.name, step.id))
    if not parts:
        return pl.DataFrame(schema=DUE_SCHEMA)
    return pl.concat(parts).sort("due_ts", "key")


def _keyed(due: pl.DataFrame, playbook: str, step: str) -> pl.DataFrame:
    target = pl.coalesce("member", "community")
    return due.select(
        pl.lit(playbook).alias("playbook"),
        pl.lit(step).alias("step"),
        "community",
        "member",
        target.alias("target"),
        "occ_ts",
        "due_ts",
        pl.concat_str(
            pl.lit(f"{playbook}|{step}|"), target, pl.lit("|"), pl.col("occ_ts").cast(pl.String)
        ).alias("key"),
    )


def now_window(last: int | None, now: datetime) -> Window:
    """The window of a tick at `now` after a tick at `last` (the first tick: empty)."""
    end = to_micros(now)
    return Window(end if last is None else min(last, end), end)
