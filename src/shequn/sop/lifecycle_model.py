"""The lifecycle plan: which stages a community goes through, when, and with what routines.

A workspace may hold `lifecycle.yaml`; without it the built-in plan
(`shequn/lifecycle/default.yaml`) applies. The plan lists stages in the order of
`shequn.sop.model.STAGES`, `prepare` first. Every later stage may say when a community
enters it (`enter:` a time in the current stage or since creation, and/or metric
thresholds, `any` or `all` of them) and which playbooks are its routines. A stage
without `enter:` is entered only by an operator (`shequn lifecycle set`).
`templates:` gives a whole other list of stages to communities of a template.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shequn.errors import InputError
from shequn.sop.model import STAGES, StageName
from shequn.sop.thresholds import Threshold
from shequn.yamlio import kept_when_valid, validate_text

PLAN_FILE = "lifecycle.yaml"
DAY_US = 86_400_000_000
_DURATION = re.compile(r"^(\d+)([hd])$")
_UNIT_US = {"h": 3_600_000_000, "d": DAY_US}
DURATION_HINT = "write a number of days or hours: 7d, 12h"


def duration_us(text: str) -> int:
    """`7d` or `12h` in microseconds; ValueError with the fix otherwise."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration; {DURATION_HINT}")
    return int(match[1]) * _UNIT_US[match[2]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """When a community enters a stage."""

    match: Literal["any", "all"] = "any"
    # Time in the current stage (since: stage) or since the community was created.
    after: str | None = None
    since: Literal["stage", "created"] = "stage"
    metrics: list[Threshold] = Field(default_factory=list)
    # previous: only from the stage just before; any: from every earlier stage.
    from_: Literal["previous", "any"] = Field(default="previous", alias="from")

    @field_validator("after")
    @classmethod
    def _after(cls, value: str | None) -> str | None:
        if value is not None:
            duration_us(value)
        return value

    @model_validator(mode="after")
    def _something(self) -> Entry:
        if self.after is None and not self.metrics:
            raise ValueError(
                "enter: has no condition; add after: 7d and/or metrics: [...] "
                "(or remove enter: to leave the stage to operators)"
            )
        return self

    @property
    def after_us(self) -> int | None:
        return None if self.after is None else duration_us(self.after)


class Stage(_Strict):
    """One stage: its entry conditions and its routines (playbook names)."""

    name: StageName
    title: str = ""
    enter: Entry | None = None
    playbooks: list[str] = Field(default_factory=list)


def _check_stages(stages: list[Stage]) -> list[Stage]:
    names = [s.name for s in stages]
    if not names or names[0] != "prepare":
        raise ValueError("the first stage must be prepare; start the list with - name: prepare")
    if stages[0].enter is not None:
        raise ValueError("prepare is where every community starts; remove its enter:")
    order = [STAGES.index(n) for n in names]
    if order != sorted(set(order)):
        raise ValueError(f"stages must be listed once each, in the order {', '.join(STAGES)}")
    return stages


class LifecyclePlan(_Strict):
    """The whole plan: the default stages and per-template stage lists."""

    stages: list[Stage]
    templates: dict[str, list[Stage]] = Field(default_factory=dict)

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[Stage]) -> list[Stage]:
        return _check_stages(value)

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: dict[str, list[Stage]]) -> dict[str, list[Stage]]:
        for stages in value.values():
            _check_stages(stages)
        return value

    def stages_for(self, template: str) -> list[Stage]:
        """The stages of a community made from `template` ('' for none)."""
        return self.templates.get(template, self.stages) if template else self.stages

    def thresholds(self) -> set[Threshold]:
        """Every threshold an entry condition watches."""
        lists = [self.stages, *self.templates.values()]
        return {t for stages in lists for s in stages if s.enter for t in s.enter.metrics}


def default_text() -> str:
    """The built-in plan's YAML (what `shequn lifecycle show-default` prints)."""
    return (resources.files("shequn") / "lifecycle" / "default.yaml").read_text(encoding="utf-8")


@kept_when_valid
def check(source: str, file: str) -> tuple[LifecyclePlan | None, list[InputError]]:
    """Validate a plan's YAML text: the plan, or every problem with file, line and fix
    (a valid one kept: the engine reads the plan each tick; a plan is frozen)."""
    return validate_text(
        source,
        file,
        LifecyclePlan,
        what="a lifecycle plan",
        start="stages: (see `shequn lifecycle show-default`)",
        docs="docs/lifecycle.md for the fields",
    )


def load_plan(root: Path) -> tuple[LifecyclePlan, str]:
    """The workspace's plan and where it came from (its file, or "built-in").

    Raises:
        InputError: lifecycle.yaml is invalid (the first problem: file, line, fix).
    """
    path = root / PLAN_FILE
    if not path.is_file():
        plan, problems = check(default_text(), "built-in lifecycle plan")
        assert plan is not None, problems
        return plan, "built-in"
    plan, problems = check(path.read_text(encoding="utf-8"), str(path))
    if plan is None:
        raise problems[0]
    return plan, str(path)
