"""Message kinds: a group message, a private message, an operator task, an alert.

They share the text payload: the action's text, then the content item's body, and
the item's title, image and link.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from shequn.sop.content import ContentError
from shequn.sop.kinds import (
    OPERATOR_ALERT,
    OPERATOR_TASK,
    PLATFORM_DELIVERY,
    ActionKind,
    Context,
    Payload,
    register,
)
from shequn.sop.model_base import TextAction, duration
from shequn.sop.render import RenderError, render
from shequn.sop.timing import parse_offset


class SendGroup(TextAction):
    type: Literal["send_group"]


class SendPrivate(TextAction):
    type: Literal["send_private"]


class CreateTask(TextAction):
    type: Literal["create_task"]
    title: str = Field(min_length=1)
    checklist: list[str] = Field(default_factory=list)
    due: str = "+2h"

    _due = field_validator("due")(duration("a task is due a duration after its step", "+2h"))


class AlertOwner(TextAction):
    type: Literal["alert_owner"]


def text(action: TextAction, values: dict[str, Any], ctx: Context) -> Payload:
    """text (the action's text, then the content item's body), and the item's fields."""
    parts: list[str] = []
    out: Payload = {}
    if action.text:
        parts.append(render(action.text, values))
    if action.content:
        try:
            item = ctx.content.get(action.content)
        except ContentError as exc:
            raise RenderError(str(exc)) from None
        parts.append(render(item.body, values).strip())
        out = {k: getattr(item, k) for k in ("title", "image", "link") if getattr(item, k)}
        out["content"] = action.content
    out.update({k: getattr(action, k) for k in ("image", "link") if getattr(action, k)})
    out["text"] = "\n\n".join(parts)
    return out


def task(action: CreateTask, values: dict[str, Any], ctx: Context) -> Payload:
    """The text payload, and the task's title, checklist and due time."""
    return {
        **text(action, values, ctx),
        "title": render(action.title, values),
        "checklist": action.checklist,
        "task_due_ts": values["_due_ts"] + parse_offset(action.due).micros,
    }


register(
    ActionKind("send_group", SendGroup, "community", PLATFORM_DELIVERY, text, needs="send_group")
)
register(
    ActionKind(
        "send_private", SendPrivate, "member", PLATFORM_DELIVERY, text, needs="send_private"
    )
)
register(ActionKind("create_task", CreateTask, "community", OPERATOR_TASK, task))
register(ActionKind("alert_owner", AlertOwner, "owner", OPERATOR_ALERT, text))
