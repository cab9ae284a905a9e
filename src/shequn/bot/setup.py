"""Each community's bot, compiled from the workspace: word lists, the FAQ index, texts.

`load` is what the live runner and `shequn faq test` / `shequn moderation check` use,
so what is tried before going live is what runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from shequn.activities.loader import scan as scan_activities
from shequn.activities.model import Activity
from shequn.bot import faq
from shequn.bot.moderation import WordList, read_words
from shequn.bot.texts import say
from shequn.config import Community, Settings
from shequn.domain.bot import BotConfig
from shequn.errors import InputError
from shequn.sop.content import FOLDER as CONTENT
from shequn.sop.content import ContentError, read_item
from shequn.sop.render import RenderError, render


@dataclass(frozen=True)
class Setup:
    """One community's bot, ready to decide."""

    community: str
    name: str
    config: BotConfig
    words: WordList
    faq: faq.Index | None
    welcome: str  # a sandboxed template: member, channel, rules, community
    operators: frozenset[str]  # member keys allowed operator commands
    owner: str  # the operator who gets the bot's tasks
    zone: ZoneInfo
    tier_at: Callable[[int], str | None]
    me: frozenset[str] = frozenset()  # the bot's own member keys: never answered
    activities: tuple[Activity, ...] = ()  # the community's (activities/), for /signup

    @property
    def language(self) -> str:
        return self.config.language


def _where(community: Community) -> str:
    return f"communities.{community.key}.bot"


def _welcome(root: Path, community: Community, config: BotConfig) -> str:
    welcome = config.welcome
    if welcome is None:
        return ""
    text = welcome.text
    if welcome.content:
        try:
            text = read_item(root / CONTENT, welcome.content).body
        except ContentError as exc:
            raise InputError(
                str(exc),
                field=f"{_where(community)}.welcome.content",
                hint="create it or fix the name",
            ) from None
    text = text or say("welcome", config.language, name="{{ member.name }}", rules="{{ rules }}")
    try:
        render(text, welcome_values("{{ x }}", "", config.rules, community.name or community.key))
    except RenderError as exc:
        raise InputError(
            f"the welcome does not render: {exc}",
            field=f"{_where(community)}.welcome",
            hint="use only member.name, member.key, channel, rules and community.name",
        ) from None
    return text


def welcome_values(name: str, channel: str, rules: str, community: str) -> dict[str, object]:
    """The variables a welcome template sees (member text is data, never a template)."""
    return {
        "member": {"name": name, "key": ""},
        "channel": channel,
        "rules": rules,
        "community": {"name": community},
    }


def load(
    root: Path, settings: Settings, *, me: Iterable[str] = (), only: str = ""
) -> dict[str, Setup]:
    """The bot of every community that has one (or only `only`), by community key.

    Raises:
        InputError: a FAQ file, word file, content item or welcome is broken.
    """
    chosen = [c for c in settings.communities if not only or c.key == only]
    configs = {c.key: (c, b) for c in chosen if (b := settings.bot_of(c)) and b.enabled}
    entries = faq.load(root / faq.FOLDER) if (root / faq.FOLDER).is_dir() else []
    index = faq.Index(entries) if entries else None
    contacts = frozenset(o.contact for o in settings.operators if ":" in o.contact)
    owner = settings.operators[0].name if settings.operators else "operator"
    lists: dict[tuple[str, ...], WordList] = {}
    # Invalid activity files are reported by `shequn activities list` and the engine.
    activities, _problems = scan_activities(root)
    out = {}
    for key, (community, config) in configs.items():
        rules = config.moderation
        words = tuple(read_words(root, rules, f"{_where(community)}.moderation") if rules else ())
        if words not in lists:
            lists[words] = WordList(words)
        out[key] = Setup(
            community=key,
            name=community.name or key,
            config=config,
            words=lists[words],
            faq=index if config.faq else None,
            welcome=_welcome(root, community, config),
            operators=contacts | frozenset(config.operators),
            owner=(config.faq.owner if config.faq and config.faq.owner else owner),
            zone=settings.zone,
            tier_at=settings.tier_at,
            me=frozenset(me),
            activities=tuple(a for a in activities if a.community == key),
        )
    return out
