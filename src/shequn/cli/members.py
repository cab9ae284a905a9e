"""`shequn members ...`: list member keys, merge one person's keys across platforms."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, local_time
from shequn.workspace import Workspace

members_app = typer.Typer(help="Members: list them, merge one person's accounts across platforms.")


@members_app.command("list")
def members_list(
    community: Annotated[str, typer.Option("--community", "-c", help="Only this community.")] = "",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    workspace: WorkspaceOpt = None,
) -> None:
    """List member keys with their person and display name.

    Example: `shequn members list -c book-club --limit 20`
    """
    from shequn.services.members import list_members

    ws = Workspace.open(workspace)
    rows = list_members(ws, community or None, limit)
    table = Table("key", "name", "person", "platform", "first seen")
    for row in rows:
        table.add_row(
            row["key"],
            row["name"] or "",
            row["person"],
            row["platform"] or "",
            local_time(ws, row["first_ts"]),
        )
    console.print(table)


@members_app.command("merge")
def members_merge(
    target: Annotated[str, typer.Argument(help="The member key whose person the others join.")],
    others: Annotated[list[str], typer.Argument(help="Member keys of the same person.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Merge one person's member keys across platforms.

    Example: `shequn members merge telegram:user42 whatsapp:Li_Lei qq:10001`
    """
    from shequn.services.members import merge

    result = merge(Workspace.open(workspace), target, others)
    console.print(f"{result.person} is now: {', '.join(result.keys)}")


@members_app.command("unmerge")
def members_unmerge(
    key: Annotated[str, typer.Argument(help="Member key to make its own person again.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Undo a merge for one member key.

    Example: `shequn members unmerge whatsapp:Li_Lei`
    """
    from shequn.services.members import unmerge

    unmerge(Workspace.open(workspace), key)
    console.print(f"{key} is its own person again")
