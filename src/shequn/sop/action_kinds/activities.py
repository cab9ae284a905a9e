"""Start an activity (`activity_started`) and, with a text, announce it in the group."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator
from sqlalchemy import Connection

from shequn.config import Settings
from shequn.sop import journal
from shequn.sop.kinds import STATE_CHANGE, ActionKind, Context, Events, Payload, register
from shequn.sop.model_base import Strict, compiles, duration
from shequn.sop.outbox import OutboxRow
from shequn.sop.render import render
from shequn.sop.timing import parse_offset


class StartActivity(Strict):
    """Start an activity (activity_started) and, with `text`, announce it in the group."""

    type: Literal["start_activity"]
    activity: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    ends: str = "+1d"
    text: str | None = Field(default=None, min_length=1)

    _text = field_validator("text")(compiles)

    _ends = field_validator("ends")(duration("an activity ends a duration after its start", "+2d"))


def payload(action: StartActivity, values: dict[str, Any], _ctx: Context) -> Payload:
    out = {
        "activity": action.activity,
        "title": render(action.title, values) if action.title else "",
        "ends_ts": values["_due_ts"] + parse_offset(action.ends).micros,
    }
    if action.text:
        out["announce"] = render(action.text, values)
    return out


def execute(
    _conn: Connection, row: OutboxRow, payload: Payload, now: int, _settings: Settings
) -> Events:
    return [
        journal.entry(
            "activity_started",
            now,
            row.community,
            row.key,
            text=payload["activity"],
            title=payload.get("title") or "",
            ends_ts=payload["ends_ts"],
        )
    ]


register(ActionKind("start_activity", StartActivity, "community", STATE_CHANGE, payload, execute))
