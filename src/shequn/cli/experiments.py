"""`shequn experiments ...`: the holdouts and variants of playbook steps, and their results."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, local_time
from shequn.errors import InputError
from shequn.workspace import Workspace

experiments_app = typer.Typer(help="Experiments on playbook steps: holdouts and variants.")


def _pct(value: float) -> str:
    return "–" if value != value else f"{value:+.1%}"  # NaN: not measured


@experiments_app.command("list")
def experiments_list(workspace: WorkspaceOpt = None) -> None:
    """Every experiment of the playbooks in force, its members and its status.

    Example: `shequn experiments list`
    """
    from shequn.experiments.results import results

    ws = Workspace.open(workspace)
    table = Table("experiment", "outcome", "arms", "members", "status", "final on", "verdict")
    for r in results(ws):
        spec = r.declared.step.experiment
        assert spec is not None
        table.add_row(
            r.declared.id,
            spec.outcome,
            " / ".join(r.declared.arms),
            " / ".join(str(r.assigned.get(a, 0)) for a in r.declared.arms),
            r.status,
            local_time(ws, r.final_ts) if r.final_ts else "",
            "; ".join(c.verdict for c in r.comparisons),
        )
    console.print(table)


@experiments_app.command("show")
def experiments_show(
    experiment: Annotated[str, typer.Argument(help="playbook.step (see `experiments list`).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """One experiment: each arm against the reference, with interval, p-value and the
    smallest effect the sample could detect.

    Example: `shequn experiments show newcomer-7day.welcome`
    """
    from shequn.experiments.results import results

    ws = Workspace.open(workspace)
    found = {r.declared.id: r for r in results(ws)}
    if experiment not in found:
        raise InputError(
            f"no experiment {experiment!r}",
            hint=f"use one of: {', '.join(found) or '(none: add holdout: to a step)'}",
        )
    r = found[experiment]
    spec = r.declared.step.experiment
    assert spec is not None
    head = f"{r.declared.id}: outcome {spec.outcome}, horizon {spec.horizon}, {r.status}"
    if r.final_ts and not r.final:
        head += (
            f" (INTERIM: only members whose window closed; final on {local_time(ws, r.final_ts)})"
        )
    console.print(head)
    table = Table(
        "arm",
        "members",
        "met",
        "rate",
        "vs",
        "difference",
        f"{1 - spec.alpha:.0%} CI",
        "p",
        "detectable",
        "verdict",
    )
    for c in r.comparisons:
        x = r.counts.get(c.arm, (0, 0))[0]
        table.add_row(
            c.arm,
            str(c.n),
            str(x),
            f"{c.rate:.1%}" if c.n else "–",
            c.reference,
            _pct(c.diff),
            f"{_pct(c.low)} … {_pct(c.high)}",
            "–" if c.p_value != c.p_value else f"{c.p_value:.3f}",
            "–" if c.mde != c.mde else f"±{c.mde:.1%}",
            c.verdict,
        )
    console.print(table)
