"""`sop validate` refuses a step its community's live platform cannot carry out."""

from __future__ import annotations

from shequn.config import Community, PlatformConfig, Settings
from shequn.platforms import registry
from shequn.sop.capability_check import check_capabilities
from shequn.sop.loader import check

PLAYBOOK = """\
name: care
applies_to:
  communities: ["*"]
trigger:
  type: member_joined
steps:
  - id: hello
    at: "+0m"
    action:
      type: send_group
      text: "Welcome"
    owner: role:assistant
    emergency: {do: "welcome them by hand", alert: "role:lead"}
  - id: note
    at: "+1d"
    action:
      type: send_private
      text: "How is it going?"
    owner: role:assistant
    emergency: {do: "ask them by hand", alert: "role:lead"}
"""

def _settings() -> Settings:
    return Settings(
        communities=[
            Community(key="club", platform="qq", group="1001"),
            Community(key="shop", platform="wecom"),  # not live: operator tasks
        ],
        platforms={"qq": PlatformConfig(url="ws://127.0.0.1:1")},
    )


def test_a_step_the_platform_cannot_do_is_named_with_its_line() -> None:
    pb, problems = check(PLAYBOOK, "care.yaml")
    assert pb is not None and problems == []
    settings = _settings()
    group_only = {"qq": frozenset({"send_group"})}
    found = check_capabilities(
        pb, "care.yaml", PLAYBOOK, settings, settings.communities, group_only.get
    )
    assert [(p.line, p.field) for p in found] == [(17, "steps.1.action.type")]
    assert "'club' is on qq, whose adapter cannot send_private" in str(found[0])
    assert "send_group" in found[0].hint and "create_task" in found[0].hint


def test_a_platform_that_can_do_every_step_passes() -> None:
    pb, _ = check(PLAYBOOK, "care.yaml")
    assert pb is not None
    settings = _settings()
    both = {"qq": frozenset({"send_group", "send_private"})}
    assert (
        check_capabilities(pb, "care.yaml", PLAYBOOK, settings, settings.communities, both.get)
        == []
    )


def test_the_registry_reads_each_adapters_declared_capabilities() -> None:
    for name in ("matrix", "telegram", "qq"):
        can = registry.capabilities(name)
        assert can is not None and {"send_group", "send_private"} <= can, name
    assert registry.capabilities("nowhere") is None
