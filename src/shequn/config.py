"""Workspace settings: `shequn.toml`, validated.

Secrets never live in the file: a database password comes from the environment
(`SHEQUN_DATABASE_URL`, or the variable named by `database_url_env`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shequn.errors import WorkspaceError

SETTINGS_FILE = "shequn.toml"
DATABASE_ENV = "SHEQUN_DATABASE_URL"


class Goal(BaseModel):
    """A goal in words, optionally tied to a metric of docs/metrics.md."""

    model_config = ConfigDict(extra="forbid")

    text: str
    metric: str | None = None
    target: float | None = None
    direction: Literal["at_least", "at_most"] = "at_least"
    period: str | None = Field(default=None, description="e.g. 'month', '2026-10', 'day 30'")


class Community(BaseModel):
    """One community (group) and what it is for (社群定位)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1)
    name: str = ""
    platform: str = ""
    template: str = ""
    positioning: str = ""
    target_users: str = ""
    channels: list[str] = Field(default_factory=list)
    long_term_goals: list[Goal] = Field(default_factory=list)
    short_term_goals: list[Goal] = Field(default_factory=list)


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


class Tier(BaseModel):
    """A member tier (会员等级) reached at a number of points."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    min_points: int = Field(ge=0)


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

    @field_validator("tiers")
    @classmethod
    def _tiers_in_order(cls, value: list[Tier]) -> list[Tier]:
        points = [t.min_points for t in value]
        if points != sorted(set(points)):
            raise ValueError("tiers must be listed by min_points, lowest first, each different")
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
    def _no_password(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"{value!r} is not a database URL") from None
        if url.password:
            raise ValueError(
                f"the database password must not be written in {SETTINGS_FILE}; "
                f"set {DATABASE_ENV} in the environment instead"
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def community(self, key: str) -> Community | None:
        return next((c for c in self.communities if c.key == key), None)

    def operator(self, name: str) -> Operator | None:
        return next((o for o in self.operators if o.name == name), None)

    def tier_at(self, points: int) -> str | None:
        """The name of the highest tier reached with `points`, or None below the first."""
        reached = [t.name for t in self.tiers if points >= t.min_points]
        return reached[-1] if reached else None


def load_settings(root: Path) -> Settings:
    """Read and validate <root>/shequn.toml, naming the field of any error."""
    path = root / SETTINGS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(
            f"{root} is not a shequn workspace (no {SETTINGS_FILE})",
            hint=f"create one with `shequn init {root}`, or pass --workspace DIR",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: {exc}", hint="fix the TOML syntax at that line") from None
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8", hint="save the file as UTF-8") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WorkspaceError(
            f"{path}: {where}: {first['msg']}",
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
