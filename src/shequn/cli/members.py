"""`shequn members`: merge|unmerge one person's keys; the profile commands from cli.profiles."""

from __future__ import annotations

from typing import Annotated

import typer

from shequn.cli import profiles
from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.workspace import Workspace

members_app = typer.Typer(
    help="Members: profiles, tiers, lifecycle states, churn risk; merge one person's accounts."
)


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


profiles.register(members_app)
