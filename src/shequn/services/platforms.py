"""Connecting a workspace to live platforms: `[platforms.NAME]` and community
bindings in shequn.toml, edited with tomlkit so the operator's comments survive.

Secrets are never written: the settings hold the *names* of the environment
variables that carry them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomlkit

from shequn.config import SETTINGS_FILE, PlatformConfig, load_settings
from shequn.errors import InputError, WorkspaceError
from shequn.platforms.registry import ADAPTERS

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _edit(root: Path, change: Any) -> None:
    """Apply `change` to shequn.toml's document; write only if the result validates."""
    path = root / SETTINGS_FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    change(document)
    text = tomlkit.dumps(document)
    backup = path.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    try:
        load_settings(root)
    except WorkspaceError:
        path.write_text(backup, encoding="utf-8")
        raise


def add_platform(root: Path, name: str, config: PlatformConfig) -> None:
    """Write `[platforms.NAME]` (replacing an earlier one).

    Raises:
        InputError: unknown platform, or a variable name that is no variable name.
    """
    if name not in ADAPTERS:
        raise InputError(
            f"no live adapter for {name!r}",
            field="platform",
            hint=f"use one of: {', '.join(sorted(ADAPTERS))}",
        )
    for option, value in (
        ("--token-env", config.token_env),
        ("--password-env", config.password_env),
        ("--secret-env", config.secret_env),
    ):
        if value and not _ENV_NAME.match(value):
            raise InputError(
                f"{value!r} is not an environment variable name",
                field=option,
                hint="give the variable's NAME (e.g. SHEQUN_MATRIX_TOKEN), never the secret",
            )
    if not (config.token_env or config.password_env):
        raise InputError(
            "no variable names the bot's secret",
            field="--token-env",
            hint="add --token-env NAME or --password-env NAME and export that variable",
        )
    _check_connection(name, config)
    values = config.model_dump(exclude_defaults=True)

    def change(document: Any) -> None:
        table = document.setdefault("platforms", tomlkit.table())
        table[name] = values

    _edit(root, change)


# Per platform: the modes it has, and what each mode needs besides the secret.
_MODES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "matrix": {"": (("url", "--homeserver URL"),)},
    "telegram": {
        "": (),
        "polling": (),
        "webhook": (("secret_env", "--secret-env NAME"), ("public_url", "--public-url URL")),
    },
    "qq": {
        "": (("url", "--url ws://HOST:PORT/"),),
        "forward": (("url", "--url ws://HOST:PORT/"),),
        "reverse": (("listen", "--listen HOST:PORT"),),
    },
}


def _check_connection(name: str, config: PlatformConfig) -> None:
    modes = _MODES.get(name, {"": ()})
    if config.mode not in modes:
        raise InputError(
            f"{name} has no mode {config.mode!r}",
            field="--mode",
            hint=f"use one of: {', '.join(m for m in modes if m)}",
        )
    for field_name, option in modes[config.mode]:
        if not getattr(config, field_name):
            raise InputError(
                f"{name} ({config.mode or 'default'} mode) needs {option.split()[0]}",
                field=option.split()[0],
                hint=f"add {option}",
            )


def bind(root: Path, community: str, platform: str, group: str) -> None:
    """Bind `community` to `group` on `platform` (its events come from there, its
    messages go there).

    Raises:
        InputError: the community is not in shequn.toml, the platform is not added,
            or the group is bound to another community already.
    """
    settings = load_settings(root)
    if settings.community(community) is None:
        raise InputError(
            f"no community {community!r} in {SETTINGS_FILE}",
            field="COMMUNITY",
            hint=f"add a [[communities]] block with key = {community!r} first",
        )
    if platform not in settings.platforms:
        raise InputError(
            f"platform {platform!r} is not added",
            field="PLATFORM",
            hint=f"run `shequn platforms add {platform} ...` first",
        )
    other = settings.bound(platform, group)
    if other not in (None, community):
        raise InputError(
            f"{platform} group {group} is bound to {other!r} already",
            field="GROUP_ID",
            hint="one group feeds one community; unbind the other first",
        )

    def change(document: Any) -> None:
        for block in document["communities"]:
            if block["key"] == community:
                block["platform"] = platform
                block["group"] = group

    _edit(root, change)
