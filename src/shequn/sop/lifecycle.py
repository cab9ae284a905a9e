"""Community lifecycle: the engine moves each community through the plan's stages.

Every tick (`advance`, inside the tick's write transaction):

1. a community seen for the first time (in shequn.toml or in the store) gets a
   `community_created` event (ts: its first event, or now) and enters `prepare` then;
2. once a local day has ended, the daily watch (`shequn.sop.watch`) records the
   `metric_crossed` events and which thresholds hold;
3. each community moves forward to a later stage whose entry conditions hold: the next
   stage, or a later one entered `from: any` (the furthest wins); it may go on through
   several stages in one tick, one `stage_entered` event each (meta: from, reason).

Moves are forward only; an operator moves a community anywhere with
`services.lifecycle.set_stage` (audited, recorded as `stage_entered` with `by`). The
events are the record; `sop.positions` caches each community's position.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from shequn.analytics.period import local_midnight_us
from shequn.clock import Clock, to_micros
from shequn.config import Settings
from shequn.errors import InputError
from shequn.sop import journal, watch
from shequn.sop.lifecycle_model import Entry, Plan, Stage, check, default_text, load_plan
from shequn.sop.model import STAGES
from shequn.sop.positions import Position, cached, positions, save
from shequn.sop.thresholds import Threshold
from shequn.store import state as store_state
from shequn.store.schema import communities
from shequn.workspace import Workspace

log = logging.getLogger("shequn.sop.lifecycle")
PLAN_SOURCE = "lifecycle_plan"  # sop_state: the last valid plan's YAML


@dataclass
class Lifecycle:
    """The lifecycle as one tick sees it, loaded once: the plan in force and each
    community's position (moved by `advance`, then read by `routine_scope`)."""

    plan: Plan
    positions: dict[str, Position]


def load(conn: Connection, root: Path, *, remember: bool = True) -> Lifecycle:
    """The plan (`current_plan`) and the positions, read once for a tick or a dry run."""
    return Lifecycle(current_plan(conn, root, remember=remember), positions(conn))


def known_communities(conn: Connection, settings: Settings) -> dict[str, int | None]:
    """Every community key (settings and store) with when it began, if known: its
    `created` date in shequn.toml (local midnight) or its first event, the earlier."""
    zone = settings.zone
    found: dict[str, int | None] = {
        c.key: local_midnight_us(c.created, zone) if c.created else None
        for c in settings.communities
    }
    for key, first in conn.execute(select(communities.c.key, communities.c.first_ts)):
        began = [ts for ts in (found.get(key), first) if ts is not None]
        found[key] = min(began) if began else None
    return found


def current_plan(conn: Connection, root: Path, *, remember: bool = True) -> Plan:
    """The workspace's plan; an invalid edit keeps the last valid one running.

    `remember` stores a valid plan's text (in the tick's write transaction) for that.
    """
    try:
        plan, source = load_plan(root)
    except InputError as problem:
        log.warning("lifecycle.yaml rejected, the previous plan keeps running: %s", problem)
        previous = store_state.get(conn, PLAN_SOURCE)
        plan = check(previous or default_text(), "previous lifecycle plan")[0]
        assert plan is not None
        return plan
    if remember and source != "built-in":
        text = (root / "lifecycle.yaml").read_text(encoding="utf-8")
        if store_state.get(conn, PLAN_SOURCE) != text:
            store_state.put(conn, PLAN_SOURCE, text)
    return plan


def stage_row(
    community: str, position: Position, stage: str, ts: int, reason: str, **meta: Any
) -> dict[str, Any]:
    """A stage_entered event; moves the position.

    Keyed by the entry's number, so a repeated tick records a move once; an operator's
    move also carries its instant, so it never collides with a tick's.
    """
    key = f"{community}|{position.entries}" + (f"|set|{ts}" if "by" in meta else "")
    row = journal.entry(
        "stage_entered",
        ts,
        community,
        key,
        text=stage,
        reason=reason,
        **{"from": position.stage if position.entries else None},
        **meta,
    )
    position.stage, position.since, position.entries = stage, ts, position.entries + 1
    return row


def created(community: str, first: int | None, now: int) -> tuple[Position, list[dict]]:
    ts = now if first is None else min(first, now)
    how = "first seen" if ts == now else "history"
    position = Position("prepare", ts, ts, 0)
    rows = [journal.entry("community_created", ts, community, community, how=how)]
    rows.append(stage_row(community, position, "prepare", ts, "created"))
    return position, rows


def conditions_met(
    entry: Entry, position: Position, now: int, holding: set[str]
) -> tuple[bool, list[str]]:
    """Whether a stage's entry holds now, and the conditions that hold (the reason)."""
    results: list[tuple[str, bool]] = []
    if entry.after_us is not None:
        start = position.since if entry.since == "stage" else position.created
        label = (
            f"after {entry.after} in {position.stage}"
            if entry.since == "stage"
            else (f"{entry.after} after creation")
        )
        results.append((label, now - start >= entry.after_us))
    results += [(t.id, t.id in holding) for t in entry.metrics]
    met = [label for label, ok in results if ok]
    ok = len(met) == len(results) if entry.match == "all" else bool(met)
    return ok, met


def _index(stages: list[Stage], stage: str) -> int:
    """A stage's place in the plan; a stage the plan lacks counts as the one before it."""
    order = STAGES.index(stage)
    return max(i for i, s in enumerate(stages) if STAGES.index(s.name) <= order)


def _next_move(
    stages: list[Stage], position: Position, now: int, holding: set[str]
) -> tuple[Stage, list[str]] | None:
    here = _index(stages, position.stage)
    best: tuple[Stage, list[str]] | None = None
    for j in range(here + 1, len(stages)):
        stage = stages[j]
        if stage.enter is None or (j > here + 1 and stage.enter.from_ != "any"):
            continue
        ok, met = conditions_met(stage.enter, position, now, holding)
        if ok:
            best = (stage, met)  # the furthest stage that may be entered wins
    return best


def moves(
    stages: list[Stage], community: str, position: Position, now: int, holding: set[str]
) -> list[dict[str, Any]]:
    """The stage_entered events of one community this tick (position is moved)."""
    rows = []
    while (move := _next_move(stages, position, now, holding)) is not None:
        stage, met = move
        rows.append(stage_row(community, position, stage.name, now, "; ".join(met)))
    return rows


def advance(
    conn: Connection,
    settings: Settings,
    root: Path,
    lifecycle: Lifecycle,
    now: int,
    thresholds: Iterable[Threshold] = (),
    readings: watch.Readings | None = None,
) -> list[dict[str, Any]]:
    """Record new communities, watch the ended days, move communities; returns the events.

    Args:
        conn: the tick's write transaction.
        settings: the workspace settings.
        root: the workspace folder.
        lifecycle: the plan and positions (`load`); the positions are moved.
        now: the tick's instant (µs).
        thresholds: the thresholds the playbooks use (the plan's are added).
        readings: daily values measured before the transaction (`watch.prefetch`);
            without them the watch measures itself when a day is due.
    """
    plan, found = lifecycle.plan, lifecycle.positions
    rows: list[dict[str, Any]] = []
    known = known_communities(conn, settings)
    for community, first in sorted(known.items()):
        if community not in found:
            found[community], new = created(community, first, now)
            rows += new
    workspace = Workspace(root, settings, _engine=conn.engine)
    watched = {*thresholds, *plan.thresholds()}
    holding = watch.watch(conn, settings, now, watched, readings, workspace, known)
    if holding is None:
        holding = watch.held(conn)
    for community, position in sorted(found.items()):
        config = settings.community(community)
        stages = plan.stages_for(config.template if config else "")
        rows += moves(stages, community, position, now, holding.get(community, set()))
    journal.record(conn, rows)
    if rows or not cached(conn):
        save(conn, found)
    return rows


def routine_scope(
    settings: Settings, lifecycle: Lifecycle, known: Iterable[str] = ()
) -> dict[str, set[str]]:
    """Per playbook named in some stage's `playbooks:`, the communities it may run in.

    For each community, by its own stage list (the template's, or the plan's): a
    playbook that list names runs only while the community is in a stage naming it; one
    that list never names runs in every stage. Communities of `known` that the engine
    has not placed in a stage yet are not restricted. A playbook that no list names is
    not restricted anywhere and is absent here.
    """
    plan, placed = lifecycle.plan, lifecycle.positions
    scope: dict[str, set[str]] = {
        name: set()
        for stages in (plan.stages, *plan.templates.values())
        for stage in stages
        for name in stage.playbooks
    }
    for name in scope:
        scope[name] |= set(known) - set(placed)
    for community, position in placed.items():
        config = settings.community(community)
        stages = plan.stages_for(config.template if config else "")
        here = stages[_index(stages, position.stage)]
        running = set(here.playbooks) if here.name == position.stage else set()
        listed = {name for stage in stages for name in stage.playbooks}
        for name in scope:
            if name in running or name not in listed:
                scope[name].add(community)
    return scope


@dataclass
class Standing:
    """One community's stage and how close it is to the next (`shequn lifecycle`)."""

    community: str
    stage: str | None
    since: int | None
    next_stages: list[tuple[str, list[str]]]
    routines: list[str] = field(default_factory=list)  # the playbooks its stage lists


def overview(ws: Workspace, clock: Clock) -> list[Standing]:
    """Each community's stage, since when, and the next stages' conditions with progress."""
    from shequn.store.engine import read_transaction

    now = to_micros(clock.now())
    with read_transaction(ws.engine) as conn:
        found = positions(conn)
        known = known_communities(conn, ws.settings)
    plan, _source = load_plan(ws.root)
    yesterday = watch.yesterday_of(now, ws.settings.zone)
    longest = max((t.days for t in plan.thresholds()), default=1)
    readings = watch.measure(ws, yesterday - timedelta(days=longest), yesterday)
    out = []
    for community in sorted(set(known) | set(found)):
        position = found.get(community)
        if position is None:
            out.append(Standing(community, None, None, []))
            continue
        config = ws.settings.community(community)
        stages = plan.stages_for(config.template if config else "")
        here = _index(stages, position.stage)
        following = [
            (s.name, _progress(s.enter, position, now, readings, community, ws.settings))
            for j, s in enumerate(stages)
            if j > here and s.enter and (j == here + 1 or s.enter.from_ == "any")
        ]
        routines = stages[here].playbooks if stages[here].name == position.stage else []
        out.append(Standing(community, position.stage, position.since, following, routines))
    return out


def _progress(
    entry: Entry,
    position: Position,
    now: int,
    readings: watch.Readings,
    community: str,
    settings: Settings,
) -> list[str]:
    """Each condition of an entry with how far it is: time left, days held so far."""
    several = (entry.after is not None) + len(entry.metrics) > 1
    shown = [f"{entry.match} of:"] if several else []
    if entry.after_us is not None:
        start = position.since if entry.since == "stage" else position.created
        left = start + entry.after_us - now
        where = "in the stage" if entry.since == "stage" else "since creation"
        state = "met" if left <= 0 else f"{_duration(left)} to go"
        shown.append(f"{entry.after} {where}: {state}")
    for threshold in entry.metrics:
        bound = watch.goal_bound(threshold, settings.community(community))
        run = 0
        while run < threshold.days:
            day = readings.last - timedelta(days=run)
            value = readings.value(community, day, threshold.metric)
            if not watch.satisfied(threshold, value, bound):
                break
            run += 1
        latest = readings.value(community, readings.last, threshold.metric)
        bound_text = "no goal set" if bound is None else f"{bound:g}"
        shown.append(
            f"{threshold.id}: {run}/{threshold.days} days "
            f"(yesterday {_show(latest)}, bound {bound_text})"
        )
    return shown


def _duration(micros: int) -> str:
    hours = -(-micros // 3_600_000_000)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _show(value: watch.Value) -> str:
    if value is None:
        return "no data"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
