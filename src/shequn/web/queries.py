"""Read-only queries the console pages need and no CLI command had yet."""

from __future__ import annotations

from sqlalchemy import func, select

from shequn.store.engine import read_transaction
from shequn.store.schema import communities
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace


def outbox_counts(ws: Workspace, community: str | None) -> dict[str, int]:
    """Outbox rows per state, for one community or all."""
    query = select(outbox.c.state, func.count()).group_by(outbox.c.state)
    if community is not None:
        query = query.where(outbox.c.community == community)
    with read_transaction(ws.engine) as conn:
        return {state: int(n) for state, n in conn.execute(query)}


def community_keys(ws: Workspace) -> list[str]:
    """Every community in the log or the settings, sorted."""
    with read_transaction(ws.engine) as conn:
        seen = set(conn.scalars(select(communities.c.key)))
    return sorted(seen | {c.key for c in ws.settings.communities})


def audit_log(ws: Workspace, limit: int = 200) -> list[dict[str, object]]:
    """The newest audit rows: when, who, what, detail (JSON text)."""
    from shequn.clock import from_micros
    from shequn.store.schema import audit

    query = select(audit).order_by(audit.c.id.desc()).limit(limit)
    zone = ws.settings.zone
    with read_transaction(ws.engine) as conn:
        return [
            {
                "when": from_micros(r.ts).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                "actor": r.actor,
                "action": r.action,
                "detail": r.detail or "",
            }
            for r in conn.execute(query)
        ]


def outbox_rows(ws: Workspace, state: str, community: str | None, limit: int = 200) -> list[dict]:
    """Outbox rows in one state, newest due first, with the reason of the last failure."""
    from shequn.clock import from_micros

    query = (
        select(
            outbox.c.id,
            outbox.c.playbook,
            outbox.c.step,
            outbox.c.community,
            outbox.c.target,
            outbox.c.action,
            outbox.c.state,
            outbox.c.attempts,
            outbox.c.due_ts,
            outbox.c.reason,
        )
        .where(outbox.c.state == state)
        .order_by(outbox.c.due_ts.desc())
        .limit(limit)
    )
    if community is not None:
        query = query.where(outbox.c.community == community)
    zone = ws.settings.zone
    with read_transaction(ws.engine) as conn:
        return [
            {**r, "due": from_micros(r["due_ts"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")}
            for r in conn.execute(query).mappings()
        ]
