"""Tag and untag the trigger's member (`tag_added` / `tag_removed`), in the store."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection

from shequn.config import Settings
from shequn.sop import journal
from shequn.sop.kinds import STATE_CHANGE, ActionKind, Context, Events, Payload, register
from shequn.sop.model_base import Strict
from shequn.sop.outbox import OutboxRow
from shequn.sop.state import member_tags


class Tag(Strict):
    """Give the member a tag (tag_added); nothing if they already hold it."""

    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)


class Untag(Strict):
    """Take a tag from the member (tag_removed); nothing if they do not hold it."""

    type: Literal["untag"]
    tag: str = Field(min_length=1, max_length=64)


def payload(action: Tag | Untag, _values: dict[str, Any], _ctx: Context) -> Payload:
    return {"tag": action.tag}


def execute(
    conn: Connection, row: OutboxRow, payload: Payload, now: int, _settings: Settings
) -> Events:
    member, tag = payload["member"], payload["tag"]
    held = tag in member_tags(conn, member)
    if (row.action == "tag") == held:
        return []  # already held / not held: nothing changes, nothing is recorded
    kind = "tag_added" if row.action == "tag" else "tag_removed"
    return [journal.entry(kind, now, row.community, row.key, member=member, text=tag)]


register(ActionKind("tag", Tag, "member", STATE_CHANGE, payload, execute))
register(ActionKind("untag", Untag, "member", STATE_CHANGE, payload, execute))
