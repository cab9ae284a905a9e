"""Workspace settings: `shequn.toml`, validated.

Secrets never live in the file: a database password comes from the environment
(`SHEQUN_DATABASE_URL`, or the variable named by `database_url_env`).
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from shequn.domain.bot import BotConfig
from shequn.domain.metrics import goal_metrics
from shequn.errors import InputError, WorkspaceError
from shequn.periods import horizon_days, parse_period
from shequn.redact import credentials, parse, redact
from shequn.toml_lines import line_of

SETTINGS_FILE = "shequn.toml"
DATABASE_ENV = "SHEQUN_DATABASE_URL"


GOAL_ID = r"^[a-z0-9][a-z0-9_-]*$"
GOAL_PERIOD_HINT = (
    "write week, month, a month (2026-10), an ISO week (2026-W43), or dates as "
    'from = 2026-10-01 and to = 2026-10-15 (to exclusive); a horizon goes in horizon = "day 30"'
)


class Goal(BaseModel):
    """One goal: a metric, a scope, a period or horizon, a target and a direction.

    Written under a community in shequn.toml or in `goals/*.yaml`; `shequn.goals.gather`
    gathers them and checks what needs every goal at once (ids, `serves`, scopes).
    `period = "day 30"` (the older spelling of a horizon) is read as `horizon = 30`.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, pattern=GOAL_ID)
    text: str = ""
    metric: str | None = None
    scope: str | None = Field(default=None, description="a community key, template:NAME or *")
    period: str | None = Field(default=None, description="week, month, 2026-10 or 2026-W43")
    from_: date | None = Field(default=None, alias="from")
    to: date | None = Field(default=None, description="exclusive")
    horizon: int | None = Field(default=None, ge=1, description="days after creation")
    target: float | None = None
    direction: Literal["at_least", "at_most"] = "at_least"
    serves: str | None = Field(default=None, pattern=GOAL_ID)

    @model_validator(mode="before")
    @classmethod
    def _horizon_spellings(cls, data: Any) -> Any:
        """Read `period = "day 30"` and `horizon = "day 30"` as horizon 30."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        period = data.get("period")
        if isinstance(period, str) and horizon_days(period, bare=False) is not None:
            if data.get("horizon") is not None:
                raise ValueError("a goal has either a period or a horizon, not both; remove period")
            data["horizon"] = period
            data.pop("period")
        horizon = data.get("horizon")
        if isinstance(horizon, str):
            days = horizon_days(horizon)
            if days is None:
                raise ValueError(
                    f'horizon {horizon!r} is not a number of days; write horizon = "day 30"'
                )
            data["horizon"] = days
        return data

    @field_validator("period")
    @classmethod
    def _known_period(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in ("week", "month"):
            return value.strip().lower() if value else value
        try:
            parse_period(value)
        except InputError:
            raise ValueError(f"{value!r} is not a goal period; {GOAL_PERIOD_HINT}") from None
        return value.strip()

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in goal_metrics():
            raise ValueError(f"unknown metric {value!r}; use one of {', '.join(goal_metrics())}")
        return value

    @model_validator(mode="after")
    def _one_window(self) -> Goal:
        if (self.from_ is None) != (self.to is None):
            raise ValueError("dates need both from and to (to is exclusive); add the other one")
        if self.from_ is not None and self.to is not None and self.to <= self.from_:
            raise ValueError("to must be after from (to is exclusive); swap or fix the dates")
        given = [
            name
            for name, value in (("period", self.period), ("from/to", self.from_),
                                ("horizon", self.horizon))
            if value is not None
        ]  # fmt: skip
        if len(given) > 1:
            raise ValueError(
                f"a goal has one of period, from/to or horizon, not {' and '.join(given)}; keep one"
            )
        if not self.text and self.metric is None:
            raise ValueError('a goal needs text or a metric; add text = "..."')
        return self

    @property
    def label(self) -> str:
        """What reports call the goal: its text, else its metric and target."""
        if self.text:
            return self.text
        sign = "≥" if self.direction == "at_least" else "≤"
        return (
            f"{self.metric} {sign} {self.target:g}" if self.target is not None else str(self.metric)
        )


class Community(BaseModel):
    """One community (group) and what it is for (社群定位)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    name: str = ""
    platform: str = ""
    group: str = ""  # the platform's group id a live adapter serves (`communities bind`)
    template: str = ""
    created: date | None = None  # the day 0 of horizon goals (default: the first event)
    positioning: str = ""
    target_users: str = ""
    channels: list[str] = Field(default_factory=list)
    long_term_goals: list[Goal] = Field(default_factory=list)
    short_term_goals: list[Goal] = Field(default_factory=list)
    bot: BotConfig | None = None  # docs/bot.md; replaces the template's bot table


class Operator(BaseModel):
    """A person who runs communities: owner of SOP steps and tasks, and who is alerted.

    `contact` says where alerts reach them (a member key such as `wecom:zhangsan`, or
    `console`); `escalate_to` names the operator alerted when their tasks are overdue.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    roles: list[str] = Field(default_factory=list)
    contact: str = "console"
    escalate_to: str = ""


class PlatformConfig(BaseModel):
    """A live platform the workspace connects to (`shequn platforms add`).

    Secrets are never written here: `token_env` / `password_env` name the environment
    variables that hold them.
    """

    model_config = ConfigDict(extra="forbid")

    url: str = ""  # Matrix homeserver, Bot API base, OneBot WebSocket
    user: str = ""  # the bot's own user id, where the platform needs one to log in
    token_env: str = ""
    password_env: str = ""
    device_name: str = "shequn"
    # How updates arrive: Telegram "polling" (default) or "webhook"; OneBot "forward"
    # (default: shequn connects to `url`) or "reverse" (the implementation connects).
    mode: Literal["", "polling", "webhook", "forward", "reverse"] = ""
    listen: str = ""  # host:port shequn serves on (Telegram webhook, OneBot reverse)
    public_url: str = ""  # the https URL Telegram posts the webhook to
    secret_env: str = ""  # the variable holding the Telegram webhook's secret token


class Tier(BaseModel):
    """A member tier (会员等级): reached when every minimum below is met.

    A tier with only `min_points` is the points ladder of the SOP engine (`add_points`
    records `tier_changed` when it is crossed). The other minimums are read from the
    member profile (shequn.members): counted over the last `window_days` days when it
    is set (Discourse-style), over all time otherwise. Promotion is at once; a member
    who no longer meets their tier keeps it until they have also failed it
    `grace_days` earlier (docs/members.md).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    min_points: int = Field(default=0, ge=0)
    min_orders: int = Field(default=0, ge=0)
    min_gmv: float = Field(default=0, ge=0)
    min_days_active: int = Field(default=0, ge=0)
    min_tenure_days: int = Field(default=0, ge=0)
    window_days: int | None = Field(default=None, gt=0)
    grace_days: int = Field(default=0, ge=0)
    benefits: list[str] = Field(default_factory=list)

    @property
    def points_only(self) -> bool:
        """Whether points alone decide this tier (the SOP engine's ladder)."""
        return not (self.min_orders or self.min_gmv or self.min_days_active or self.min_tenure_days)


class MemberStates(BaseModel):
    """When a member is new, silent, at risk, churned or returned (docs/members.md)."""

    model_config = ConfigDict(extra="forbid")

    new_days: int = Field(default=14, gt=0)
    silent_days: int = Field(default=14, gt=0)
    at_risk_days: int = Field(default=30, gt=0)
    churned_days: int = Field(default=60, gt=0)
    returned_days: int = Field(default=30, gt=0)
    churn_horizon_days: int = Field(default=30, gt=0)
    churn_risk_bands: list[float] = Field(default_factory=lambda: [0.5, 0.7, 0.9])
    churn_refit_days: int = Field(default=7, gt=0)

    @model_validator(mode="after")
    def _in_order(self) -> MemberStates:
        if not self.silent_days < self.at_risk_days < self.churned_days:
            raise ValueError("silent_days < at_risk_days < churned_days must hold")
        bands = self.churn_risk_bands
        if bands != sorted(set(bands)) or any(not 0 < b < 1 for b in bands):
            raise ValueError("churn_risk_bands must rise, each between 0 and 1")
        return self


class ConsoleSettings(BaseModel):
    """`[console]`: the web console (`shequn serve`)."""

    model_config = ConfigDict(extra="forbid")

    # An upload is written to data/uploads before it is imported; larger files go
    # through `shequn import`, which reads them where they lie.
    upload_limit_mb: int = Field(default=512, gt=0)


class Settings(BaseModel):
    """Everything in shequn.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str = "shequn workspace"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    language: Literal["zh_CN", "en"] = "zh_CN"
    database_url: str = ""
    database_url_env: str = ""
    communities: list[Community] = Field(default_factory=list)
    operators: list[Operator] = Field(default_factory=list)
    tiers: list[Tier] = Field(default_factory=list)
    member_states: MemberStates = Field(default_factory=MemberStates)
    bot_templates: dict[str, BotConfig] = Field(default_factory=dict)  # by template name
    platforms: dict[str, PlatformConfig] = Field(default_factory=dict)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @field_validator("tiers")
    @classmethod
    def _tiers_in_order(cls, value: list[Tier]) -> list[Tier]:
        ladder = [t.min_points for t in value if t.points_only]
        if ladder != sorted(set(ladder)):
            raise ValueError("tiers must be listed by min_points, lowest first, each different")
        if len({t.name for t in value}) != len(value):
            raise ValueError("tier names must be different")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        if not value:
            return value
        url = parse(value)
        if url is None:
            raise ValueError(f"{redact(value)} is not a database URL")
        found = credentials(url)
        if found:
            raise ValueError(
                f"a credential ({', '.join(found)}) must not be written in {SETTINGS_FILE}; "
                f"remove it and set {DATABASE_ENV}=postgresql://user:PASSWORD@host/db "
                "in the environment (or name another variable with database_url_env)"
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def community(self, key: str) -> Community | None:
        return next((c for c in self.communities if c.key == key), None)

    def bound(self, platform: str, group: str) -> str | None:
        """The key of the community bound to `group` on `platform`, if any."""
        return next(
            (c.key for c in self.communities if c.platform == platform and c.group == group), None
        )

    def operator(self, name: str) -> Operator | None:
        return next((o for o in self.operators if o.name == name), None)

    def bot_of(self, community: Community) -> BotConfig | None:
        """The community's bot: its own `bot` table, else its template's, else none."""
        return community.bot or self.bot_templates.get(community.template)

    def tier_at(self, points: int) -> str | None:
        """The highest points-only tier reached with `points`, or None below the first.

        Tiers with other minimums are decided over profiles by shequn.members.tiers."""
        reached = [t.name for t in self.tiers if t.points_only and points >= t.min_points]
        return reached[-1] if reached else None


def load_settings(root: Path) -> Settings:
    """Read and validate <root>/shequn.toml, naming the field of any error."""
    path = root / SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkspaceError(
            f"{root} is not a shequn workspace (no {SETTINGS_FILE})",
            hint=f"create one with `shequn init {root}`, or pass --workspace DIR",
        ) from None
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8", hint="save the file as UTF-8") from None
    return parse_settings(text, path)


def parse_settings(text: str, path: Path) -> Settings:
    """Validate the text of a settings file; errors name `path` and the field or line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: {exc}", hint="fix the TOML syntax at that line") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        line = line_of(path.read_text(encoding="utf-8"), first["loc"])
        raise WorkspaceError(
            f"{path}{f':{line}' if line else ''}: {where}: {first['msg']}",
            hint="see `shequn init --help` for a complete example of the settings",
        ) from None


def database_url(root: Path, settings: Settings) -> str:
    """The database to use: the environment first, then the file, then SQLite in data/."""
    if settings.database_url_env:
        value = os.environ.get(settings.database_url_env, "")
        if not value:
            raise WorkspaceError(
                f"{SETTINGS_FILE} says the database URL is in ${settings.database_url_env}, "
                "which is not set",
                hint=f"export {settings.database_url_env}=postgresql://user:password@host/db",
            )
        return value
    return (
        os.environ.get(DATABASE_ENV)
        or settings.database_url
        or (f"sqlite:///{(root / 'data' / 'shequn.db').resolve()}")
    )
