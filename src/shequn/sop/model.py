"""Playbooks as validated models: a trigger, an audience, steps with actions.

Every kind of trigger, condition and action is one entry in a registry below, so a
new kind is one line here plus its vectorized rule in `sop.triggers`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shequn.sop.timing import Offset, parse_offset, to_cron

# Triggers this engine evaluates; the others of issue 4 are rejected with a clear message.
TRIGGERS = ("member_joined", "member_left", "member_inactive", "first_purchase", "purchase")
PLANNED_TRIGGERS = (
    "tier_changed",
    "tag_changed",
    "community_created",
    "stage_entered",
    "metric_threshold",
)
# Conditions checked when a step falls due (vectorized in sop.triggers).
CONDITIONS = ("still_member", "silent_since_trigger", "not_purchased_since_trigger")
_TEMPLATES = SandboxedEnvironment(autoescape=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Emergency(_Strict):
    """What to do and whom to alert when a step fails."""

    do: str = Field(min_length=1)
    alert: str = Field(min_length=1)


class AppliesTo(_Strict):
    communities: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> AppliesTo:
        if not self.communities and not self.templates:
            raise ValueError(
                "applies_to names no community and no template; "
                "add communities: [KEY] or templates: [NAME] ('*' for all communities)"
            )
        return self


class EventTrigger(_Strict):
    type: Literal[TRIGGERS]  # type: ignore[valid-type]
    channel: str | None = None  # member_joined: only joins from this channel
    days: int | None = Field(default=None, ge=1, le=365)  # member_inactive

    @model_validator(mode="after")
    def _days(self) -> EventTrigger:
        if (self.type == "member_inactive") != (self.days is not None):
            raise ValueError(
                "days: N is required by member_inactive and only by it; "
                "write days: 7 under a member_inactive trigger"
            )
        return self


class ScheduleTrigger(_Strict):
    type: Literal["schedule"]
    every: str

    @property
    def cron(self) -> str:
        return to_cron(self.every)

    @field_validator("every")
    @classmethod
    def _schedule(cls, value: str) -> str:
        to_cron(value)
        return value


class Audience(_Strict):
    channels: list[str] = Field(default_factory=list)  # joined through one of these


class _Template(_Strict):
    text: str = Field(min_length=1)
    image: str | None = None
    link: str | None = None
    content: str | None = None  # a content item in content/

    @field_validator("text")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            _TEMPLATES.parse(value)
        except TemplateSyntaxError as exc:
            raise ValueError(
                f"the template does not compile ({exc.message}, template line {exc.lineno}); "
                "check {{ ... }} and {% ... %} pairs"
            ) from None
        return value


class SendGroup(_Template):
    type: Literal["send_group"]


class SendPrivate(_Template):
    type: Literal["send_private"]


class CreateTask(_Template):
    type: Literal["create_task"]
    title: str = Field(min_length=1)
    checklist: list[str] = Field(default_factory=list)
    due: str = "+2h"

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        if parse_offset(value).at is not None:
            raise ValueError(f"{value!r}: a task is due a duration after its step; write +2h")
        return value


class AlertOwner(_Template):
    type: Literal["alert_owner"]


Action = Annotated[SendGroup | SendPrivate | CreateTask | AlertOwner, Field(discriminator="type")]


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    at: str
    action: Action
    condition: Literal[CONDITIONS] | None = None  # type: ignore[valid-type]
    owner: str = Field(min_length=1)
    emergency: Emergency

    @property
    def offset(self) -> Offset:
        return parse_offset(self.at)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        parse_offset(value)
        return value


class Playbook(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    applies_to: AppliesTo
    trigger: Annotated[EventTrigger | ScheduleTrigger, Field(discriminator="type")]
    audience: Audience = Audience()
    steps: list[Step] = Field(min_length=1)

    @field_validator("trigger", mode="before")
    @classmethod
    def _known_trigger(cls, value: object) -> object:
        kind = value.get("type") if isinstance(value, dict) else None
        if kind in PLANNED_TRIGGERS:
            raise ValueError(
                f"trigger {kind!r} is planned but this engine does not evaluate it yet; "
                f"use one of {', '.join((*TRIGGERS, 'schedule'))}"
            )
        if isinstance(value, dict) and kind not in (*TRIGGERS, "schedule"):
            raise ValueError(
                f"unknown trigger type {kind!r}; use one of {', '.join((*TRIGGERS, 'schedule'))}"
            )
        return value

    @model_validator(mode="after")
    def _unique_steps(self) -> Playbook:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"two steps are called {step.id!r}; give each step its own id")
            seen.add(step.id)
        if isinstance(self.trigger, ScheduleTrigger):
            for step in self.steps:
                if step.action.type == "send_private" or step.condition is not None:
                    raise ValueError(
                        f"step {step.id!r}: a schedule has no member, so it can neither "
                        "send_private nor take a member condition; use send_group or create_task"
                    )
        return self

    @property
    def per_member(self) -> bool:
        return not isinstance(self.trigger, ScheduleTrigger)
