"""The bot table in shequn.toml: validated with file:line, templates, word files."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.bot.setup import load
from shequn.config import load_settings
from shequn.errors import InputError, WorkspaceError
from tests.bot.conftest import SETTINGS, make_workspace


def test_a_bad_duration_names_its_line(tmp_path: Path) -> None:
    text = SETTINGS.replace('flood_window = "10s"', 'flood_window = "ten seconds"')
    root = make_workspace(tmp_path, text)
    line = text.splitlines().index('flood_window = "ten seconds"') + 1
    with pytest.raises(WorkspaceError) as caught:
        load_settings(root)
    message = str(caught.value)
    assert message.startswith(
        f"{root / 'shequn.toml'}:{line}: communities.0.bot.moderation.flood_window"
    )
    assert "write e.g. 30s, 10m, 2h or 1d" in message


def test_a_mute_step_without_duration_is_refused(tmp_path: Path) -> None:
    text = SETTINGS.replace('{action = "mute", duration = "10m"}', '{action = "mute"}')
    root = make_workspace(tmp_path, text)
    with pytest.raises(WorkspaceError, match="a mute step needs a duration"):
        load_settings(root)


def test_a_template_bot_applies_unless_the_community_has_its_own(tmp_path: Path) -> None:
    text = """
[bot_templates.course]
rules = "template rules"

[[communities]]
key = "a"
template = "course"

[[communities]]
key = "b"
template = "course"
[communities.bot]
rules = "own rules"

[[communities]]
key = "c"
"""
    root = make_workspace(tmp_path, text)
    setups = load(root, load_settings(root))
    assert {k: s.config.rules for k, s in setups.items()} == {
        "a": "template rules",
        "b": "own rules",
    }


def test_a_welcome_that_does_not_render_is_refused_at_load(tmp_path: Path) -> None:
    text = SETTINGS.replace("{{ member.name }} to", "{{ member.nickname.first }} to")
    root = make_workspace(tmp_path, text)
    with pytest.raises(InputError, match=r"communities\.tea\.bot\.welcome"):
        load(root, load_settings(root))


def test_banned_words_come_from_files_too(tmp_path: Path) -> None:
    text = SETTINGS.replace(
        'banned_words = ["casino|赌场", "赌博|堵博", "scam"]', 'banned_word_files = ["words.txt"]'
    )
    root = make_workspace(tmp_path, text)
    (root / "words.txt").write_text("# ads\n代开发票|代开票\nviagra\n", "utf-8")
    setup = load(root, load_settings(root))["tea"]
    assert setup.words.find("专业代开票") == "代开发票"
    (root / "words.txt").unlink()
    with pytest.raises(InputError, match=r"words\.txt cannot be read"):
        load(root, load_settings(root))


def test_a_part_can_be_turned_off(tmp_path: Path) -> None:
    text = SETTINGS.replace('[communities.bot.faq]\ncooldown = "10m"\n', "")
    text = text.replace('trusted = ["matrix:@friend:localhost"]', "trusted = []\nfaq = false")
    root = make_workspace(tmp_path, text)
    setup = load(root, load_settings(root))["tea"]
    assert setup.config.faq is None and setup.faq is None


def test_every_bot_setting_is_documented() -> None:
    from shequn.domain import bot as config

    text = (Path(__file__).parents[2] / "docs" / "bot.md").read_text(encoding="utf-8")
    models = (
        config.BotConfig,
        config.Welcome,
        config.Raid,
        config.Entry,
        config.Faq,
        config.Moderation,
        config.Points,
        config.Step,
    )
    missing = [
        f"{m.__name__}.{name}" for m in models for name in m.model_fields if f"`{name}`" not in text
    ]
    assert missing == []
