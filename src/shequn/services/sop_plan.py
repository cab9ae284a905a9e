"""`shequn sop plan`: what the engine will send or assign in the next days, as a dry run.

The plan evaluates the playbooks in force over the window from the engine's last tick
(or now) to now + N days, with the events known now: triggers that already happened
(joins so far, their +1d and +7d steps), inactivity that will mature if nobody speaks,
schedules, and what waits in the outbox. Future events cannot be known, and step
conditions are checked as of now. Nothing is written: one read-only connection,
rolled back (playbooks come from `loader.scan`, not `sync_playbooks`, which records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Connection

from shequn.activities.plan import promotion_playbooks
from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services.sop import LAST_TICK
from shequn.sop import outbox, recommended, selection
from shequn.sop.content import FOLDER, Library
from shequn.sop.evaluate import DUE_SCHEMA, Window, due_steps
from shequn.sop.kinds import Context
from shequn.sop.model import Playbook
from shequn.sop.outbox import OutboxRow
from shequn.sop.recent import read_frames
from shequn.sop.tick import Timing, due_names, outbox_rows, scopes
from shequn.sop.triggers import DAY_US, Frames
from shequn.store import members
from shequn.store import state as store_state
from shequn.store.events import latest_ts
from shequn.store.sop_schema import PENDING
from shequn.workspace import Workspace

# What a planned action is: due in the future, already due since the last tick (the
# next tick queues it, late), or waiting in the outbox (pending or retry); or one
# that will not be sent (dead: its template fails; missed; held_out: the member is
# in an experiment's holdout), with the reason as text.
PLANNED, OVERDUE = "planned", "overdue"


@dataclass(frozen=True)
class PlannedAction:
    """One action the engine will take: when, what, for whom, by whom."""

    when: int  # µs UTC: the due time, or the next attempt of an outbox row
    status: str  # planned, overdue, pending or retry
    key: str
    playbook: str
    step: str
    community: str
    member: str | None
    member_name: str | None
    target: str
    action: str
    owner: str
    text: str  # the first line of the rendered text
    experiment: str | None = None  # the step's experiment (docs/experiments.md)
    arm: str | None = None  # the member's arm; `holdout`: status held_out, not sent

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class DryRun:
    """The result of a dry run."""

    now: int
    until: int
    based_on: int | None  # the latest event known at `now`
    actions: list[PlannedAction] = field(default_factory=list)
    rejected: list[InputError] = field(default_factory=list)


def as_of(frames: Frames, end: int, since: int | None = None) -> Frames:
    """The frames a tick at `end` would have read: events in (since, end]."""
    ts = pl.col("ts")
    keep = ts <= end if since is None else (ts > since) & (ts <= end)
    return Frames(
        frames.events.filter(keep),
        first_orders=frames.first_orders.filter(keep),
        signups=frames.signups.filter(pl.col("ts") <= end),  # sign-ups count from any time
    )


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def plan(
    ws: Workspace,
    clock: Clock | None = None,
    *,
    days: int = 7,
    playbook: str = "",
    community: str = "",
) -> DryRun:
    """What the engine will send or assign from now to now + `days` days; writes nothing.

    Args:
        ws: the workspace.
        clock: "now" (default: the system clock).
        days: the horizon in days (1 or more).
        playbook: only this playbook's actions ("" for all).
        community: only this community's actions ("" for all).
    """
    if days < 1:
        raise InputError(f"{days} is not a horizon", field="--days", hint="use 1 or more days")
    now = to_micros((clock or SystemClock()).now())
    until = now + days * DAY_US
    plans = promotion_playbooks(ws.root, ws.settings.zone, now, until)
    with ws.engine.connect() as conn:
        running, rejected = selection.in_force(conn, ws.root / "playbooks", plans)
        _check_filter(playbook, [pb.name for pb in running])
        chosen = [pb for pb in running if playbook in ("", pb.name)]
        result = DryRun(now, until, latest_ts(conn, now), rejected=rejected)
        due = _due(conn, ws, chosen, now, until)
        if community:
            due = due.filter(pl.col("community") == community)
        library = Library(ws.root / FOLDER)
        picks = recommended.for_due(conn, ws.root, ws.settings, chosen, due, library, now)
        ctx = Context(ws.settings, library, picks)
        rows = outbox_rows(ws.settings, chosen, due, due_names(conn, due), now, Timing(), ctx)
        planned = _planned(rows, due["member"].to_list(), now)
        result.actions = planned + _waiting(conn, until, playbook, community)
        names = members.names(conn, [a.member for a in result.actions if a.member])
        conn.rollback()
    result.actions = sorted(
        (_named(a, names) for a in result.actions), key=lambda a: (a.when, a.key)
    )
    return result


def _check_filter(playbook: str, names: list[str]) -> None:
    if playbook and playbook not in names:
        raise InputError(
            f"no playbook {playbook!r} in force",
            field="--playbook",
            hint=f"use one of: {', '.join(sorted(names)) or 'none (see `shequn sop list`)'}",
        )


def _due(
    conn: Connection, ws: Workspace, chosen: Sequence[Playbook], now: int, until: int
) -> pl.DataFrame:
    """Steps due in (start, until] judged on the events up to now.

    The window starts at the engine's last tick when that is recent: steps that fell due
    since then are queued by its next tick (late). Older ones would be missed, not sent.
    """
    last = store_state.get(conn, LAST_TICK)
    start = now if last is None else max(min(int(last), now), now - Timing().grace)
    if not chosen:
        return pl.DataFrame(schema=DUE_SCHEMA)
    frames = as_of(read_frames(conn, chosen, Window(start, now)), now)
    window = Window(start, until)
    from shequn.sop import lifecycle  # it pulls in the analytics: only when planning

    scope = scopes(conn, ws.settings, chosen, lifecycle.load(conn, ws.root, remember=False))
    return due_steps(chosen, frames, window, ws.settings.timezone, scope)


def _planned(rows: list[OutboxRow], members_of: list[str | None], now: int) -> list[PlannedAction]:
    """The rendered rows a tick would queue (one per due row, in the same order)."""
    planned = []
    for row, member in zip(rows, members_of, strict=True):
        if row.state != PENDING:  # dead (a template failed) or missed: shown, with why
            planned.append(_action(row, row.state, row.due_ts, member, row.reason))
            continue
        status = PLANNED if row.due_ts > now else OVERDUE
        planned.append(_action(row, status, row.due_ts, member))
    return planned


def _waiting(conn: Connection, until: int, playbook: str, community: str) -> list[PlannedAction]:
    """Outbox rows still to be sent (pending or retry) by `until`."""
    found = []
    for row in outbox.waiting(conn, until, playbook, community):
        # The outbox keeps the target: a member, the community, or the owner of an alert.
        member = None if row.target == row.community or row.action == "alert_owner" else row.target
        found.append(_action(row, row.state, row.next_ts, member))
    return found


def _action(
    row: OutboxRow, status: str, when: int, member: str | None, why: str | None = None
) -> PlannedAction:
    """A planned action; `why` replaces the text of one that will not be sent."""
    payload = row.data()
    return PlannedAction(
        when=when,
        status=status,
        key=row.key,
        playbook=row.playbook,
        step=row.step,
        community=row.community,
        member=member,
        member_name=None,
        target=row.target,
        action=row.action,
        owner=str(payload.get("owner", "")),
        text=f"not sent: {why}" if why else first_line(payload.get("text")),
        experiment=payload.get("experiment"),
        arm=payload.get("arm"),
    )


def _named(action: PlannedAction, names: dict[str, str | None]) -> PlannedAction:
    if action.member is None:
        return action
    return PlannedAction(**{**action.as_dict(), "member_name": names.get(action.member)})
