"""A tick: read what the playbooks need (sop.recent), evaluate them in one pass, build
outbox rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from shequn.config import Community, Settings
from shequn.sop import actions, outbox
from shequn.sop.actions import Context
from shequn.sop.evaluate import Window, communities_of, due_steps
from shequn.sop.model import Playbook
from shequn.sop.recent import RecentEvents
from shequn.sop.render import RenderError, variables
from shequn.store.schema import communities, members
from shequn.store.sop_schema import DEAD, MISSED, PENDING

MINUTE = 60_000_000
_MISSED_REASON = "older than the grace when the engine came back"


@dataclass(frozen=True)
class Timing:
    """When a due action is late (sent, marked late) or missed (recorded, never sent)."""

    late_after: int = 5 * MINUTE
    grace: int = 6 * 60 * MINUTE


def known_communities(conn: Connection, settings: Settings) -> list[str]:
    stored = set(conn.scalars(select(communities.c.key)))
    return sorted(stored | {c.key for c in settings.communities})


def scopes(
    conn: Connection,
    settings: Settings,
    root: Path,
    playbooks: Sequence[Playbook],
    *,
    routines: bool = True,
) -> dict[str, list[str] | None]:
    """Per playbook, the communities it runs in (None: every one).

    Those its `applies_to` names; and a playbook that some lifecycle stage lists as a
    routine runs only in the communities now in a stage that lists it (and in those
    not yet placed in a stage). `routines=False` (a replay of history, whose stages
    are unknown) leaves stages out.
    """
    known = known_communities(conn, settings)
    templates = {c.key: c.template for c in settings.communities if c.template}
    found = {pb.name: communities_of(pb, known, templates) for pb in playbooks}
    if routines:
        from shequn.sop import lifecycle  # it pulls in the analytics: only when ticking

        for name, allowed in lifecycle.routine_scope(conn, settings, root, known).items():
            if name in found:
                chosen = found[name]
                found[name] = sorted(allowed & set(known if chosen is None else chosen))
    return found


def evaluate(
    conn: Connection,
    settings: Settings,
    root: Path,
    playbooks: Sequence[Playbook],
    window: Window,
    recent: RecentEvents | None = None,
) -> pl.DataFrame:
    """Every step due in the window (see sop.evaluate.due_steps), in the communities
    and lifecycle stages each playbook runs in (`scopes`).

    `recent` is what the engine keeps between ticks (only new events are read);
    without it the tick reads its events afresh.
    """
    scope = scopes(conn, settings, root, playbooks)
    frames = (recent or RecentEvents()).frames(conn, playbooks, window)
    return due_steps(playbooks, frames, window, settings.timezone, scope)


def _names(conn: Connection, keys: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for i in range(0, len(keys), 500):
        query = select(members.c.key, members.c.name).where(members.c.key.in_(keys[i : i + 500]))
        found.update({key: name for key, name in conn.execute(query)})
    return found


def outbox_rows(
    conn: Connection,
    settings: Settings,
    playbooks: Sequence[Playbook],
    due: pl.DataFrame,
    now: int,
    timing: Timing,
    ctx: Context | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows for the due steps, rendered; missed ones already marked missed.

    `ctx` brings the content library (and settings) for rendering; without it a step
    that uses a content item is dead with the reason.
    """
    ctx = ctx or Context(settings)
    by_name = {pb.name: pb for pb in playbooks}
    settings_of = {c.key: c for c in settings.communities}
    names = _names(conn, [m for m in due["member"].unique().to_list() if m is not None])
    rows = []
    for d in due.iter_rows(named=True):
        pb = by_name[d["playbook"]]
        step = next(s for s in pb.steps if s.id == d["step"])
        community = settings_of.get(d["community"]) or Community(key=d["community"])
        if d.get("kind") == "alert":
            rows.append(_alert_row(d, pb, step, community, now, timing, ctx))
            continue
        rows.append(_row(d, pb, step, community, names.get(d["member"]), now, timing, ctx))
    return rows


def _alert_row(
    d: dict[str, Any],
    pb: Playbook,
    step: Any,
    community: Community,
    now: int,
    timing: Timing,
    ctx: Context,
) -> dict[str, Any]:
    """The alert of a step's emergency plan: its threshold was crossed in a community."""
    emergency = step.emergency
    threshold = emergency.threshold
    bound = threshold.bound if threshold.bound == "goal" else f"{float(threshold.bound):g}"
    text = (
        f"{community.name or community.key}: {threshold.metric} {threshold.op} {bound} "
        f"for {threshold.days} day(s) ({threshold.id}; playbook {pb.name}, step {step.id}). "
        f"Do: {emergency.do}"
    )
    payload = {
        "owner": emergency.alert,
        "emergency": emergency.model_dump(include={"do", "alert"}),
        "member": None,
        "text": text,
        "threshold": threshold.id,
    }
    platform, target = _route("alert_owner", community.platform, emergency.alert, ctx)
    missed = now - d["due_ts"] > timing.grace
    return outbox.row(
        key=d["key"],
        playbook=pb.name,
        step=step.id,
        community=d["community"],
        target=target,
        platform=platform,
        action="alert_owner",
        payload=payload,
        due_ts=d["due_ts"],
        now=now,
        state=MISSED if missed else PENDING,
        late=now - d["due_ts"] > timing.late_after,
        reason=_MISSED_REASON if missed else None,
    )


def _row(
    d: dict[str, Any],
    pb: Playbook,
    step: Any,
    community: Community,
    name: str | None,
    now: int,
    timing: Timing,
    ctx: Context | None = None,
) -> dict[str, Any]:
    ctx = ctx or Context(Settings())
    action = step.action
    payload: dict[str, Any] = {
        "owner": step.owner,
        "emergency": step.emergency.model_dump(include={"do", "alert"}),
        "member": d["member"],
    }
    state, reason = PENDING, None
    values = {
        **variables(d["member"], name, community),
        "_due_ts": d["due_ts"],
        "_playbook": pb.name,
        "_step": step.id,
    }
    try:
        payload.update(actions.payload(action, values, ctx))
    except RenderError as exc:
        state, reason = DEAD, f"template: {exc}"
    target = step.owner if action.type == "alert_owner" else d["target"]
    platform, target = _route(action.type, community.platform, target, ctx)
    if "announce" in payload:  # start_activity with text: a group message follows it
        payload["announce_platform"] = _route("send_group", community.platform, "", ctx)[0]
    if state == PENDING and now - d["due_ts"] > timing.grace:
        state, reason = MISSED, _MISSED_REASON
    return outbox.row(
        key=d["key"],
        playbook=pb.name,
        step=step.id,
        community=d["community"],
        target=target,
        platform=platform,
        action=action.type,
        payload=payload,
        due_ts=d["due_ts"],
        now=now,
        state=state,
        late=now - d["due_ts"] > timing.late_after,
        reason=reason,
    )


def _route(action: str, community_platform: str, target: str, ctx: Context) -> tuple[str, str]:
    """Where an action goes (sop.actions.route): task, store, webhook, contact, console."""
    return actions.route(action, community_platform, target, ctx)
