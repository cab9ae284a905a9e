"""A tick: read what the playbooks need, evaluate them in one pass, build outbox rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from shequn.config import Community, Settings
from shequn.platforms.base import NEEDS_PERSON
from shequn.sop.evaluate import Window, communities_of, due_steps, lookback
from shequn.sop.model import CreateTask, Playbook
from shequn.sop.render import RenderError, render, variables
from shequn.sop.timing import parse_offset
from shequn.sop.triggers import Frames
from shequn.store.schema import communities, events, members
from shequn.store.sop_schema import DEAD, MISSED, PENDING

MINUTE = 60_000_000
_TYPES = ("join", "leave", "message", "reaction", "checkin", "order")


@dataclass(frozen=True)
class Timing:
    """When a due action is late (sent, marked late) or missed (recorded, never sent)."""

    late_after: int = 5 * MINUTE
    grace: int = 6 * 60 * MINUTE


def read_frames(conn: Connection, playbooks: Sequence[Playbook], window: Window) -> Frames:
    """The events a tick needs: those since the window's start minus the lookback."""
    since = window.start - lookback(playbooks)
    query = (
        select(events.c.ts, events.c.community, events.c.member, events.c.type, events.c.channel)
        .where(events.c.ts > since, events.c.ts <= window.end, events.c.type.in_(_TYPES))
        .order_by(events.c.ts)
    )
    schema = {
        "ts": pl.Int64,
        "community": pl.String,
        "member": pl.String,
        "type": pl.String,
        "channel": pl.String,
    }
    frame = pl.DataFrame(conn.execute(query).all(), schema=schema, orient="row")
    frames = Frames(frame)
    if any(getattr(pb.trigger, "type", "") == "first_purchase" for pb in playbooks):
        first = (
            select(events.c.community, events.c.member, func.min(events.c.ts))
            .where(events.c.type == "order", events.c.member.is_not(None))
            .group_by(events.c.community, events.c.member)
            .having(func.min(events.c.ts) > since)
        )
        frames.first_orders = pl.DataFrame(
            conn.execute(first).all(),
            schema={"community": pl.String, "member": pl.String, "ts": pl.Int64},
            orient="row",
        )
    return frames


def known_communities(conn: Connection, settings: Settings) -> list[str]:
    stored = set(conn.scalars(select(communities.c.key)))
    return sorted(stored | {c.key for c in settings.communities})


def evaluate(
    conn: Connection, settings: Settings, playbooks: Sequence[Playbook], window: Window
) -> pl.DataFrame:
    """Every step due in the window (see sop.evaluate.due_steps)."""
    known = known_communities(conn, settings)
    templates = {c.key: c.template for c in settings.communities if c.template}
    scope = {pb.name: communities_of(pb, known, templates) for pb in playbooks}
    frames = read_frames(conn, playbooks, window)
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
) -> list[dict[str, Any]]:
    """Outbox rows for the due steps, rendered; missed ones already marked missed."""
    by_name = {pb.name: pb for pb in playbooks}
    settings_of = {c.key: c for c in settings.communities}
    names = _names(conn, [m for m in due["member"].unique().to_list() if m is not None])
    rows = []
    for d in due.iter_rows(named=True):
        pb = by_name[d["playbook"]]
        step = next(s for s in pb.steps if s.id == d["step"])
        community = settings_of.get(d["community"]) or Community(key=d["community"])
        rows.append(_row(d, pb, step, community, names.get(d["member"]), now, timing))
    return rows


def _row(
    d: dict[str, Any],
    pb: Playbook,
    step: Any,
    community: Community,
    name: str | None,
    now: int,
    timing: Timing,
) -> dict[str, Any]:
    action = step.action
    payload: dict[str, Any] = {"owner": step.owner, "emergency": step.emergency.model_dump()}
    state, reason = PENDING, None
    values = variables(d["member"], name, community)
    try:
        payload["text"] = render(action.text, values)
        if isinstance(action, CreateTask):
            payload["title"] = render(action.title, values)
    except RenderError as exc:
        state, reason = DEAD, f"template: {exc}"
    payload.update(
        {k: getattr(action, k) for k in ("image", "link", "content") if getattr(action, k)}
    )
    if isinstance(action, CreateTask):
        payload["checklist"] = action.checklist
        payload["task_due_ts"] = d["due_ts"] + parse_offset(action.due).micros
    platform = _route(action.type, community.platform)
    if state == PENDING and now - d["due_ts"] > timing.grace:
        state, reason = MISSED, "older than the grace when the engine came back"
    target = step.owner if action.type == "alert_owner" else d["target"]
    return {
        "key": d["key"],
        "playbook": pb.name,
        "step": step.id,
        "community": d["community"],
        "target": target,
        "platform": platform,
        "action": action.type,
        "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
        "due_ts": d["due_ts"],
        "state": state,
        "late": int(now - d["due_ts"] > timing.late_after),
        "attempts": 0,
        "next_ts": d["due_ts"],
        "reason": reason,
        "created_ts": now,
    }


def _route(action: str, community_platform: str) -> str:
    """Where an action goes: an operator task, or (in this release) the console."""
    if action == "create_task":
        return "task"
    if community_platform in NEEDS_PERSON and action in ("send_group", "send_private"):
        return "task"
    return "console"
