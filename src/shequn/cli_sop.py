"""`shequn sop ...`, `shequn tasks ...` and `shequn run`: the SOP engine's commands.

The lead registers them in cli.py:
    app.add_typer(sop_app, name="sop"); app.add_typer(tasks_app, name="tasks");
    app.command("run")(run)
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shequn.cli_options import WorkspaceOpt
from shequn.errors import InputError
from shequn.workspace import Workspace

sop_app = typer.Typer(help="Playbooks (SOPs): validate, list, start from the built-in library.")
tasks_app = typer.Typer(
    help="Operator tasks made by playbooks: list them, mark them done.",
    invoke_without_command=True,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _local(ws: Workspace, when: object) -> str:
    return when.astimezone(ws.settings.zone).strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]


@sop_app.command("validate")
def sop_validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Files (default: every playbook).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check playbooks; every problem is printed with its file, line and fix.

    Example: `shequn sop validate playbooks/newcomer-7day.yaml`
    """
    from shequn.sop.loader import check, scan

    if files:
        problems = []
        for path in files:
            problems += check(path.read_text(encoding="utf-8"), str(path))[1]
        count = len(files)
    else:
        loaded, problems = scan(Workspace.open(workspace).root / "playbooks")
        count = len(loaded) + len({p.path for p in problems})
    for problem in problems:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False)
    if problems:
        raise typer.Exit(2)
    console.print(f"{count} playbook(s) valid")


@sop_app.command("list")
def sop_list(workspace: WorkspaceOpt = None) -> None:
    """List the playbooks in force: trigger, communities, steps.

    Example: `shequn sop list`
    """
    from shequn.sop.loader import scan

    loaded, problems = scan(Workspace.open(workspace).root / "playbooks")
    table = Table("name", "trigger", "applies to", "steps", "file")
    for item in loaded:
        pb = item.playbook
        trigger = getattr(pb.trigger, "every", None) or pb.trigger.type
        scope = ", ".join(pb.applies_to.communities + pb.applies_to.templates)
        steps = ", ".join(f"{s.id} {s.at}" for s in pb.steps)
        table.add_row(pb.name, trigger, scope, steps, Path(item.path).name)
    console.print(table)
    for problem in problems:
        err.print(f"[yellow]invalid:[/] {escape(str(problem))}", highlight=False)


@sop_app.command("new")
def sop_new(
    template: Annotated[str, typer.Option("--from", help="A built-in playbook name.")],
    name: Annotated[str, typer.Option(help="File name (default: the template's).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Copy a built-in playbook into playbooks/ to adapt it.

    Example: `shequn sop new --from newcomer-7day`
    """
    library = resources.files("shequn") / "playbooks"
    names = sorted(
        p.name.removesuffix(".yaml") for p in library.iterdir() if p.name.endswith(".yaml")
    )
    if template not in names:
        raise InputError(
            f"no built-in playbook {template!r}",
            field="--from",
            hint=f"use one of {', '.join(names)}",
        )
    ws = Workspace.open(workspace)
    target = ws.root / "playbooks" / f"{name or template}.yaml"
    if target.exists():
        raise InputError("the file exists", path=str(target), hint="pass --name NEW_NAME")
    target.parent.mkdir(exist_ok=True)
    target.write_text((library / f"{template}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"Wrote {target}; edit it, then `shequn sop validate`")


@tasks_app.callback()
def tasks_list(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option(help="Only this owner's tasks.")] = "",
    today: Annotated[bool, typer.Option("--today", help="Only tasks due today.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue tasks.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Open operator tasks, soonest due first.

    Example: `shequn tasks --owner alice --today`
    """
    if ctx.invoked_subcommand is not None:
        return
    from shequn.services.tasks import list_tasks

    ws = Workspace.open(workspace)
    table = Table("id", "due", "owner", "community", "title", "content")
    for task in list_tasks(ws, owner=owner, today=today, overdue=overdue):
        table.add_row(
            str(task.id), _local(ws, task.due), task.owner, task.community, task.title, task.content
        )
    console.print(table)


@tasks_app.command("done")
def tasks_done(
    task_id: Annotated[int, typer.Argument(help="The task's id (see `shequn tasks`).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Mark a task done.

    Example: `shequn tasks done 12`
    """
    from shequn.services.tasks import complete

    ws = Workspace.open(workspace)
    task = complete(ws, task_id)
    console.print(f"task {task.id} done ({task.title})")


def run(
    tick_every: Annotated[float, typer.Option(help="Seconds between ticks.")] = 60.0,
    health_every: Annotated[float, typer.Option(help="Seconds between health lines.")] = 60.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the SOP engine: tick, dispatch the outbox; stop cleanly on SIGTERM or Ctrl-C.

    Deliveries go to the console and to data/console-deliveries.jsonl in this release.

    Example: `shequn run --tick-every 30`
    """
    from shequn.platforms.console import FILE_NAME, ConsolePlatform
    from shequn.services.sop import Engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ws = Workspace.open(workspace)
    platform = ConsolePlatform(ws.root / "data" / FILE_NAME, echo=sys.stdout)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Engine(ws, {"console": platform}, tick_every=tick_every, health_every=health_every).run(stop)
