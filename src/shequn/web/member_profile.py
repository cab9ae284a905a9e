"""A member's page: the person behind a key, across platforms, with what reached them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shequn.clock import from_micros
from shequn.errors import InputError
from shequn.workspace import Workspace

TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class Profile:
    key: str
    person: str
    accounts: list[dict[str, Any]]  # every member key of the person
    tags: list[str]
    points: int
    tier: str | None
    timeline: list[dict[str, Any]]  # newest first
    orders: list[dict[str, Any]]
    actions: list[dict[str, Any]]  # SOP outbox rows addressed to one of the keys


def profile(ws: Workspace, key: str) -> Profile:
    """Everything the member page shows about `key` and the keys merged with it.

    Raises:
        InputError: no member has this key.
    """
    from shequn.sop.state import member_points, member_tags
    from shequn.store import members as store
    from shequn.store.engine import read_transaction
    from shequn.store.schema import events
    from shequn.store.sop_schema import outbox

    zone = ws.settings.zone
    with read_transaction(ws.engine) as conn:
        found = store.find(conn, [key])
        if key not in found:
            raise InputError(
                f"unknown member {key!r}", field="key", hint="pick one from the Members page"
            )
        accounts = store.of_person(conn, found[key]["person"])
        keys = [a["key"] for a in accounts]
        tags = sorted(set().union(*(member_tags(conn, k) for k in keys)))
        points = sum(member_points(conn, k) for k in keys)
        rows = (
            conn.execute(
                select(
                    events.c.ts,
                    events.c.community,
                    events.c.member,
                    events.c.type,
                    events.c.channel,
                    events.c.text,
                    events.c.amount,
                    events.c.order_id,
                    events.c.source,
                )
                .where(events.c.member.in_(keys))
                .order_by(events.c.ts.desc(), events.c.id.desc())
                .limit(TIMELINE_LIMIT)
            )
            .mappings()
            .all()
        )
        actions = (
            conn.execute(
                select(
                    outbox.c.playbook,
                    outbox.c.step,
                    outbox.c.community,
                    outbox.c.action,
                    outbox.c.state,
                    outbox.c.due_ts,
                    outbox.c.sent_ts,
                    outbox.c.reason,
                )
                .where(outbox.c.target.in_(keys))
                .order_by(outbox.c.due_ts.desc())
            )
            .mappings()
            .all()
        )
    timeline = [
        {**r, "when": from_micros(r["ts"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")}
        for r in rows
    ]
    return Profile(
        key=key,
        person=found[key]["person"],
        accounts=accounts,
        tags=tags,
        points=points,
        tier=ws.settings.tier_at(points),
        timeline=timeline,
        orders=[t for t in timeline if t["type"] == "order"],
        actions=[
            {**a, "due": from_micros(a["due_ts"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")}
            for a in actions
        ],
    )
