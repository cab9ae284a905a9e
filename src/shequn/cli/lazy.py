"""A command group that imports a subcommand's module only when that subcommand runs.

`shequn members refresh` (a cron job) then imports the members CLI and what it needs,
not every command module and their services; `shequn --help` lists every command from
the one-line help kept in the registry (`cli/app.py`), importing none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import ClassVar

import typer
from typer import _click as click  # the Click that Typer builds its commands with
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from shequn.registry import load


@dataclass(frozen=True)
class Lazy:
    """One command or group of the root, imported when it runs.

    Attributes:
        name: the command as typed (`members`).
        target: ``package.module:attribute``, a command function or a `typer.Typer` group.
        help: the line `shequn --help` shows: the group's help, or the first paragraph of
            the command's docstring (tests/cli/test_lazy.py checks the two agree).
    """

    name: str
    target: str
    help: str


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands are the `entries`, each loaded on first use.

    Subclass it with `entries` set and pass the subclass as `typer.Typer(cls=...)`.
    """

    entries: ClassVar[tuple[Lazy, ...]] = ()
    # Typer's default, which the root app keeps; loaded commands are built with it.
    pretty_exceptions_short: ClassVar[bool] = True
    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [entry.name for entry in self.entries]
        return [*lazy, *(name for name in self.commands if name not in lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, imported now, except while help is listing the commands."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = self._by_name().get(cmd_name)
        if entry is None:
            return None
        if self._listing:  # the help shows a name and a line: no import needed
            return TyperCommand(name=cmd_name, help=entry.help)
        command = self._build(entry)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            # Typer suggests among the commands built so far; suggest among all of them.
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if self.suggest_commands and matches and "Did you mean" not in exc.message:
                names = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {names}?"
            raise

    def _by_name(self) -> dict[str, Lazy]:
        return {entry.name: entry for entry in self.entries}

    def _build(self, entry: Lazy) -> click.Command:
        target = load(entry.target)
        if isinstance(target, typer.Typer):
            return get_group_from_info(
                TyperInfo(target, name=entry.name),
                pretty_exceptions_short=self.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
                suggest_commands=self.suggest_commands,
            )
        return get_command_from_info(
            CommandInfo(name=entry.name, callback=target),
            pretty_exceptions_short=self.pretty_exceptions_short,
            rich_markup_mode=self.rich_markup_mode,
        )
