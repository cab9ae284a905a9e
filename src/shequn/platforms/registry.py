"""The live platforms shequn can connect to: one line each (declare, don't branch).

Each entry names the adapter's class as ``module:Class``, imported only when used so
a workspace without that platform never needs its extra. The class is built as
``Class(config, data_folder)``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from shequn.config import PlatformConfig
from shequn.errors import WorkspaceError
from shequn.platforms.base import Adapter

ADAPTERS: dict[str, tuple[str, str]] = {
    # name: (module:Class, the extra that installs its library)
    "matrix": ("shequn.platforms.matrix.adapter:MatrixAdapter", "matrix"),
    "telegram": ("shequn.services.live_adapters:telegram", "telegram"),
    "qq": ("shequn.services.live_adapters:qq", "qq"),
}


# What each adapter can carry out, readable without connecting (its `capabilities`).
CAPABILITIES: dict[str, str] = {
    "matrix": "shequn.platforms.matrix.adapter:MatrixAdapter",
    "telegram": "shequn.platforms.telegram.adapter:TelegramAdapter",
    "qq": "shequn.platforms.onebot.adapter:OneBotAdapter",
}


def capabilities(name: str) -> frozenset[str] | None:
    """What the `name` adapter can do; None when unknown (no adapter, or its library is
    not installed: then nothing is refused for it)."""
    target = CAPABILITIES.get(name)
    if target is None:
        return None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return frozenset(str(c) for c in getattr(module, class_name).capabilities)


def build(name: str, config: PlatformConfig, data: Path) -> Adapter:
    """The adapter for `[platforms.NAME]`.

    Raises:
        WorkspaceError: an unknown platform, or its library is not installed.
    """
    if name not in ADAPTERS:
        raise WorkspaceError(
            f"shequn.toml: [platforms.{name}]: no live adapter for {name!r}",
            hint=f"use one of: {', '.join(sorted(ADAPTERS))}",
        )
    target, extra = ADAPTERS[name]
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise WorkspaceError(
            f"the {name} adapter cannot load: {exc}", hint=f"pip install 'shequn[{extra}]'"
        ) from None
    adapter: Adapter = getattr(module, class_name)(config, data)
    return adapter
