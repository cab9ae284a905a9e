"""`shequn lifecycle ...`: community stages, the stage plan, an operator's stage change."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, err, local_time
from shequn.clock import SystemClock
from shequn.workspace import Workspace

lifecycle_app = typer.Typer(
    help="Community lifecycle stages: where each community is, the stage plan, moves.\n\n"
    "Example: `shequn lifecycle --community book-club`",
    invoke_without_command=True,
)
# Stage names as shown: the English key and the Chinese name operators use.
LABELS = {
    "prepare": "prepare 筹备",
    "cold_start": "cold_start 冷启动",
    "hot": "hot 热运营",
    "self_growth": "self_growth 自生长",
    "conversion": "conversion 转化",
    "dissolve": "dissolve 解散",
}


@lifecycle_app.callback()
def lifecycle_status(
    ctx: typer.Context,
    community: Annotated[str, typer.Option("--community", "-c", help="Only this community.")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Each community's stage, since when, its routines, and how close it is to the next.

    Routines are the playbooks the stage lists (docs/lifecycle.md): a playbook some
    stage lists runs only in such a stage; one listed nowhere runs in every stage.

    Metric conditions count the days held up to yesterday (the engine checks them once
    a day, after midnight in the workspace time zone).

    Example: `shequn lifecycle --community book-club`
    """
    if ctx.invoked_subcommand is not None:
        return
    from shequn.sop.lifecycle import overview

    ws = Workspace.open(workspace)
    table = Table("community", "stage (its routines)", "since", "next stage", "conditions")
    for row in overview(ws, SystemClock()):
        if community and row.community != community:
            continue
        stage = LABELS.get(row.stage, "-") if row.stage else "not seen by the engine yet"
        stage = "\n".join([stage, *row.routines])
        nexts = row.next_stages or [("-", [])]
        for i, (name, conditions) in enumerate(nexts):
            first = i == 0
            table.add_row(
                row.community if first else "",
                stage if first else "",
                local_time(ws, row.since) if first else "",
                LABELS.get(name, name),
                "\n".join(conditions),
            )
    console.print(table)


@lifecycle_app.command("validate")
def lifecycle_validate(
    file: Annotated[
        Path | None, typer.Argument(help="A plan file (default: the workspace's lifecycle.yaml).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check a lifecycle plan; every problem is printed with its file, line and fix.

    Example: `shequn lifecycle validate lifecycle.yaml`
    """
    from shequn.sop.lifecycle_model import PLAN_FILE, check

    path = file or Workspace.open(workspace).root / PLAN_FILE
    if not path.is_file():
        console.print(f"no {path}: the built-in plan applies (`shequn lifecycle show-default`)")
        return
    plan, problems = check(path.read_text(encoding="utf-8"), str(path))
    for problem in problems:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False)
    if plan is None:
        raise typer.Exit(2)
    console.print(
        f"{path}: valid, {len(plan.stages)} stages, {len(plan.templates)} template plan(s)"
    )


@lifecycle_app.command("set")
def lifecycle_set(
    key: Annotated[str, typer.Argument(help="The community key.")],
    stage: Annotated[str, typer.Argument(help="prepare, cold_start, hot, self_growth, ...")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Move a community to a stage by hand (also backwards); audited and recorded.

    Example: `shequn lifecycle set book-club hot --reason "launch week went well"`
    """
    from shequn.services.lifecycle import set_stage

    ws = Workspace.open(workspace)
    moved = set_stage(ws, SystemClock(), key, stage, reason)
    console.print(f"{key}: {moved['from']} → {moved['stage']}")


@lifecycle_app.command("show-default")
def lifecycle_show_default() -> None:
    """Print the built-in plan as YAML, to start your own lifecycle.yaml from.

    Example: `shequn lifecycle show-default > lifecycle.yaml`
    """
    from shequn.sop.lifecycle_model import default_text

    sys.stdout.write(default_text())
