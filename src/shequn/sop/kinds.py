"""The registry of SOP action kinds: one `ActionKind` object per kind.

An action kind declares everything the engine knows about it in one place: its
playbook model (the `type:` of a step's `action:`), whether it needs the trigger's
member, where its outbox rows go (a `Route`), how its payload is rendered, and, for a
kind executed inside the store, how it executes. The built-in kinds register through
`register` like any later kind (`shequn.sop.action_kinds`); `sop.model` builds the
discriminated union of action models from the registry, in registration order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel
from sqlalchemy import Connection

from shequn.config import Settings
from shequn.platforms.base import can_do
from shequn.sop import alerts
from shequn.sop.content import Library

if TYPE_CHECKING:
    from shequn.sop.outbox import OutboxRow

# Whom a kind acts on. `member`: the trigger's member (only per-member playbooks may use
# it); `community`: the trigger's member when there is one, else the community;
# `owner`: the step's owner (an operator).
Target = Literal["member", "community", "owner"]
Payload = dict[str, Any]
Events = list[dict[str, Any]]

# Where outbox rows go besides a chat platform.
TASK = "task"  # an operator task (sop_tasks)
STATE = "state"  # executed in the store by the dispatcher (sop.state)
WEBHOOK = "webhook"  # an HTTP POST (platforms.webhook)
# The platform that delivers messages of communities on no live platform.
DELIVERY = "console"


@dataclass
class Context:
    """What building rows needs beyond the due step: settings, the content library and
    the recommended items of the due members whose templates ask for them
    (sop.recommended)."""

    settings: Settings
    content: Library = field(default_factory=lambda: Library(None))
    recommended: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """How a kind's rows are routed: `where(kind, community platform, target, ctx)`
    gives the (platform, target) of the outbox row."""

    name: str
    where: Callable[[str, str, str, Context], tuple[str, str]]


def _deliver(kind: str, community_platform: str, target: str, ctx: Context) -> tuple[str, str]:
    # A platform that cannot do this kind without a person (WeCom group sends need staff
    # confirmation) turns it into an operator task.
    if not can_do(community_platform, kind):
        return TASK, target
    if community_platform in ctx.settings.platforms:  # a live adapter ([platforms.NAME])
        return community_platform, target
    return DELIVERY, target


PLATFORM_DELIVERY = Route("platform", _deliver)
OPERATOR_TASK = Route("task", lambda _k, _p, target, _c: (TASK, target))
STATE_CHANGE = Route("state", lambda _k, _p, target, _c: (STATE, target))
HTTP_WEBHOOK = Route("webhook", lambda _k, _p, target, _c: (WEBHOOK, target))
# An operator's contact in shequn.toml (sop.alerts.route).
OPERATOR_ALERT = Route("alert", lambda _k, _p, target, ctx: alerts.route(ctx.settings, target))

PayloadBuilder = Callable[[Any, dict[str, Any], Context], Payload]
Executor = Callable[[Connection, "OutboxRow", Payload, int, Settings], Events]


@dataclass(frozen=True)
class ActionKind:
    """One kind of action a playbook step may take.

    Attributes:
        name: the `type:` written in a playbook.
        model: the pydantic model of the step's `action:` (a `type: Literal[name]`).
        target: whom it acts on (see `Target`).
        route: where its outbox rows go.
        payload: renders the payload kept in the outbox row, from the action model, the
            template values (plus `_due_ts`, `_playbook`, `_step`) and the context;
            raises `sop.render.RenderError` when a template or content item fails.
        execute: for a kind routed to the store: the events its row causes, read in
            the dispatcher's transaction (`sop.state.execute` records them there).
        needs: the live platform capability (`platforms.base.Capability`) a platform
            delivery of this kind needs; `sop validate` refuses a step whose
            community's platform lacks it.
    """

    name: str
    model: type[BaseModel]
    target: Target
    route: Route
    payload: PayloadBuilder
    execute: Executor | None = None
    needs: str | None = None

    def __post_init__(self) -> None:
        declared = self.model.model_fields.get("type")
        if declared is None or get_args(declared.annotation) != (self.name,):
            raise ValueError(f"{self.model.__name__}.type must be Literal[{self.name!r}]")
        if (self.route is STATE_CHANGE) != (self.execute is not None):
            raise ValueError(f"action kind {self.name!r}: a state change needs an executor")


_KINDS: dict[str, ActionKind] = {}
_builtins: list[bool] = []  # set once the built-in kinds are being loaded


def _load_builtins() -> None:
    """Register the built-in kinds on first use (a process may only dispatch)."""
    if not _builtins:
        _builtins.append(True)
        importlib.import_module("shequn.sop.action_kinds")


def register(kind: ActionKind) -> ActionKind:
    """Add a kind to the registry (before `sop.model` is imported: see action_kinds)."""
    if kind.name in _KINDS:
        raise ValueError(f"action kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> ActionKind:
    """The registered kind called `name`."""
    _load_builtins()
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"no action kind {name!r}; known: {', '.join(_KINDS)}") from None


def registered() -> tuple[ActionKind, ...]:
    """Every kind, in registration order."""
    _load_builtins()
    return tuple(_KINDS.values())


def member_kinds() -> tuple[str, ...]:
    """The kinds that act on the trigger's member (per-member playbooks only)."""
    return tuple(k.name for k in registered() if k.target == "member")


def route(kind: str, community_platform: str, target: str, ctx: Context) -> tuple[str, str]:
    """(platform, target) of a row of this kind in a community on `community_platform`."""
    return get(kind).route.where(kind, community_platform, target, ctx)
