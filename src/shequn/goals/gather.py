"""Every goal of a workspace: the community goals of shequn.toml and `goals/*.yaml`.

Each goal is validated on its own by `shequn.config.Goal`; what needs all of them at
once is checked here: ids unique in the workspace, `serves` naming a long-term goal,
scopes naming a community or a template. Every error names the file, the line (YAML)
or the field (TOML), and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from yaml import MappingNode

from shequn.config import SETTINGS_FILE, Goal, Settings
from shequn.errors import InputError
from shequn.yamlio import Lines, build_data, compose, validation_problem

GOALS_DIR = "goals"
GOALS_DOC = "docs/workspace.md, “Goals”"
WORKSPACE = "*"
TEMPLATE = "template:"
Level = Literal["long", "short"]


class GoalFile(BaseModel):
    """One `goals/*.yaml` file: a default scope and the same two lists as shequn.toml."""

    model_config = ConfigDict(extra="forbid")

    scope: str | None = None
    long_term_goals: list[Goal] = Field(default_factory=list)
    short_term_goals: list[Goal] = Field(default_factory=list)


@dataclass(frozen=True)
class GoalEntry:
    """A goal with where it was written.

    Attributes:
        goal: the goal as written.
        level: "long" or "short" (the list it is in).
        scope: a community key, `template:NAME` or `*`.
        id: its `id`, or `<community>:long:<n>` / `<file name>:short:<n>` when it has none.
        group: the community block or file it is in (an unserved milestone serves the
            long-term goals of its group).
        path: the file; `line` (YAML) or `field` say where in it.
    """

    goal: Goal
    level: Level
    scope: str
    id: str
    group: str
    path: str
    line: int | None = None
    field: str = ""

    def error(self, message: str, hint: str, part: str = "") -> InputError:
        field = f"{self.field}.{part}" if self.field and part else self.field or part
        return InputError(message, path=self.path, line=self.line, field=field, hint=hint)


def workspace_goals(root: Path, settings: Settings) -> list[GoalEntry]:
    """All goals of the workspace at `root`, checked together.

    Raises:
        InputError: naming the file, line or field of the first problem, and the fix.
    """
    entries = settings_goals(settings, str(root / SETTINGS_FILE))
    folder = root / GOALS_DIR
    if folder.is_dir():
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            entries += load_goal_file(path)
    check_goals(entries, settings)
    return entries


def settings_goals(settings: Settings, path: str = SETTINGS_FILE) -> list[GoalEntry]:
    """The goals written under each community of shequn.toml (scope: that community)."""
    entries = []
    for ci, community in enumerate(settings.communities):
        levels: tuple[tuple[Level, list[Goal]], ...] = (
            ("long", community.long_term_goals),
            ("short", community.short_term_goals),
        )
        for level, goals in levels:
            for i, goal in enumerate(goals):
                entries.append(
                    GoalEntry(
                        goal,
                        level,
                        goal.scope or community.key,
                        goal.id or f"{community.key}:{level}:{i}",
                        group=community.key,
                        path=path,
                        field=f"communities.{ci}.{level}_term_goals.{i}",
                    )
                )
    return entries


def load_goal_file(path: Path) -> list[GoalEntry]:
    """The goals of one YAML file.

    Raises:
        InputError: naming the file and line of the first problem.
    """
    file = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not UTF-8", path=file, hint="save the file as UTF-8") from None
    node = compose(source, file)
    if node is None:
        return []
    if not isinstance(node, MappingNode):
        raise InputError(
            "a goal file is a mapping", path=file, line=1, hint="start with long_term_goals:"
        )
    lines: Lines = {}
    data = build_data(node, (), lines, file)
    try:
        parsed = GoalFile.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors()[0], lines, file, docs=GOALS_DOC) from None
    return _file_entries(parsed, path, lines)


def _file_entries(parsed: GoalFile, path: Path, lines: Lines) -> list[GoalEntry]:
    entries = []
    levels: tuple[tuple[Level, list[Goal]], ...] = (
        ("long", parsed.long_term_goals),
        ("short", parsed.short_term_goals),
    )
    for level, goals in levels:
        for i, goal in enumerate(goals):
            key = (f"{level}_term_goals", i)
            scope = goal.scope or parsed.scope
            if scope is None:
                raise InputError(
                    "a goal in a goal file needs a scope",
                    path=str(path),
                    line=lines.get(key),
                    field="scope",
                    hint="add `scope: KEY` (a community), `scope: template:NAME` or `scope: '*'`"
                    " to the goal, or once at the top of the file",
                )
            entries.append(
                GoalEntry(
                    goal,
                    level,
                    scope,
                    goal.id or f"{path.name}:{level}:{i}",
                    group=f"{path}|{scope}",
                    path=str(path),
                    line=lines.get(key),
                )
            )
    return entries


def check_goals(entries: list[GoalEntry], settings: Settings) -> None:
    """Ids unique, scopes known, `serves` naming a long-term goal.

    Raises:
        InputError: at the first problem.
    """
    keys = [c.key for c in settings.communities]
    templates = sorted({c.template for c in settings.communities} - {""})
    seen: dict[str, GoalEntry] = {}
    for e in entries:
        _check_scope(e, keys, templates)
        if e.goal.id and e.goal.id in seen:
            first = seen[e.goal.id]
            place = f"{first.path}:{first.line}" if first.line else f"{first.path} {first.field}"
            raise e.error(
                f"goal id {e.goal.id!r} is also used at {place}",
                "give every goal its own id",
                "id",
            )
        if e.goal.id:
            seen[e.goal.id] = e
    for e in entries:
        served = e.goal.serves
        if served is None:
            continue
        if e.level == "long":
            raise e.error(
                "a long-term goal does not serve another goal",
                "move it to short_term_goals (milestones serve long-term goals)",
                "serves",
            )
        if served not in seen:
            named = ", ".join(sorted(seen)) or "none has an id yet"
            raise e.error(
                f"serves {served!r}, which is no goal's id",
                f"use the id of a long-term goal ({named}), or give that goal id = {served!r}",
                "serves",
            )
        if seen[served].level != "long":
            raise e.error(
                f"serves {served!r}, a short-term goal",
                "a milestone serves a long-term goal: name one from long_term_goals",
                "serves",
            )


def _check_scope(e: GoalEntry, keys: list[str], templates: list[str]) -> None:
    scope = e.scope
    if scope == WORKSPACE:
        if e.goal.horizon is not None:
            raise e.error(
                "a horizon counts from a community's creation; scope '*' has none",
                "give the goal a community or template:NAME scope, or a period instead",
                "horizon",
            )
        return
    if scope.startswith(TEMPLATE):
        if scope.removeprefix(TEMPLATE) not in templates:
            raise e.error(
                f"no community has template {scope.removeprefix(TEMPLATE)!r}",
                f"use one of {', '.join(templates) or '(no templates yet)'}, or set "
                "`template` on the communities",
                "scope",
            )
        return
    if scope not in keys:
        raise e.error(
            f"scope {scope!r} is not a community of {SETTINGS_FILE}",
            f"use a community key ({', '.join(keys) or 'none yet'}), template:NAME or '*'",
            "scope",
        )
