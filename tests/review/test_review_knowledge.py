"""The knowledge base: built-in YAML, bilingual entries, playbooks, user extension, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shequn.errors import InputError
from shequn.review.knowledge import (
    BUILTIN,
    PLAYBOOKS,
    STAGES,
    actions_for,
    load_knowledge,
    workspace_knowledge,
)


def test_builtin_loads_bilingual_with_known_playbooks() -> None:
    actions = load_knowledge()
    assert len(actions) == 15
    for a in actions:
        assert a.playbook in PLAYBOOKS
        assert a.stage in STAGES
        for lang in ("zh_CN", "en"):
            assert a.title[lang].strip() and a.detail[lang].strip()
    # every funnel stage the review can name has at least one action
    assert {a.stage for a in actions} == set(STAGES)
    assert {a.id for a in actions_for(actions, ["activity"])} == {
        "activity-topic-discussion",
        "activity-checkin",
        "activity-games",
        "activity-kol-sharing",
    }


def test_user_file_extends_overrides_and_disables(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    (folder / "ours.yaml").write_text(
        """
actions:
  - id: activity-checkin
    stage: activity
    playbook: daily-routine
    title: {zh_CN: 早安打卡, en: Morning check-in}
    detail: {zh_CN: 每天 7 点打卡。, en: Check in at 7 every morning.}
  - id: activity-games
    disabled: true
  - id: referral-alumni
    stage: referral
    playbook: referral-campaign
    title: {zh_CN: 老学员推荐, en: Alumni referrals}
    detail: {zh_CN: 结营学员推荐新学员得奖励。, en: Graduates earn a reward per referral.}
""",
        encoding="utf-8",
    )
    actions = {a.id: a for a in workspace_knowledge(tmp_path)}
    assert len(actions) == 15  # one replaced, one removed, one added
    assert actions["activity-checkin"].title["en"] == "Morning check-in"
    assert (
        actions["activity-checkin"].source == f"{folder / 'ours.yaml'}:3"
    )  # the file opens with a blank line
    assert "activity-games" not in actions
    assert actions["referral-alumni"].playbook == "referral-campaign"


def test_workspace_without_knowledge_folder_is_builtin(tmp_path: Path) -> None:
    assert [a.id for a in workspace_knowledge(tmp_path)] == [a.id for a in load_knowledge()]


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("actions:\n  - id: x\n    title: [unclosed\n    stage: activity\n")
    with pytest.raises(InputError) as caught:
        load_knowledge([bad])
    assert caught.value.path == str(bad)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{bad}:4: invalid YAML")


def test_entry_errors_name_file_and_line(tmp_path: Path) -> None:
    cases = {
        "stage: activity\n    playbook: morning-tea\n": "playbook must be one of",
        "stage: activity\n    playbook: daily-routine\n    title: {en: Only English}\n"
        "    detail: {en: x, zh_CN: y}\n": "`title` needs text for zh_CN and en",
        "stage: nowhere\n": "stage must be one of",
        "stage: activity\n    colour: red\n": "unknown field(s) ['colour']",
    }
    for i, (body, message) in enumerate(cases.items()):
        path = tmp_path / f"case{i}.yaml"
        path.write_text(f"actions:\n  - id: ok\n    disabled: true\n  - id: x{i}\n    {body}")
        with pytest.raises(InputError, match=re.escape(message)) as caught:
            load_knowledge([path])
        assert (caught.value.path, caught.value.line) == (str(path), 4)


def test_file_without_actions_list(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("version: 1\n")
    with pytest.raises(InputError, match="expected a mapping with a list under `actions`"):
        load_knowledge([path])


def test_builtin_is_packaged_as_yaml() -> None:
    assert BUILTIN.suffix == ".yaml" and BUILTIN.is_file()
