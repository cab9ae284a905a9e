"""`shequn members leaders|seeds|churn-eval|recommend|recommend-eval`: opinion leaders,
seed members, recommendations, and the churn models and recommender judged."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shequn.cli.member_views import AtOpt, as_of, frame_table, person_of, say_none
from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, err
from shequn.errors import InputError
from shequn.periods import day_start
from shequn.workspace import Workspace


def leaders(
    top: Annotated[int, typer.Option(help="How many to show.", min=1)] = 20,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Member keys to leave out (bots).")
    ] = None,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Opinion leaders: PageRank and betweenness of the interaction graph, with reasons.

    Example: `shequn members leaders --top 10 --exclude telegram:bot1`
    """
    from shequn.members.graph import EXACT_UP_TO, SOURCES, GraphWindow, estimated, shown
    from shequn.members.graph import leaders as ranked

    ws = Workspace.open(workspace)
    when = as_of(ws, at)
    frame = ranked(ws, when, exclude or [])
    frame_table(shown(frame, top))
    if estimated(frame):
        err.print(
            f"betweenness estimated from {SOURCES} of {frame.height:,} people drawn at random "
            f"(exact up to {EXACT_UP_TO:,}: docs/members.md)",
            highlight=False,
        )
    if frame.is_empty():
        days = GraphWindow().since_days
        say_none(
            ws,
            when,
            f"no opinion leaders: no replies, reactions or mentions between members in the "
            f"{days} days before {when:%Y-%m-%d}",
        )


def seeds(
    top: Annotated[int, typer.Option(help="How many to show per community.", min=1)] = 20,
    community: Annotated[str, typer.Option("--community", "-c", help="Only this community.")] = "",
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Seed members: active from a community's first month, and in most weeks since.

    Each community's earliest first, at most `--top` of them.

    Example: `shequn members seeds -c tea-shop --top 10`
    """
    import polars as pl

    from shequn.members.graph import seed_members

    ws = Workspace.open(workspace)
    when = as_of(ws, at)
    frame = seed_members(ws, when)
    if community:
        frame = frame.filter(pl.col("community") == community)
    frame_table(frame.group_by("community", maintain_order=True).head(top))
    if frame.is_empty():
        say_none(
            ws,
            when,
            "no seed members: nobody active in a community's first 30 days was active "
            f"in half the weeks since, up to {when:%Y-%m-%d}",
        )


def churn_eval(
    cut: Annotated[
        str, typer.Option("--cut", help="Cut-off local day (history must reach cut + horizon).")
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Judge the churn models on a time split: train before the cut, predict after it.

    Example: `shequn members churn-eval --cut 2026-10-01`
    """
    from shequn.members.evaluate import evaluate_workspace

    ws = Workspace.open(workspace)
    when = day_start(cut, "--cut", ws.settings.zone)
    table = Table("split", "model", "members", "churned", "AUC", "precision@10%", "Brier")
    evaluation = evaluate_workspace(ws, when)
    for split, judged in evaluation.splits.items():
        for j in judged:
            auc = "" if j.auc is None else f"{j.auc:.3f}"
            table.add_row(
                split,
                j.model,
                f"{j.n:,}",
                f"{j.base_rate:.1%}",
                auc,
                f"{j.precision_top10:.3f}",
                f"{j.brier:.4f}",
            )
    console.print(table)
    for split, why in evaluation.skipped.items():
        err.print(escape(f"{split} split not judged: {why}"), highlight=False)


def recommend(
    key: Annotated[str, typer.Argument(help="A member key (merged keys show their person).")],
    top: Annotated[int, typer.Option(help="How many items.", min=1, max=50)] = 5,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Content items and activities a member is likely to engage with, best first.

    Example: `shequn members recommend telegram:user42 --top 3`
    """
    from shequn.members.recommend.workspace import FRESH_DAYS
    from shequn.members.recommend.workspace import recommend as picks

    ws = Workspace.open(workspace)
    person = person_of(ws, key)
    when = as_of(ws, at)
    chosen = picks(ws, when, [person], top)[person]
    table = Table("#", "item", "kind", "title", title=person)
    for i, r in enumerate(chosen, start=1):
        table.add_row(str(i), r.item, r.kind, r.title)
    console.print(table)
    if not chosen:
        say_none(
            ws,
            when,
            f"nothing to recommend to {person}: no content item reached their communities "
            f"in the {FRESH_DAYS} days before {when:%Y-%m-%d}, and no activity is upcoming",
        )


def recommend_eval(
    cut: Annotated[
        str, typer.Option("--cut", help="Cut-off local day (history must reach cut + horizon).")
    ],
    horizon: Annotated[int, typer.Option(help="Days after the cut judged.", min=1)] = 28,
    workspace: WorkspaceOpt = None,
) -> None:
    """Judge the recommender on a time split against popularity: recall@5, hit rate, coverage.

    Example: `shequn members recommend-eval --cut 2026-10-01`
    """
    from shequn.members.recommend.workspace import evaluate_workspace

    ws = Workspace.open(workspace)
    when = day_start(cut, "--cut", ws.settings.zone)
    judged = evaluate_workspace(ws, when, horizon)
    if not any(j.members for j in judged):
        raise InputError(
            f"nothing to judge: no member engaged with a new item in the {horizon} days "
            f"after {cut}",
            hint="choose an earlier --cut or a longer --horizon",
        )
    table = Table("model", "members", "recall@5", "hit rate", "coverage")
    for j in judged:
        figures = (j.recall, j.hit_rate, j.coverage)
        table.add_row(j.model, f"{j.members:,}", *(f"{v:.3f}" for v in figures))
    console.print(table)
