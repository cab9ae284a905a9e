"""Playbooks as validated models: a trigger, an audience, steps with actions.

Every kind of trigger and condition is one entry in a registry below, so a new kind
is one line here plus its vectorized rule in `sop.triggers`. Action kinds are
registered objects of their own (`sop.kinds`, `sop.action_kinds`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias, Union, get_args

from pydantic import AwareDatetime, Field, field_validator, model_validator

from shequn.clock import to_micros
from shequn.sop import kinds
from shequn.sop.experiments import Experiment, Variant, holdout_share
from shequn.sop.model_base import ActionModel, Strict, TextAction
from shequn.sop.thresholds import Threshold
from shequn.sop.timing import Offset, parse_offset, to_cron

# Triggers on a member's events (EventTrigger), and the triggers on a change of state.
EventTriggerName = Literal[
    "member_joined", "member_left", "member_inactive", "first_purchase", "purchase"
]
TRIGGERS: tuple[str, ...] = get_args(EventTriggerName)
STATE_TRIGGERS = (
    "tag_changed",
    "tier_changed",
    "community_created",
    "stage_entered",
    "metric_threshold",
    "churn_risk_above",
)
ALL_TRIGGERS = (*TRIGGERS, *STATE_TRIGGERS, "signed_up", "schedule")
# Triggers without a member: their steps target the community, like a schedule's.
COMMUNITY_TRIGGERS = ("community_created", "stage_entered", "metric_threshold", "schedule")
# A community's lifecycle stages (the lifecycle helper moves communities through them).
StageName = Literal["prepare", "cold_start", "hot", "self_growth", "conversion", "dissolve"]
STAGES: tuple[str, ...] = get_args(StageName)
# Conditions checked when a step falls due (vectorized in sop.triggers).
ConditionName = Literal["still_member", "silent_since_trigger", "not_purchased_since_trigger"]
CONDITIONS: tuple[str, ...] = get_args(ConditionName)


class Emergency(Strict):
    """What to do and whom to alert when the step fails or a metric crosses a threshold.

    With `threshold:`, every `metric_crossed` event for it in a community the playbook
    applies to queues one alert to `alert` saying what crossed and what to do.
    """

    do: str = Field(min_length=1)
    alert: str = Field(min_length=1)
    threshold: Threshold | None = None


class AppliesTo(Strict):
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


class EventTrigger(Strict):
    type: EventTriggerName
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


class ScheduleTrigger(Strict):
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


class TagChanged(Strict):
    """A member was tagged (`change: added`), untagged (`removed`) or either (`any`)."""

    type: Literal["tag_changed"]
    tag: str | None = Field(default=None, min_length=1)
    change: Literal["added", "removed", "any"] = "added"

    @property
    def event_types(self) -> tuple[str, ...]:
        if self.change == "any":
            return ("tag_added", "tag_removed")
        return (f"tag_{self.change}",)


class TierChanged(Strict):
    """A member's points crossed into a tier (`to:` one tier, or any)."""

    type: Literal["tier_changed"]
    to: str | None = Field(default=None, min_length=1)


class ChurnRiskAbove(Strict):
    """A member's churn risk rose to a band at or above `above` (`churn_risk_crossed`,
    recorded by `shequn members refresh`; bands: `[member_states] churn_risk_bands`)."""

    type: Literal["churn_risk_above"]
    above: float = Field(gt=0, lt=1)


class CommunityCreated(Strict):
    """The engine first saw the community."""

    type: Literal["community_created"]


class StageEntered(Strict):
    """The community moved to a lifecycle stage."""

    type: Literal["stage_entered"]
    stage: StageName


class MetricThreshold(Threshold):
    """A watched daily metric held past a threshold for `days` days (a `metric_crossed`)."""

    type: Literal["metric_threshold"]

    @property
    def threshold(self) -> Threshold:
        return Threshold(metric=self.metric, below=self.below, above=self.above, days=self.days)


class SignedUp(Strict):
    """Every member signed up for an activity by a fixed instant, once, at that instant:
    the activity's private reminders and survey (`shequn.activities.plan`)."""

    type: Literal["signed_up"]
    activity: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    when: AwareDatetime  # with an offset: 2026-11-09T20:00:00+08:00

    @property
    def instant(self) -> int:
        """`when` in µs since the epoch."""
        return to_micros(self.when)


Trigger = Annotated[
    EventTrigger
    | ScheduleTrigger
    | SignedUp
    | TagChanged
    | TierChanged
    | ChurnRiskAbove
    | CommunityCreated
    | StageEntered
    | MetricThreshold,
    Field(discriminator="type"),
]


class Audience(Strict):
    channels: list[str] = Field(default_factory=list)  # joined through one of these


# A step's action: one model per registered action kind (sop.kinds), told apart by
# `type:`. Built at import from the registry, in registration order (the order the
# "unknown type" error lists them in).
if TYPE_CHECKING:
    Action: TypeAlias = ActionModel  # the union is only known at run time
else:
    Action = Annotated[
        Union[tuple(kind.model for kind in kinds.registered())],  # noqa: UP007
        Field(discriminator="type"),
    ]


class Step(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    at: str
    action: Action
    condition: ConditionName | None = None
    owner: str = Field(min_length=1)
    emergency: Emergency
    # An experiment (sop.experiments): a holdout or variants, and what it measures.
    holdout: str | None = None
    variants: list[Variant] | None = Field(default=None, min_length=2)
    experiment: Experiment | None = None

    @property
    def offset(self) -> Offset:
        return parse_offset(self.at)

    @property
    def holdout_share(self) -> float | None:
        return None if self.holdout is None else holdout_share(self.holdout)

    @field_validator("holdout")
    @classmethod
    def _holdout(cls, value: str | None) -> str | None:
        if value is not None:
            holdout_share(value)
        return value

    @model_validator(mode="after")
    def _experiment(self) -> Step:
        if self.holdout is not None and self.variants is not None:
            raise ValueError(
                f"step {self.id!r} has both holdout: and variants:; an experiment is one or "
                "the other (a holdout arm can be added as a variant that sends nothing later)"
            )
        arms = self.holdout is not None or self.variants is not None
        if arms != (self.experiment is not None):
            raise ValueError(
                f"step {self.id!r}: holdout:/variants: and experiment: go together; write "
                "experiment: {outcome: spoke_7d, horizon: +28d} under a step with holdout: 10%"
            )
        if self.variants is not None:
            if not isinstance(self.action, TextAction):
                raise ValueError(
                    f"step {self.id!r}: variants: need a message action "
                    "(send_private, send_group, create_task, alert_owner)"
                )
            names = [v.name for v in self.variants]
            if len(set(names)) != len(names):
                raise ValueError(f"step {self.id!r}: two variants share a name; name each once")
        return self

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        parse_offset(value)
        return value


class Playbook(Strict):
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
        member_kinds = kinds.member_kinds()
        for step in self.steps:
            if step.experiment is not None:
                raise ValueError(
                    f"step {step.id!r}: a {kind} trigger has no member to assign to an arm; "
                    "put holdout:/variants: on a step of a member trigger such as member_joined"
                )
            if step.action.type in member_kinds or step.condition is not None:
                raise ValueError(
                    f"step {step.id!r}: a {kind} trigger has no member, so it can neither "
                    f"{'/'.join(member_kinds)} nor take a member condition; "
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
