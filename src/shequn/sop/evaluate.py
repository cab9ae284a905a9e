"""One vectorized pass: which steps of which playbooks fall due in a tick's window.

A step is due in the window (start, end] when its trigger occurred at `occ` and
`occ + offset` (or the local clock time `offset.days` days after occ's local day)
lies in the window. Each step is first turned into the exact bands of trigger
instants that can fall due in the window (`slots`): one band for a duration, one
band per local day for a clock time (none when the window does not contain that
clock time). Only the occurrences in those bands are looked up, so a one-minute
tick touches a few hundred rows even over a million members, and a replay over
weeks is the same code with more bands.

Emergency plans with a `threshold:` add one alert per `metric_crossed` event of
that threshold in the window (`kind = "alert"` rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from shequn.clock import from_micros, to_micros
from shequn.sop.model import MetricThreshold, Playbook, ScheduleTrigger, Step
from shequn.sop.thresholds import Threshold
from shequn.sop.timing import occurrences as schedule_occurrences
from shequn.sop.triggers import CONDITION_RULES, DAY_US, OCC_SCHEMA, TRIGGER_RULES, Frames
from shequn.wall_time import wall_instant

DUE_SCHEMA = {
    "playbook": pl.String,
    "step": pl.String,
    "community": pl.String,
    "member": pl.String,
    "target": pl.String,
    "occ_ts": pl.Int64,
    "due_ts": pl.Int64,
    "key": pl.String,
    "kind": pl.String,  # "step", or "alert" for an emergency plan's threshold alert
}
Slot = tuple[int, int, int | None]  # trigger instants (lo, hi], and their due time if fixed


@dataclass(frozen=True)
class Window:
    """The instants (start, end] in µs this tick is responsible for."""

    start: int
    end: int


def lookback(playbooks: Sequence[Playbook]) -> int:
    """How far before the window the tick must read events (µs)."""
    longest = 0
    for pb in playbooks:
        days = getattr(pb.trigger, "days", None) if pb.trigger.type == "member_inactive" else 0
        step_max = max(step.offset.max_micros for step in pb.steps)
        longest = max(longest, step_max + (days or 0) * DAY_US)
    return longest + DAY_US  # a day more: DST shifts of clock-time steps


def thresholds_of(playbooks: Iterable[Playbook]) -> set[Threshold]:
    """Every metric threshold the playbooks use (triggers and emergency plans).

    The daily watch measures these and records a `metric_crossed` event, with the
    threshold's id as its text, when one has held for its days.
    """
    found: set[Threshold] = set()
    for pb in playbooks:
        if isinstance(pb.trigger, MetricThreshold):
            found.add(pb.trigger.threshold)
        found |= {s.emergency.threshold for s in pb.steps if s.emergency.threshold is not None}
    return found


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
        # A schedule has no events to name its communities: it needs the list.
        return sorted(known) if isinstance(pb.trigger, ScheduleTrigger) else None
    return sorted(chosen)


def _day_start(day: date, zone: ZoneInfo) -> int:
    # fold=0 at a midnight that does not exist gives the first instant of the day.
    return to_micros(datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC))


def slots(step: Step, window: Window, zone: str) -> list[Slot]:
    """The trigger instants (lo, hi] from which this step falls due in the window.

    A duration: one band, due at occ + duration. A clock time `+Nd HH:MM`: for each
    local day D whose D + N at HH:MM lies in the window, the instants of day D, all
    due at that one time.
    """
    offset = step.offset
    if offset.at is None:
        return [(window.start - offset.micros, window.end - offset.micros, None)]
    tz = ZoneInfo(zone)
    day = from_micros(window.start).astimezone(tz).date() - timedelta(days=offset.days + 1)
    last = from_micros(window.end).astimezone(tz).date() - timedelta(days=offset.days - 1)
    found: list[Slot] = []
    while day <= last:
        due = to_micros(wall_instant(day + timedelta(days=offset.days), offset.at, tz))
        if window.start < due <= window.end:
            nxt = day + timedelta(days=1)
            found.append((_day_start(day, tz) - 1, _day_start(nxt, tz) - 1, due))
        day += timedelta(days=1)
    return found


def _schedule(pb: Playbook, zone: str, lo: int, hi: int, keys: list[str]) -> pl.DataFrame:
    assert isinstance(pb.trigger, ScheduleTrigger)
    times = [
        to_micros(at.astimezone(UTC))
        for at in schedule_occurrences(
            pb.trigger.cron, ZoneInfo(zone), from_micros(lo), from_micros(hi)
        )
    ]
    return pl.DataFrame(
        {
            "community": [c for c in keys for _ in times],
            "member": [None] * (len(keys) * len(times)),
            "mid": [0] * (len(keys) * len(times)),
            "occ_ts": [t for _ in keys for t in times],
        },
        schema=OCC_SCHEMA,
    )


def _occurrences(
    pb: Playbook,
    frames: Frames,
    zone: str,
    band: tuple[int, int],
    communities: list[str] | None,
) -> pl.DataFrame:
    """Trigger occurrences in (lo, hi], in the playbook's communities and audience."""
    lo, hi = band
    if isinstance(pb.trigger, ScheduleTrigger):
        return _schedule(pb, zone, lo, hi, communities or [])
    found = TRIGGER_RULES[pb.trigger.type](frames, pb.trigger, lo, hi)
    if communities is not None:
        found = found.filter(pl.col("community").is_in(communities))
    if pb.audience.channels and pb.per_member and not found.is_empty():
        joined = frames.joined_through(tuple(pb.audience.channels))
        ok = found.join(joined, on="mid", suffix="_r").filter(
            (pl.col("community") == pl.col("community_r"))
            & (pl.col("member") == pl.col("member_r"))
        )
        found = found.join(ok.select(found.columns).unique(), on=found.columns, how="semi")
    return found


def _step_due(
    pb: Playbook,
    step: Step,
    frames: Frames,
    window: Window,
    zone: str,
    communities: list[str] | None,
) -> pl.DataFrame | None:
    """The step's due rows before keying: occurrences in its slots, then its condition."""
    parts = []
    for lo, hi, due_ts in slots(step, window, zone):
        found = _occurrences(pb, frames, zone, (lo, hi), communities)
        if found.is_empty():
            continue
        due = pl.col("occ_ts") + step.offset.micros if due_ts is None else pl.lit(due_ts)
        parts.append(found.with_columns(due.cast(pl.Int64).alias("due_ts")))
    if not parts:
        return None
    due = pl.concat(parts) if len(parts) > 1 else parts[0]
    if step.condition is not None:
        due = CONDITION_RULES[step.condition](frames, due)
    if due.is_empty():
        return None
    # The key's tail, shared by every playbook that evaluates this step the same way.
    tail = pl.concat_str(pl.lit("|"), _TARGET, pl.lit("|"), pl.col("occ_ts").cast(pl.String))
    return due.with_columns(tail.alias("tail"))


def _shared(pb: Playbook, step: Step, communities: list[str] | None) -> tuple[object, ...]:
    """What a step's unkeyed due rows depend on besides the frames and the window.

    Playbooks often share a trigger and a step time (several start from a join, with a
    20:00 step the next day): steps equal in all of this are evaluated once per tick.
    """
    return (
        pb.trigger.model_dump_json(),
        pb.per_member,
        pb.audience.model_dump_json(),
        None if communities is None else tuple(communities),
        step.offset.micros,
        step.offset.at,
        step.condition,
    )


def due_steps(
    playbooks: Sequence[Playbook],
    frames: Frames,
    window: Window,
    zone: str,
    communities: dict[str, list[str] | None],
) -> pl.DataFrame:
    """Every (playbook, step, target, occurrence) due in the window, with its key.

    Conditions are checked against the events up to each row's own due time, so a
    window of days or weeks (a replay) decides as the minute-by-minute ticks would.

    Args:
        playbooks: the valid playbooks.
        frames: the events the tick read.
        window: the tick's window.
        zone: the workspace time zone, for clock-time offsets and schedules.
        communities: per playbook name, the community keys it applies to (None: all);
            schedule playbooks need the explicit list of known communities.
    """
    parts: list[pl.DataFrame] = []
    done: dict[tuple[object, ...], pl.DataFrame | None] = {}
    for pb in sorted(playbooks, key=lambda pb: pb.name):
        scope = communities[pb.name]
        for step in pb.steps:
            shared = _shared(pb, step, scope)
            if shared not in done:
                done[shared] = _step_due(pb, step, frames, window, zone, scope)
            due = done[shared]
            if due is not None:
                parts.append(_keyed(due, pb.name, step.id))
            if step.emergency.threshold is not None:
                parts.append(_alerts(pb, step, frames, window, scope))
    if not parts:
        return pl.DataFrame(schema=DUE_SCHEMA)
    # The dispatcher takes rows in this order: by time, then playbook name, then the
    # steps as written (a `tag` step written before a `points` step due with it runs
    # first), then trigger order. A stable sort on the time keeps the rest.
    return pl.concat(parts).sort("due_ts", maintain_order=True)


def _alerts(
    pb: Playbook, step: Step, frames: Frames, window: Window, communities: list[str] | None
) -> pl.DataFrame:
    """One alert per metric_crossed event of the step's emergency threshold."""
    emergency = step.emergency
    assert emergency.threshold is not None
    found = TRIGGER_RULES["metric_threshold"](
        frames,
        MetricThreshold(type="metric_threshold", **emergency.threshold.model_dump()),
        window.start,
        window.end,
    )
    if communities is not None:
        found = found.filter(pl.col("community").is_in(communities))
    occ = pl.col("occ_ts").cast(pl.String)
    return found.select(
        pl.lit(pb.name).alias("playbook"),
        pl.lit(step.id).alias("step"),
        "community",
        pl.lit(None, dtype=pl.String).alias("member"),
        pl.lit(emergency.alert).alias("target"),
        "occ_ts",
        pl.col("occ_ts").alias("due_ts"),
        pl.concat_str(
            pl.lit(f"{pb.name}|{step.id}|emergency|"), "community", pl.lit("|"), occ
        ).alias("key"),
        pl.lit("alert").alias("kind"),
    )


_TARGET = pl.coalesce("member", "community")


def _keyed(due: pl.DataFrame, playbook: str, step: str) -> pl.DataFrame:
    """Due rows with their idempotency key `playbook|step|target|occurrence`."""
    return due.select(
        pl.lit(playbook).alias("playbook"),
        pl.lit(step).alias("step"),
        "community",
        "member",
        _TARGET.alias("target"),
        "occ_ts",
        "due_ts",
        (pl.lit(f"{playbook}|{step}") + pl.col("tail")).alias("key"),
        pl.lit("step").alias("kind"),
    )


def now_window(last: int | None, now: datetime) -> Window:
    """The window of a tick at `now` after a tick at `last` (the first tick: empty)."""
    end = to_micros(now)
    return Window(end if last is None else min(last, end), end)
