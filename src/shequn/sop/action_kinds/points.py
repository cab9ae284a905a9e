"""Add (or take) points of the trigger's member (`points_added`, `tier_changed`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator
from sqlalchemy import Connection

from shequn.config import Settings
from shequn.sop import journal
from shequn.sop.kinds import STATE_CHANGE, ActionKind, Context, Events, Payload, register
from shequn.sop.model_base import Strict
from shequn.sop.outbox import OutboxRow
from shequn.sop.state import member_points


class AddPoints(Strict):
    """Add (or, negative, take) points; crossing a tier of shequn.toml records tier_changed."""

    type: Literal["add_points"]
    points: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = ""

    @field_validator("points")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("0 points change nothing; write points: 10 (or -10 to take)")
        return value


def payload(action: AddPoints, _values: dict[str, Any], _ctx: Context) -> Payload:
    return {"points": action.points, "reason": action.reason}


def execute(
    conn: Connection, row: OutboxRow, payload: Payload, now: int, settings: Settings
) -> Events:
    member, points = payload["member"], int(payload["points"])
    before = member_points(conn, member)
    total = before + points
    out = [
        journal.entry(
            "points_added",
            now,
            row.community,
            row.key,
            member=member,
            text=payload.get("reason") or "",
            amount=str(points),
            total=total,
        )
    ]
    old, new = settings.tier_at(before), settings.tier_at(total)
    if new != old and new is not None:
        out.append(
            journal.entry(
                "tier_changed",
                now,
                row.community,
                row.key,
                member=member,
                text=new,
                **{"from": old},
            )
        )
    return out


register(ActionKind("add_points", AddPoints, "member", STATE_CHANGE, payload, execute))
