"""Playbook validation: file, line and fix; the built-in library; step times."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shequn.errors import InputError
from shequn.sop.loader import check, load_file, scan
from shequn.sop.timing import occurrences, parse_offset, to_cron

GOOD = """\
name: care
applies_to:
  communities: [club]
trigger:
  type: member_inactive
  days: 14
steps:
  - id: ping
    at: "+0d 19:00"
    action:
      type: send_private
      text: "hi {{ member.name }}"
    owner: alice
    emergency: {do: call them, alert: bob}
"""


def _errors(text: str) -> list[str]:
    playbook, problems = check(textwrap.dedent(text), "pb.yaml")
    assert playbook is None
    return [str(p) for p in problems]


def test_a_valid_playbook() -> None:
    playbook, problems = check(GOOD, "pb.yaml")
    assert problems == []
    assert playbook is not None
    assert (playbook.name, playbook.trigger.type, playbook.steps[0].offset.at) == (
        "care",
        "member_inactive",
        time(19, 0),
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '"+0d 19:00"',
            '"+2x"',
            "pb.yaml:9 (field 'steps.0.at'): '+2x' is not a step time\n"
            "  fix: write +30m, +2h, +1d or +1d 20:00 (days with a local clock time)",
        ),
        (
            "type: send_private",
            "type: send_dm",
            "pb.yaml:11 (field 'steps.0.action.type'): unknown type 'send_dm'\n"
            "  fix: use one of 'send_group', 'send_private', 'create_task', 'alert_owner', "
            "'tag', 'untag', 'add_points', 'start_activity', 'webhook'",
        ),
        (
            "    owner: alice\n",
            "",
            "pb.yaml:8 (field 'steps.0'): Field required\n  fix: add `owner:` here",
        ),
        (
            "  days: 14\n",
            "  days: 14\n  colour: red\n",
            "pb.yaml:7 (field 'trigger.colour'): Extra inputs are not permitted\n"
            "  fix: remove it or check its spelling (see docs/sop.md for the fields)",
        ),
        (
            "type: member_inactive",
            "type: member_tagged",
            "pb.yaml:4 (field 'trigger'): unknown trigger type 'member_tagged'\n  fix: use one "
            "of member_joined, member_left, member_inactive, first_purchase, purchase, "
            "tag_changed, tier_changed, community_created, stage_entered, metric_threshold, "
            "churn_risk_above, signed_up, schedule",
        ),
        (
            '"hi {{ member.name }}"',
            '"hi {{ member.name }"',
            "pb.yaml:12 (field 'steps.0.action.text'): the template does not compile "
            "(unexpected '}', template line 1)\n  fix: check {{ ... }} and {% ... %} pairs",
        ),
        (
            "  days: 14\n",
            "",
            "pb.yaml:4 (field 'trigger'): days: N is required by member_inactive and only by it"
            "\n  fix: write days: 7 under a member_inactive trigger",
        ),
        (
            "steps:\n",
            "steps: [\n",
            "pb.yaml:8: not valid YAML: expected the node content, but found '-'\n"
            "  fix: check indentation and quote values that contain ': ' or '#'",
        ),
    ],
)
def test_errors_name_the_line_the_field_and_the_fix(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    assert _errors(GOOD.replace(old, new, 1)) == [expected]


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = GOOD.replace('"+0d 19:00"', '"+1h 19:00"').replace("owner: alice", "owner: ''")
    assert [e.split(":")[1] for e in _errors(text)] == [
        "9 (field 'steps.0.at')",
        "13 (field 'steps.0.owner')",
    ]


def test_a_duplicate_key_and_a_duplicate_name(tmp_path: Path) -> None:
    assert _errors(GOOD.replace("  days: 14\n", "  days: 14\n  days: 7\n")) == [
        "pb.yaml:7: 'days' is given twice\n  fix: keep one of them"
    ]
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    loaded, problems = scan(tmp_path)
    assert [Path(x.path).name for x in loaded] == ["a.yaml"]
    assert [p.line for p in problems] == [1]
    with pytest.raises(InputError, match="is not a step time"):
        (tmp_path / "c.yaml").write_text(GOOD.replace("+0d 19:00", "tomorrow"))
        load_file(tmp_path / "c.yaml")


def test_the_built_in_library_is_valid_and_complete() -> None:
    folder = Path(str(resources.files("shequn") / "playbooks"))
    loaded, problems = scan(folder)
    assert problems == []
    assert sorted(x.playbook.name for x in loaded) == [
        "activity-campaign",
        "conversion-push",
        "daily-routine",
        "dissolution",
        "newcomer-7day",
        "referral-campaign",
        "silent-care",
        "weekly-sharing",
    ]


def test_offsets_and_schedules() -> None:
    assert parse_offset("+30m").micros == 30 * 60_000_000
    assert (parse_offset("+2d 08:05").days, parse_offset("+2d 08:05").at) == (2, time(8, 5))
    for bad in ("30m", "+1h 20:00", "+1d 24:00", "+1w"):
        with pytest.raises(ValueError):
            parse_offset(bad)
    assert to_cron("every weekday 08:00") == "0 8 * * 1-5"
    assert to_cron("every sunday 20:30") == "30 20 * * 0"
    assert to_cron("0 8 * * *") == "0 8 * * *"
    with pytest.raises(ValueError):
        to_cron("every fortnight 08:00")
    found = occurrences(
        "0 8 * * 1-5",
        ZoneInfo("Asia/Shanghai"),
        datetime(2026, 11, 6, tzinfo=UTC),  # a Friday
        datetime(2026, 11, 10, tzinfo=UTC),
    )
    assert [f.astimezone(UTC).isoformat() for f in found] == [
        "2026-11-09T00:00:00+00:00",  # Monday 08:00 in Shanghai; the weekend skipped
        "2026-11-10T00:00:00+00:00",  # the window's end is included: (start, end]
    ]
