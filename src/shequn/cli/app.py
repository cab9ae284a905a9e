"""The `shequn` app: its command modules registered in --help order, and `main`.

Commands parse input, call a service, shape the output; each command group is one
module of this package (docs/architecture.md says how to add one).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from shequn import __version__
from shequn.cli import (
    activities,
    bot,
    experiments,
    export,
    imports,
    lifecycle,
    members,
    metrics,
    platforms,
    profiles,
    review,
    run,
    sop,
    tasks,
    web,
    workspace,
)
from shequn.cli.output import console, err
from shequn.errors import ShequnError

app = typer.Typer(
    help="shequn (社群): run and measure online communities.\n\n"
    "Start with `shequn init DIR`, then `shequn import EXPORT` or `shequn simulate`, "
    "then `shequn status`.",
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


# Typer lists commands in the order they are registered, then the groups.
app.command()(workspace.init)
app.command("import")(imports.import_)
app.command()(imports.simulate)
app.command()(workspace.status)
app.command("metrics")(metrics.metrics)
app.command("review")(review.review)
app.command("run")(run.run)
app.add_typer(members.members_app, name="members")
profiles.register(members.members_app)
app.add_typer(export.export_app, name="export")
app.add_typer(sop.sop_app, name="sop")
app.add_typer(tasks.tasks_app, name="tasks")
app.add_typer(lifecycle.lifecycle_app, name="lifecycle")
app.add_typer(experiments.experiments_app, name="experiments")
app.add_typer(activities.activities_app, name="activities")
platforms.register(app)
bot.register(app)
app.add_typer(web.web_app)


def main() -> None:
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
