"""`shequn sop replay`: what the playbooks would have done over imported history.

A backtest: the playbooks in force run over the events of a period as if the engine
had ticked through it, one local day per window. Each window sees exactly what a tick
at its end would have read (events since the lookback, up to the window's end), so a
day's evaluation never sees the next day. The events are read once for the whole
period and cut per window in memory. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import polars as pl

from shequn.activities.plan import promotion_playbooks
from shequn.clock import to_micros
from shequn.errors import InputError
from shequn.services.sop_plan import as_of
from shequn.sop.evaluate import DUE_SCHEMA, Window, due_steps, lookback
from shequn.sop.experiments import HOLDOUT
from shequn.sop.model import Playbook, ScheduleTrigger
from shequn.sop.recent import read_frames
from shequn.sop.selection import in_force
from shequn.sop.tick import arms, scopes
from shequn.sop.triggers import Frames
from shequn.store import members
from shequn.workspace import Workspace

ACTIONS_SCHEMA = {
    **DUE_SCHEMA,
    "action": pl.String,
    "owner": pl.String,
    "member_name": pl.String,
    "experiment": pl.String,  # the step's experiment (sop.experiments), else null
    "arm": pl.String,  # the member's arm: holdout (not sent), treated or a variant
}
HELD = pl.col("arm") == HOLDOUT


# The columns a listing of actions shows between the due time and the target.
LISTED = ("key", "playbook", "step", "action", "owner", "community", "member", "member_name")


@dataclass
class ReplayResult:
    """Every action the engine would have queued in [start, end), one row per key."""

    start: int
    end: int
    actions: pl.DataFrame  # ACTIONS_SCHEMA, in due order
    windows: int
    rejected: list[InputError] = field(default_factory=list)

    def counts(self) -> pl.DataFrame:
        """Actions and distinct members per playbook and step."""
        return counts_of(self.actions)

    @property
    def held_out(self) -> int:
        """Rows a held-out member would have had (recorded as held out, not sent)."""
        return int(self.actions.select(HELD.fill_null(False).sum()).item())

    def of_member(self, member: str) -> pl.DataFrame:
        return self.actions.filter(pl.col("member") == member)


def counts_of(actions: pl.DataFrame) -> pl.DataFrame:
    """Per playbook, step and action of some replayed actions: actions sent, distinct
    members, and members held out by the step's experiment (recorded, not sent)."""
    held = HELD.fill_null(False)
    return (
        actions.group_by("playbook", "step", "action")
        .agg(
            pl.len().sub(held.sum()).alias("actions"),
            pl.col("member").drop_nulls().n_unique().alias("members"),
            pl.col("member").filter(held).n_unique().alias("held_out"),
        )
        .sort("playbook", "step", "action")
    )


def with_local_times(actions: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """The actions with local ISO times instead of µs (`due`, `trigger`), for JSON and CSV."""
    local = [
        pl.from_epoch(name, time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
        .alias(alias)
        for name, alias in (("due_ts", "due"), ("occ_ts", "trigger"))
    ]
    return actions.select(*local[:1], *LISTED, "target", local[1], "experiment", "arm")


def day_windows(zone: ZoneInfo, start: date, end: date) -> list[Window]:
    """One window per local day in [start, end), cut at local midnight (DST-safe)."""
    days = (end - start).days
    edges = [
        to_micros(datetime.combine(start + timedelta(days=i), time(0), tzinfo=zone))
        for i in range(days + 1)
    ]
    return [Window(a, b) for a, b in pairwise(edges)]


def replay(
    ws: Workspace,
    start: date,
    end: date,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayResult:
    """Run the playbooks over the history of the local days [start, end); write nothing.

    Args:
        ws: the workspace.
        start: the first local day.
        end: the local day after the last one (exclusive, like `shequn metrics --to`).
        progress: called with (windows done, windows in all) after each window.
    """
    if end <= start:
        raise InputError(
            f"--to {end} is not after --from {start}",
            field="--to",
            hint="--to is exclusive: the day after the last day to replay",
        )
    windows = day_windows(ws.settings.zone, start, end)
    plans = promotion_playbooks(ws.root, ws.settings.zone, windows[0].start, windows[-1].end)
    with ws.engine.connect() as conn:
        running, rejected = in_force(conn, ws.root / "playbooks", plans)
        result = ReplayResult(windows[0].start, windows[-1].end, _empty(), len(windows), rejected)
        if not running:
            return result
        base = read_frames(conn, running, Window(result.start, result.end))
        # The stages of an imported past are unknown: a replay leaves routines out.
        communities = scopes(conn, ws.settings, running, None)
        due = _evaluate(running, base, windows, ws.settings.timezone, communities, progress)
        names = members.names(conn, [m for m in due["member"].unique().to_list() if m])
        conn.rollback()
    result.actions = _described(due, running, names)
    return result


def _evaluate(
    running: Sequence[Playbook],
    base: Frames,
    windows: list[Window],
    zone: str,
    communities: dict[str, list[str] | None],
    progress: Callable[[int, int], None] | None,
) -> pl.DataFrame:
    """Each window as the tick at its end would see it; one row per key."""
    reach = lookback(running)
    parts = []
    for i, window in enumerate(windows, 1):
        frames = as_of(base, window.end, window.start - reach)
        parts.append(due_steps(running, frames, window, zone, communities))
        if progress is not None:
            progress(i, len(windows))
    # A key is due once (its due time lies in one window); keep the first, as the outbox does.
    due = pl.concat(parts).unique("key", keep="first", maintain_order=True)
    return due.filter(_known_in_time(running))


def _known_in_time(running: Sequence[Playbook]) -> pl.Expr:
    """Rows whose trigger event the engine had seen by the due time.

    A day's window holds the whole day's events, but a step such as `+0d 09:00` after a
    join at 10:00 was due before the engine could see the join: ticking, it never
    queues it. Schedules are known in advance, and inactivity is decided on the last
    activity (before the due time), so only event triggers are cut.
    """
    late = [
        pb.name
        for pb in running
        if not isinstance(pb.trigger, ScheduleTrigger) and pb.trigger.type != "member_inactive"
    ]
    return ~(pl.col("playbook").is_in(late) & (pl.col("occ_ts") > pl.col("due_ts")))


def _described(
    due: pl.DataFrame, running: Sequence[Playbook], names: dict[str, str | None]
) -> pl.DataFrame:
    """The due rows with each step's action type, owner and the member's name."""
    steps = pl.DataFrame(
        [(pb.name, s.id, s.action.type, s.owner) for pb in running for s in pb.steps],
        schema={"playbook": pl.String, "step": pl.String, "action": pl.String, "owner": pl.String},
        orient="row",
    )
    named = pl.DataFrame(
        {"member": list(names), "member_name": list(names.values())},
        schema={"member": pl.String, "member_name": pl.String},
    )
    # An emergency plan's threshold alert is an alert to the plan's contact, not the step.
    alert = pl.col("kind") == "alert"
    # The arm the tick would draw for each member (the same salted hash: sop.experiments).
    experiment, arm = arms({pb.name: pb for pb in running}, due)
    due = due.with_columns(
        pl.Series("experiment", experiment, dtype=pl.String),
        pl.Series("arm", arm, dtype=pl.String),
    )
    return (
        due.join(steps, on=["playbook", "step"], how="left")
        .join(named, on="member", how="left")
        .with_columns(
            pl.when(alert).then(pl.lit("alert_owner")).otherwise("action").alias("action"),
            pl.when(alert).then("target").otherwise("owner").alias("owner"),
        )
        .select(list(ACTIONS_SCHEMA))
        .sort("due_ts", "key")
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=ACTIONS_SCHEMA)
