"""`shequn tasks ...`: the operator tasks playbooks make."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, local_time
from shequn.workspace import Workspace

tasks_app = typer.Typer(
    help="Operator tasks made by playbooks: list them, mark them done.",
    invoke_without_command=True,
)


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
            str(task.id),
            local_time(ws, task.due),
            task.owner,
            task.community,
            task.title,
            task.content,
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
