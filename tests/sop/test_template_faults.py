"""Templates: bounded rendering (an expensive one cannot freeze the tick), and
validation against the variables and keys that exist."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.clock import FrozenClock
from shequn.services.sop import tick
from shequn.services.sop_plan import plan
from shequn.services.workspace import init_workspace
from shequn.sop.render import RenderError, render
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace
from tests.helpers.process import child_env
from tests.sop.helpers import add_events, at, write_playbook


@pytest.mark.parametrize(
    ("template", "needle"),
    [
        ("{{ 9**(9**9) }}", "9 ** 387420489 is too large a number"),
        ("{{ 10.0 ** 400 }}", "too large a number"),
        ("{{ 'ab' * 100000 }}", "repeating 2 items 100000 times is too long"),
        ("{{ (2**4000) * (2**4000) }}", "the product is too large a number"),
        ("{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}", "steps"),
        ("{{ range(10**6)|list }}", "range of 1,000,000 items"),
        ("{{ '%0100000d' % 1 }}", "longer than 16,384 characters"),
        ("{% for i in range(20000) %}{{ member.name }}{% endfor %}", "longer than 16,384"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
        ("{{ member.name + 1 }}", "can only concatenate str"),
    ],
)
def test_expensive_templates_fail_fast(template: str, needle: str) -> None:
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        render(template, {"member": {"name": "Amy"}})
    assert needle in str(caught.value)
    assert time.monotonic() - started < 2


def test_ordinary_templates_still_render() -> None:
    text = "{% for i in range(3) %}{{ i }}{% endfor %} {{ 2**10 }} {{ '%03d' % 7 }} {{ 'ab' * 2 }}"
    assert render(text, {}) == "012 1024 007 abab"


EXPENSIVE = """
    name: expensive
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: boom
        at: "+0m"
        action: {type: send_private, text: "{{ 9**(9**9) }}"}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
      - id: fine
        at: "+0m"
        action: {type: send_private, text: "hi {{ member.key }}"}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
"""


def test_an_expensive_step_is_dead_lettered_and_the_tick_goes_on(
    ws: Workspace, clock: FrozenClock
) -> None:
    write_playbook(ws, "expensive", EXPENSIVE)
    tick(ws, at(clock, "2026-11-01T00:00:00+00:00"))
    add_events(ws, [("2026-11-01T09:00:00+08:00", "club", "wx:alice", "join", "")])
    started = time.monotonic()
    result = tick(ws, at(clock, "2026-11-01T01:30:00+00:00"))
    assert time.monotonic() - started < 20  # before: it never returned
    assert (result.queued, result.dead) == (2, 1)
    query = select(outbox.c.step, outbox.c.action, outbox.c.state, outbox.c.reason)
    with ws.engine.connect() as conn:
        found = sorted(tuple(r) for r in conn.execute(query))
    assert found == [
        ("boom", "alert_owner", "pending", None),  # its emergency plan: the lead is told
        ("boom", "send_private", "dead", "template: 9 ** 387420489 is too large a number"),
        ("fine", "send_private", "pending", None),
    ]


def _validate(root: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shequn", "sop", "validate", *map(str, files), "-w", str(root)],
        capture_output=True,
        text=True,
        env={**child_env(), "COLUMNS": "300"},
    )


TYPO = """
    name: typo
    applies_to: {communities: [club, nope], templates: [school, nosuch]}
    trigger: {type: member_joined}
    steps:
      - id: hello
        at: "+0m"
        action:
          type: send_private
          text: "hi {{ member.nmae }}"
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
      - id: bye
        at: "+1d"
        action: {type: send_private, text: "{{ membr.key }}"}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
"""


@pytest.fixture
def school(tmp_path: Path) -> Workspace:
    ws = init_workspace(tmp_path / "w", name="w", community="club")
    text = (ws.root / "shequn.toml").read_text(encoding="utf-8")
    text += '\n[[communities]]\nkey = "class-1"\ntemplate = "school"\n'
    (ws.root / "shequn.toml").write_text(text, encoding="utf-8")
    for name in ws.root.joinpath("playbooks").glob("*.yaml"):
        name.unlink()
    return Workspace.open(ws.root)


def test_validate_names_unknown_variables_and_keys(school: Workspace) -> None:
    path = write_playbook(school, "typo", TYPO)
    out = _validate(school.root, path)
    assert out.returncode == 2, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: {path}:9 (field 'steps.0.action.text'): unknown template variable 'member.nmae'",
        f"error: {path}:14 (field 'steps.1.action.text'): unknown template variable 'membr'",
        f"error: {path}:2 (field 'applies_to.communities.1'): no community 'nope' in this "
        "workspace: the playbook never applies there",
        f"error: {path}:2 (field 'applies_to.templates.1'): no template 'nosuch' in this "
        "workspace: the playbook never applies there",
    ]
    assert "fix: the variables are member.key, member.name, member.recommended, community.key" in (
        out.stderr
    )
    hint = "fix: use one of: *, class-1, club (communities in shequn.toml or imported)"
    assert hint in out.stderr


def test_the_engine_rejects_a_version_with_an_unknown_variable(
    school: Workspace, clock: FrozenClock
) -> None:
    write_playbook(school, "typo", TYPO.replace("club, nope", "club").replace(", nosuch", ""))
    found = plan(school, at(clock, "2026-11-01T00:00:00+00:00"))
    assert [p.message.split(": ", 1)[1] for p in found.rejected] == [
        "unknown template variable 'member.nmae'",
        "unknown template variable 'membr'",
    ]


FAILS_AT_RUN_TIME = """
    name: goal
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: push
        at: "+1h"
        action: {type: send_private, text: "we need {{ goal.target * 2 }}"}
        owner: role:assistant
        emergency: {do: "x", alert: "role:lead"}
"""


def test_plan_shows_an_action_that_will_not_be_sent_and_why(
    school: Workspace, clock: FrozenClock
) -> None:
    write_playbook(school, "goal", FAILS_AT_RUN_TIME)
    # A community only imported, not in shequn.toml, has no goal: its target is None.
    add_events(school, [("2026-11-01T09:00:00+08:00", "other", "wx:alice", "join", "")])
    found = plan(school, at(clock, "2026-11-01T01:30:00+00:00"), days=1)
    assert [(a.status, a.step, a.text) for a in found.actions] == [
        (
            "dead",
            "push",
            "not sent: template: unsupported operand type(s) for *: 'NoneType' and 'int'",
        ),
    ]
    out = _validate(school.root)
    assert "the template fails for community 'class-1'" in out.stderr


def test_a_template_out_of_time_fails_at_once_the_next_times() -> None:
    slow = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}x"
    with pytest.raises(RenderError, match="steps"):
        render(slow, {})
    started = time.monotonic()
    for _ in range(1000):  # a thousand members: not a thousand times the budget
        with pytest.raises(RenderError, match="steps"):
            render(slow, {})
    assert time.monotonic() - started < 1
