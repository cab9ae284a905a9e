"""The `shequn` app: its commands in --help order, each module imported when it runs; `main`.

Commands parse input, call a service, shape the output; each command group is one
module of this package (docs/architecture.md says how to add one).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from shequn import __version__
from shequn.cli.collector import frozen_at_exit
from shequn.cli.lazy import Lazy, LazyGroup
from shequn.cli.output import console, err, natural_width_without_terminal
from shequn.errors import ShequnError

# The commands in `shequn --help` order, each imported only when it runs; `help` is the
# line --help shows (the group's help, or the first paragraph of the command's docstring).
COMMANDS = (
    Lazy("init", "shequn.cli.workspace:init",
         "Create a workspace: shequn.toml, playbooks/, content/, data/."),
    Lazy("import", "shequn.cli.imports:import_",
         "Append the events of chat exports and order files to the workspace."),
    Lazy("simulate", "shequn.cli.imports:simulate",
         "Add a realistic synthetic history to the workspace (for demos and benchmarks)."),
    Lazy("status", "shequn.cli.workspace:status",
         "What the workspace holds: communities, members, events by type and source, dates."),
    Lazy("metrics", "shequn.cli.metrics:metrics",
         "Every metric of docs/metrics.md for a period, per community and for the workspace (*)."),
    Lazy("review", "shequn.cli.review:review",
         "Review (复盘) goals against actuals: funnel, drivers, suggested actions, replication."),
    Lazy("run", "shequn.cli.run:run",
         "Run the SOP engine: tick, dispatch the outbox; stop cleanly on SIGTERM or Ctrl-C."),
    Lazy("members", "shequn.cli.members:members_app",
         "Members: profiles, tiers, lifecycle states, churn risk; merge one person's accounts."),
    Lazy("export", "shequn.cli.export:export_app", "Export data in open formats."),
    Lazy("sop", "shequn.cli.sop:sop_app",
         "Playbooks (SOPs): validate, list, start from the built-in library."),
    Lazy("tasks", "shequn.cli.tasks:tasks_app",
         "Operator tasks made by playbooks: list them, mark them done."),
    Lazy("lifecycle", "shequn.cli.lifecycle:lifecycle_app",
         "Community lifecycle stages: where each community is, the stage plan, moves."),
    Lazy("experiments", "shequn.cli.experiments:experiments_app",
         "Experiments on playbook steps: holdouts and variants."),
    Lazy("activities", "shequn.cli.activities:activities_app",
         "Activities: list, plan, results, calendar, comparison."),
    Lazy("platforms", "shequn.cli.platforms:platforms_app",
         "Live platforms: connect the workspace to Matrix, Telegram and QQ (OneBot v11)."),
    Lazy("communities", "shequn.cli.platforms:communities_app",
         "Communities: bind one to a live platform's group."),
    Lazy("channels", "shequn.cli.channels:channels_app",
         "Traffic channels: a join link per channel, so joins carry it."),
    Lazy("faq", "shequn.cli.bot:faq_app",
         "The bot's FAQ library: test a question, report, mark answers wrong."),
    Lazy("moderation", "shequn.cli.bot:moderation_app",
         "The bot's moderation rules: check a text before going live."),
    Lazy("serve", "shequn.cli.web:serve",
         "Run the web console for the workspace: dashboard, members, SOP, tasks, reviews."),
    Lazy("users", "shequn.cli.web:users_app",
         "Console users: who may sign in to `shequn serve`, with which role."),
)  # fmt: skip


class _Root(LazyGroup):
    entries = COMMANDS


app = typer.Typer(
    help="shequn (社群): run and measure online communities.\n\n"
    "Start with `shequn init DIR`, then `shequn import EXPORT` or `shequn simulate`, "
    "then `shequn status`.",
    cls=_Root,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        console.print(f"shequn {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    pass


def main() -> None:
    """The process's entry point (`shequn`, `python -m shequn`): runs the command, then
    leaves what it holds to the exit's reference counting (shequn.cli.collector)."""
    natural_width_without_terminal()
    try:
        app()
    except ShequnError as exc:
        err.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err.print(f"  fix: {exc.hint}", highlight=False, markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was stored by the unfinished command")
        sys.exit(130)
    finally:
        frozen_at_exit()
