"""The action-kind registry: one object per kind, the union built from it, routes,
and a kind added from outside through the same `register` call."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Literal

import pytest

from shequn.config import Settings
from shequn.sop import kinds
from shequn.sop.kinds import STATE_CHANGE, ActionKind, Context
from shequn.sop.model import Step
from shequn.sop.model_base import Strict

BUILTIN = (
    "send_group",
    "send_private",
    "create_task",
    "alert_owner",
    "tag",
    "untag",
    "add_points",
    "start_activity",
    "webhook",
)


def test_the_builtin_kinds_in_registration_order() -> None:
    assert tuple(k.name for k in kinds.registered()) == BUILTIN
    assert kinds.member_kinds() == ("send_private", "tag", "untag", "add_points")


def test_a_step_accepts_exactly_the_registered_models() -> None:
    union = Step.model_fields["action"].annotation
    assert tuple(m.model_fields["type"].annotation.__args__[0] for m in union.__args__) == BUILTIN


@pytest.mark.parametrize(
    ("kind", "platform", "expected"),
    [
        ("send_group", "telegram", ("console", "club")),
        ("send_group", "wecom", ("task", "club")),  # WeCom group sends need a person
        ("send_private", "wechat", ("task", "club")),
        ("send_private", "qq", ("console", "club")),
        ("create_task", "telegram", ("task", "club")),
        ("alert_owner", "telegram", ("console", "club")),  # no operator: the console
        ("tag", "wecom", ("state", "club")),
        ("untag", "telegram", ("state", "club")),
        ("add_points", "telegram", ("state", "club")),
        ("start_activity", "wecom", ("state", "club")),
        ("webhook", "wecom", ("webhook", "club")),
    ],
)
def test_each_kind_routes_by_its_declared_route(
    kind: str, platform: str, expected: tuple[str, str]
) -> None:
    assert kinds.route(kind, platform, "club", Context(Settings())) == expected


def test_an_alert_goes_to_the_operator_contact() -> None:
    settings = Settings.model_validate({"operators": [{"name": "bob", "contact": "telegram:42"}]})
    assert kinds.route("alert_owner", "wecom", "bob", Context(settings)) == (
        "telegram",
        "telegram:42",
    )


class _Wave(Strict):
    type: Literal["wave"]


def _wave_payload(_a: object, _v: dict, _c: Context) -> dict:
    return {}


def test_a_kind_declares_itself_consistently() -> None:
    with pytest.raises(ValueError, match=r"_Wave.type must be Literal\['hello'\]"):
        ActionKind("hello", _Wave, "member", kinds.PLATFORM_DELIVERY, _wave_payload)
    with pytest.raises(ValueError, match="a state change needs an executor"):
        ActionKind("wave", _Wave, "member", STATE_CHANGE, _wave_payload)
    with pytest.raises(ValueError, match="'tag' is registered twice"):
        kinds.register(kinds.get("tag"))
    with pytest.raises(ValueError, match="no action kind 'wave'; known: send_group"):
        kinds.get("wave")


PLUGIN = """
from typing import Literal

from shequn.sop.kinds import PLATFORM_DELIVERY, ActionKind, Context, register
from shequn.sop.model_base import Strict


class Warn(Strict):
    type: Literal["warn"]
    reason: str


def payload(action: Warn, values: dict, ctx: Context) -> dict:
    return {"reason": action.reason}


register(ActionKind("warn", Warn, "member", PLATFORM_DELIVERY, payload))

from shequn.config import Settings
from shequn.sop import kinds
from shequn.sop.loader import check

PLAYBOOK = '''
name: warn-spam
applies_to: {communities: [club]}
trigger: {type: STEP_TRIGGER}
steps:
  - id: warn
    at: "+0m"
    action: {type: warn, reason: spam}
    owner: alice
    emergency: {do: nothing, alert: bob}
'''
playbook, problems = check(PLAYBOOK.replace("STEP_TRIGGER", "member_joined"), "w.yaml")
print(playbook.steps[0].action.reason)
_, problems = check(PLAYBOOK.replace("STEP_TRIGGER", "community_created"), "w.yaml")
print(str(problems[0]).splitlines()[0])
ctx = Context(Settings())
print(kinds.route("warn", "telegram", "wx:a", ctx), kinds.route("warn", "wecom", "wx:a", ctx))
"""


def test_a_new_kind_is_one_register_call() -> None:
    """Registered before the playbook model is built, a kind is a valid `type:`, counts
    as a member kind, and routes by its platform's capabilities."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PLUGIN)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "spam",
        "w.yaml:2: step 'warn': a community_created trigger has no member, "
        "so it can neither warn/send_private/tag/untag/add_points nor take a member "
        "condition",
        "('console', 'wx:a') ('task', 'wx:a')",
    ]
