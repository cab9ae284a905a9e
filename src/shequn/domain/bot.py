"""The bot's settings: a `bot` table per community or per template in shequn.toml.

```toml
[bot_templates.course]          # every community with template = "course"
rules = "1. 不发广告 2. 友善交流"

[[communities]]
key = "tea-shop"
[communities.bot]               # this community only: replaces its template's table
welcome.text = "欢迎 {{ member.name }}！"
```

A community's own `bot` table replaces its template's one as a whole (no merging, so
what runs is what one table says). Without either, the bot does nothing there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

LadderAction = Literal["warn", "mute", "remove", "ban"]
_DURATION = re.compile(r"^(\d+)\s*(s|m|min|h|d)$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def seconds_of(value: str | int) -> int:
    """ "10m" → 600; an int is already seconds.

    Raises:
        ValueError: not a duration.
    """
    if isinstance(value, int):
        return value
    m = _DURATION.match(value.strip().lower())
    if not m:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 10m, 2h or 1d")
    return int(m[1]) * _UNITS[m[2]]


# Platform roles (the adapter's `meta.role`) that may use operator commands.
ADMIN_ROLES = ("admin", "moderator", "owner")
Duration = Annotated[int, BeforeValidator(seconds_of), Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Welcome(_Model):
    """The greeting of a new member: text (a sandboxed template) or a content item."""

    text: str = ""
    content: str = ""  # a content/ item, instead of text
    private: bool = False  # greet in a private message instead of the group

    @model_validator(mode="after")
    def _one(self) -> Welcome:
        if self.text and self.content:
            raise ValueError("a welcome has text or content, not both; keep one")
        return self


class Raid(_Model):
    """Raid mode: above `joins_per_minute`, one aggregated welcome after it calms."""

    joins_per_minute: int = Field(default=10, ge=1)
    calm_seconds: int = Field(default=60, ge=10)


class Entry(_Model):
    """The entry threshold (入群门槛) for platforms with join requests."""

    question: str
    answers: list[str] = Field(min_length=1)  # accepted answers, compared normalised
    timeout: Duration = 300  # seconds to answer
    trusted_links: list[str] = Field(default_factory=list)  # invite links that skip it


class Faq(_Model):
    """FAQ auto-reply over the workspace's faq/*.yaml."""

    threshold: float = Field(default=0.3, ge=0, le=1)  # docs/bot.md: P 0.95, R 0.65
    cooldown: Duration = 600  # seconds between two answers of one entry in one group
    tags: list[str] = Field(default_factory=list)  # only entries with one of these (empty: all)
    owner: str = ""  # the operator who gets low-confidence questions ("" : none)
    min_chars: int = Field(default=4, ge=1)


class Step(_Model):
    """One rung of the warning ladder."""

    action: LadderAction
    duration: Duration = 0  # seconds, for mute

    @model_validator(mode="after")
    def _mute_has_duration(self) -> Step:
        if (self.action == "mute") != (self.duration > 0):
            raise ValueError(
                'a mute step needs a duration (and only a mute); e.g. duration = "10m"'
            )
        return self


DEFAULT_LADDER = (
    Step(action="warn"),
    Step(action="mute", duration=600),
    Step(action="mute", duration=86400),
    Step(action="remove"),
    Step(action="ban"),
)


class Moderation(_Model):
    """Rules, the ladder declared as data, and how long a warning counts."""

    banned_words: list[str] = Field(default_factory=list)  # "word|variant|variant"
    banned_word_files: list[str] = Field(default_factory=list)  # workspace-relative
    allowed_domains: list[str] | None = None  # None: any link; []: no link at all
    invite_links: bool = False  # allow other groups' invite links
    contacts: bool = False  # allow phone numbers, WeChat and QQ ids
    repeat_groups: int = Field(default=3, ge=2)  # same text in this many groups → ad
    repeat_window: Duration = 600
    flood_messages: int = Field(default=8, ge=2)  # more than this many in the window
    flood_window: Duration = 10
    new_member_hours: float = Field(default=24, ge=0)  # no links in a member's first hours
    delete: bool = True
    ladder: list[Step] = Field(default_factory=lambda: list(DEFAULT_LADDER), min_length=1)
    expire: Duration = 30 * 86400  # a warning stops counting after this long
    exempt_roles: list[str] = Field(default_factory=lambda: list(ADMIN_ROLES))


class Points(_Model):
    """Points per deed, the message cooldown, and the weekly leaderboard."""

    checkin: int = 5
    streak_bonus: int = 1  # extra per consecutive day, up to streak_cap days
    streak_cap: int = 7
    message: int = 1
    message_cooldown: Duration = 300
    reply_received: int = 2
    attendance: int = 10
    leaderboard_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday, local time
    leaderboard_hour: int = Field(default=10, ge=0, le=23)
    leaderboard_size: int = Field(default=10, ge=1, le=50)


class BotConfig(_Model):
    """One community's bot."""

    enabled: bool = True
    dry_run: bool = False  # moderation records what it would do and does nothing
    language: Literal["zh_CN", "en"] = "zh_CN"
    rules: str = ""  # the rules summary (群规), for /rules and the welcome
    operators: list[str] = Field(default_factory=list)  # member keys with operator commands
    trusted: list[str] = Field(default_factory=list)  # member keys exempt from moderation
    welcome: Welcome | None = Field(default_factory=Welcome)
    raid: Raid = Field(default_factory=Raid)
    entry: Entry | None = None
    faq: Faq | None = Field(default_factory=Faq)
    moderation: Moderation | None = Field(default_factory=Moderation)
    points: Points | None = Field(default_factory=Points)

    @model_validator(mode="before")
    @classmethod
    def _off(cls, data: Any) -> Any:
        """`faq = false` (welcome, faq, moderation, points) turns that part off."""
        if isinstance(data, dict):
            return {k: (None if v is False and k in _PARTS else v) for k, v in data.items()}
        return data


_PARTS = ("welcome", "entry", "faq", "moderation", "points")
