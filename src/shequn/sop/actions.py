"""What a due step becomes in the outbox: its rendered payload and where it goes.

Each action type is one entry of `PAYLOADS` (what to render and keep) and of the
routing in `route`; the dispatcher then delivers it on a platform, turns it into an
operator task, or executes it in the store (`sop.state`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shequn.config import Settings
from shequn.platforms.base import NEEDS_PERSON
from shequn.sop import alerts
from shequn.sop.content import ContentError, Library
from shequn.sop.model import STATE_ACTIONS, CreateTask
from shequn.sop.render import RenderError, render
from shequn.sop.state import PLATFORM as STATE
from shequn.sop.timing import parse_offset

TASK = "task"
WEBHOOK = "webhook"


@dataclass
class Context:
    """What building rows needs beyond the due step: settings and the content library."""

    settings: Settings
    content: Library = field(default_factory=lambda: Library(None))


def _text(action: Any, values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """text (the action's text, then the content item's body), and the item's fields."""
    parts, out = [], {}
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
    if isinstance(action, CreateTask):
        out.update(
            title=render(action.title, values),
            checklist=action.checklist,
            task_due_ts=values["_due_ts"] + parse_offset(action.due).micros,
        )
    return out


def _webhook(action: Any, values: dict[str, Any], _ctx: Context) -> dict[str, Any]:
    """The URL's source (never a secret: the variable's name) and the JSON body."""
    if action.body is None:
        body: Any = {
            "community": values["community"]["key"],
            "member": values["member"]["key"] or None,
            "playbook": values["_playbook"],
            "step": values["_step"],
        }
    else:
        rendered = render(action.body, values)
        try:
            body = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise RenderError(f"the webhook body is not JSON ({exc.msg} at {exc.pos})") from None
    return {"url_env": action.url_env, "url": action.url, "body": body, "timeout": action.timeout}


def _activity(action: Any, values: dict[str, Any], _ctx: Context) -> dict[str, Any]:
    out = {
        "activity": action.activity,
        "title": render(action.title, values) if action.title else "",
        "ends_ts": values["_due_ts"] + parse_offset(action.ends).micros,
    }
    if action.text:
        out["announce"] = render(action.text, values)
    return out


PAYLOADS: dict[str, Callable[[Any, dict[str, Any], Context], dict[str, Any]]] = {
    "send_group": _text,
    "send_private": _text,
    "create_task": _text,
    "alert_owner": _text,
    "tag": lambda a, _v, _c: {"tag": a.tag},
    "untag": lambda a, _v, _c: {"tag": a.tag},
    "add_points": lambda a, _v, _c: {"points": a.points, "reason": a.reason},
    "start_activity": _activity,
    "webhook": _webhook,
}


def payload(action: Any, values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The action's rendered payload.

    Args:
        action: the step's action model.
        values: the template variables plus `_due_ts`, `_playbook`, `_step`.
        ctx: settings and content.

    Raises:
        RenderError: a template or content item failed for this target.
    """
    return PAYLOADS[action.type](action, values, ctx)


def route(action: str, community_platform: str, target: str, ctx: Context) -> tuple[str, str]:
    """(platform, target): an operator task, the store, a webhook, an operator's contact,
    the community's live platform when the workspace connects to it, else the console."""
    if action == "create_task":
        return TASK, target
    if action in STATE_ACTIONS:
        return STATE, target
    if action == "webhook":
        return WEBHOOK, target
    if action == "alert_owner":
        return alerts.route(ctx.settings, target)
    if community_platform in NEEDS_PERSON and action in ("send_group", "send_private"):
        return TASK, target
    if community_platform in ctx.settings.platforms and action in ("send_group", "send_private"):
        return community_platform, target  # a live adapter ([platforms.NAME])
    return "console", target
