"""Playbooks as validated models: a trigger, an audience, steps with actions.

Every kind of trigger, condition and action is one entry in a registry below, so a
new kind is one line here plus its vectorized rule in `sop.triggers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shequn.sop.thresholds import Threshold
from shequn.sop.timing import Offset, parse_offset, to_cron

# Triggers on a member's events (EventTrigger), and the state triggers of issue 4.
TRIGGERS = ("member_joined", "member_left", "member_inactive", "first_purchase", "purchase")
STATE_TRIGGERS = (
    "tag_changed",
    "tier_changed",
    "community_created",
    "stage_entered",
    "metric_threshold",
)
ALL_TRIGGERS = (*TRIGGERS, *STATE_TRIGGERS, "schedule")
# Triggers without a member: their steps target the community, like a schedule's.
COMMUNITY_TRIGGERS = ("community_created", "stage_entered", "metric_threshold", "schedule")
# A community's lifecycle stages (the lifecycle helper moves communities through them).
STAGES = ("prepare", "cold_start", "hot", "self_growth", "conversion", "dissolve")
# Conditions checked when a step falls due (vectorized in sop.triggers).
CONDITIONS = ("still_member", "silent_since_trigger", "not_purchased_since_trigger")
_TEMPLATES = SandboxedEnvironment(autoescape=False)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Emergency(_Strict):
    """What to do and whom to alert when the step fails or a metric crosses a threshold.

    With `threshold:`, every `metric_crossed` event for it in a community the playbook
    applies to queues one alert to `alert` saying what crossed and what to do.
    """

    do: str = Field(min_length=1)
    alert: str = Field(min_length=1)
    threshold: Threshold | None = None


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


class TagChanged(_Strict):
    """A member was tagged (`change: added`), untagged (`removed`) or either (`any`)."""

    type: Literal["tag_changed"]
    tag: str | None = Field(default=None, min_length=1)
    change: Literal["added", "removed", "any"] = "added"

    @property
    def event_types(self) -> tuple[str, ...]:
        if self.change == "any":
            return ("tag_added", "tag_removed")
        return (f"tag_{self.change}",)


class TierChanged(_Strict):
    """A member's points crossed into a tier (`to:` one tier, or any)."""

    type: Literal["tier_changed"]
    to: str | None = Field(default=None, min_length=1)


class CommunityCreated(_Strict):
    """The engine first saw the community."""

    type: Literal["community_created"]


class StageEntered(_Strict):
    """The community moved to a lifecycle stage."""

    type: Literal["stage_entered"]
    stage: Literal[STAGES]  # type: ignore[valid-type]


class MetricThreshold(Threshold):
    """A watched daily metric held past a threshold for `days` days (a `metric_crossed`)."""

    type: Literal["metric_threshold"]

    @property
    def threshold(self) -> Threshold:
        return Threshold(metric=self.metric, below=self.below, above=self.above, days=self.days)


Trigger = Annotated[
    EventTrigger
    | ScheduleTrigger
    | TagChanged
    | TierChanged
    | CommunityCreated
    | StageEntered
    | MetricThreshold,
    Field(discriminator="type"),
]


class Audience(_Strict):
    channels: list[str] = Field(default_factory=list)  # joined through one of these


def _duration(rule: str, example: str) -> Callable[[str], str]:
    """A validator: the offset is a duration (`+2h`), not a clock time (`+1d 20:00`)."""

    def check(value: str) -> str:
        if parse_offset(value).at is not None:
            raise ValueError(f"{value!r}: {rule}; write {example}")
        return value

    return check


def _compiles(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        _TEMPLATES.parse(value)
    except TemplateSyntaxError as exc:
        raise ValueError(
            f"the template does not compile ({exc.message}, template line {exc.lineno}); "
            "check {{ ... }} and {% ... %} pairs"
        ) from None
    return value


class _Template(_Strict):
    text: str | None = Field(default=None, min_length=1)
    image: str | None = None
    link: str | None = None
    # A content item: content/<name>.md or .txt in the workspace (sop.content).
    content: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

    _text = field_validator("text")(_compiles)

    @model_validator(mode="after")
    def _has_text(self) -> _Template:
        if self.text is None and self.content is None:
            raise ValueError(
                'the action has no text; write text: "..." or content: NAME '
                "(a file content/NAME.md or .txt in the workspace)"
            )
        return self


class SendGroup(_Template):
    type: Literal["send_group"]


class SendPrivate(_Template):
    type: Literal["send_private"]


class CreateTask(_Template):
    type: Literal["create_task"]
    title: str = Field(min_length=1)
    checklist: list[str] = Field(default_factory=list)
    due: str = "+2h"

    _due = field_validator("due")(_duration("a task is due a duration after its step", "+2h"))


class AlertOwner(_Template):
    type: Literal["alert_owner"]


class Tag(_Strict):
    """Give the member a tag (tag_added); nothing if they already hold it."""

    type: Literal["tag"]
    tag: str = Field(min_length=1, max_length=64)


class Untag(_Strict):
    """Take a tag from the member (tag_removed); nothing if they do not hold it."""

    type: Literal["untag"]
    tag: str = Field(min_length=1, max_length=64)


class AddPoints(_Strict):
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


class StartActivity(_Strict):
    """Start an activity (activity_started) and, with `text`, announce it in the group."""

    type: Literal["start_activity"]
    activity: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    ends: str = "+1d"
    text: str | None = Field(default=None, min_length=1)

    _text = field_validator("text")(_compiles)

    _ends = field_validator("ends")(_duration("an activity ends a duration after its start", "+2d"))


class Webhook(_Strict):
    """POST to a URL (from the environment when it holds a secret) with a JSON body."""

    type: Literal["webhook"]
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    body: str | None = None  # a Jinja2 template of a JSON document
    timeout: float = Field(default=10.0, gt=0, le=120)

    _body = field_validator("body")(_compiles)

    @model_validator(mode="after")
    def _one_url(self) -> Webhook:
        if (self.url is None) == (self.url_env is None):
            raise ValueError(
                "a webhook needs exactly one of url_env: and url:; write url_env: NAME "
                "(the URL is read from that environment variable: keep secrets out of files)"
            )
        return self


Action = Annotated[
    SendGroup
    | SendPrivate
    | CreateTask
    | AlertOwner
    | Tag
    | Untag
    | AddPoints
    | StartActivity
    | Webhook,
    Field(discriminator="type"),
]
# Actions that act on the trigger's member: only per-member playbooks may use them.
MEMBER_ACTIONS = ("send_private", "tag", "untag", "add_points")
# Actions executed inside the store (no external delivery): the `state` platform.
STATE_ACTIONS = ("tag", "untag", "add_points", "start_activity")


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
    trigger: Trigger
    audience: Audience = Audience()
    steps: list[Step] = Field(min_length=1)

    @field_validator("trigger", mode="before")
    @classmethod
    def _known_trigger(cls, value: object) -> object:
        kind = value.get("type") if isinstance(value, dict) else None
        if isinstance(value, dict) and kind not in ALL_TRIGGERS:
            raise ValueError(f"unknown trigger type {kind!r}; use one of {', '.join(ALL_TRIGGERS)}")
        return value

    @model_validator(mode="after")
    def _unique_steps(self) -> Playbook:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"two steps are called {step.id!r}; give each step its own id")
            seen.add(step.id)
        if not self.per_member:
            self._community_level()
        return self

    def _community_level(self) -> None:
        kind = self.trigger.type
        for step in self.steps:
            if step.action.type in MEMBER_ACTIONS or step.condition is not None:
                raise ValueError(
                    f"step {step.id!r}: a {kind} trigger has no member, so it can neither "
                    f"{'/'.join(MEMBER_ACTIONS)} nor take a member condition; "
                    "use send_group or create_task"
                )
        if self.audience.channels:
            raise ValueError(
                f"audience: a {kind} trigger has no member to choose by join channel; "
                "remove audience: or use a member trigger such as member_joined"
            )

    @property
    def per_member(self) -> bool:
        """Whether occurrences belong to a member (else to a community: a schedule, a stage)."""
        return self.trigger.type not in COMMUNITY_TRIGGERS
