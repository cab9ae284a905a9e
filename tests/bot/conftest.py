"""A workspace with a bot: settings, the test FAQ library, compiled setups."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shequn.bot.setup import Setup, load
from shequn.config import Settings, load_settings
from shequn.domain.events import Event

DATA = Path(__file__).parent.parent / "data" / "faq"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday, 17:00 in Shanghai

SETTINGS = """
name = "bot test"
timezone = "Asia/Shanghai"

[[operators]]
name = "lin"
contact = "matrix:@lin:localhost"

[[tiers]]
name = "bronze"
min_points = 0

[[tiers]]
name = "silver"
min_points = 20

[[communities]]
key = "tea"
name = "Tea club"

[communities.bot]
rules = "No ads. Be kind."
trusted = ["matrix:@friend:localhost"]

[communities.bot.welcome]
text = "Welcome {{ member.name }} to {{ community.name }}! {{ rules }}"

[communities.bot.raid]
joins_per_minute = 10
calm_seconds = 60

[communities.bot.entry]
question = "What do we drink here?"
answers = ["tea", "茶"]
timeout = "5m"

[communities.bot.faq]
cooldown = "10m"

[communities.bot.moderation]
banned_words = ["casino|赌场", "赌博|堵博", "scam"]
allowed_domains = ["example.org"]
flood_messages = 5
flood_window = "10s"
new_member_hours = 0
ladder = [
  {action = "warn"},
  {action = "mute", duration = "10m"},
  {action = "mute", duration = "1d"},
  {action = "remove"},
  {action = "ban"},
]

[communities.bot.points]
checkin = 5
streak_bonus = 1
message = 1
message_cooldown = "5m"
reply_received = 2
"""


def make_workspace(root: Path, settings: str = SETTINGS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shequn.toml").write_text(settings, encoding="utf-8")
    (root / "faq").mkdir(exist_ok=True)
    shutil.copy(DATA / "library.yaml", root / "faq" / "library.yaml")
    return root


@pytest.fixture(scope="session")
def bot_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("botws"))


@pytest.fixture(scope="session")
def settings(bot_root: Path) -> Settings:
    return load_settings(bot_root)


@pytest.fixture(scope="session")
def setup(bot_root: Path, settings: Settings) -> Setup:
    return load(bot_root, settings, me={"matrix:@bot:localhost"})["tea"]


_seq = iter(range(1, 10**9))


def message(member: str, text: str, community: str = "tea", **fields: object) -> Event:
    n = next(_seq)
    return Event(
        ts=T0,
        community=community,
        type="message",
        member=member,
        text=text,
        message_id=f"$m{n}",
        source_id=f"$m{n}",
        **fields,  # type: ignore[arg-type]
    )


def join(member: str, **fields: object) -> Event:
    n = next(_seq)
    return Event(ts=T0, community="tea", type="join", member=member, source_id=f"$j{n}", **fields)  # type: ignore[arg-type]
