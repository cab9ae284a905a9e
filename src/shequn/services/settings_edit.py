"""Editing a community's settings in shequn.toml without losing comments or unknown keys.

The file is edited with tomlkit (format-preserving), the new text is validated exactly
as `load_settings` validates it (same file and field in the error) together with every
goal of the workspace, and only a valid file replaces the old one (atomically).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from shequn.clock import Clock, SystemClock
from shequn.config import SETTINGS_FILE, Settings, parse_settings
from shequn.errors import InputError
from shequn.services import audit
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace

TEXT_FIELDS = ("name", "positioning", "target_users")


def edit_community(
    ws: Workspace,
    key: str,
    fields: Mapping[str, str],
    targets: Mapping[tuple[str, int], float],
    clock: Clock | None = None,
) -> Settings:
    """Change a community's text fields and goal targets; the new settings.

    Args:
        fields: name, positioning and/or target_users.
        targets: {("long_term_goals" | "short_term_goals", index): target}.

    Raises:
        InputError: an unknown community, field or goal.
        WorkspaceError: the edited file would not be valid (nothing is written).
    """
    import tomlkit

    clock = clock or SystemClock()
    path = ws.root / SETTINGS_FILE
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = _community(document, key)
    changed: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in TEXT_FIELDS:
            raise InputError(
                f"{name!r} cannot be edited here",
                field=name,
                hint=f"edit {', '.join(TEXT_FIELDS)} or goal targets",
            )
        if table.get(name, "") != value:
            table[name] = value
            changed[name] = value
    for (level, index), target in targets.items():
        goals = table.get(level, [])
        if level not in ("long_term_goals", "short_term_goals") or index >= len(goals):
            raise InputError(
                f"no goal {level}[{index}] in {key}", field="target", hint="reload the page"
            )
        if goals[index].get("target") != target:
            goals[index]["target"] = target
            changed[f"{level}[{index}].target"] = target
    text = tomlkit.dumps(document)
    settings = _validated(ws, text)
    if changed:
        temporary = path.with_name(f".{SETTINGS_FILE}.edit")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        with write_transaction(ws.engine) as conn:
            audit.record(conn, clock, "settings.community", community=key, changed=changed)
        ws.settings = settings
    return settings


def _community(document: Any, key: str) -> Any:
    for table in document.get("communities", []):
        if table.get("key") == key:
            return table
    raise InputError(
        f"no community {key!r} in {SETTINGS_FILE}",
        field="key",
        hint="add it to shequn.toml under [[communities]] first",
    )


def _validated(ws: Workspace, text: str) -> Settings:
    from shequn.goals.evaluate import goal_specs
    from shequn.goals.gather import workspace_goals

    settings = parse_settings(text, ws.root / SETTINGS_FILE)
    goal_specs(workspace_goals(ws.root, settings), settings)
    return settings
