"""`shequn members show|list|refresh|flow`: profiles, tiers, lifecycle states, churn risk."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shequn.cli.collector import paused
from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.clock import SystemClock
from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.workspace import Workspace

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "csv", "xlsx", "json")
AtOpt = Annotated[
    str,
    typer.Option(
        "--at",
        help="Profiles as of the start of this local day (default: now).",
        show_default=False,
    ),
]


def _when(ws: Workspace, at: str) -> datetime:
    """The instant of `--at` (a local day's midnight), or now."""
    if not at:
        return SystemClock().now()
    return datetime.combine(parse_day(at, "--at"), time(), ws.settings.zone)


def register(app: typer.Typer) -> None:
    """Add the member-understanding commands to the `members` group."""
    app.command("show")(show)
    app.command("list")(list_members)
    app.command("refresh")(refresh)
    app.command("flow")(flow)
    app.command("leaders")(leaders)
    app.command("seeds")(seeds)
    app.command("churn-eval")(churn_eval)
    app.command("recommend")(recommend)
    app.command("recommend-eval")(recommend_eval)


def show(
    key: Annotated[str, typer.Argument(help="A member key (merged keys show their person).")],
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Show one member's profile: activity, replies, orders, tier, state, churn risk, keywords.

    Example: `shequn members show telegram:user42`
    """
    import polars as pl

    from shequn.members.profiles import profiles, readable
    from shequn.members.recommend.workspace import recommend as picks
    from shequn.members.texts import member_texts

    ws = Workspace.open(workspace)
    person = _person(ws, key)
    frame = readable(profiles(ws, _when(ws, at)), ws.settings.timezone)
    frame = frame.filter(pl.col("member") == person)
    if frame.is_empty():
        raise InputError(f"member {key!r} has no events", hint="list members: shequn members list")
    table = Table("figure", "value", title=person)
    for name, value in frame.row(0, named=True).items():
        table.add_row(name, "" if value is None else str(value))
    words = ", ".join(f"{w} ({n})" for w, n in member_texts(ws, person))
    table.add_row("top_keywords", words)
    chosen = picks(ws, _when(ws, at), [person])[person]
    table.add_row("recommended", ", ".join(f"{r.title} ({r.item})" for r in chosen))
    console.print(table)


def list_members(
    filter_: Annotated[
        str,
        typer.Option(
            "--filter",
            help="A Polars SQL condition over the profile columns, e.g. "
            "\"state = 'at_risk' AND orders > 0\".",
        ),
    ] = "",
    community: Annotated[str, typer.Option("--community", "-c", help="Only this community.")] = "",
    fmt: Annotated[str, typer.Option("--format", help="table, csv, xlsx or json.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File for csv/xlsx/json.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows in a table.")] = 50,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """List member profiles with tier, lifecycle state and churn risk.

    Example: `shequn members list --filter "churn_risk > 0.7" --format csv -o care.csv`
    """
    import polars as pl

    from shequn.members.profiles import LIST_COLUMNS, profiles, readable

    if fmt not in FORMATS:
        raise InputError(
            f"unknown format {fmt!r}", field="--format", hint="use " + ", ".join(FORMATS)
        )
    ws = Workspace.open(workspace)
    frame = profiles(ws, _when(ws, at))
    if community:
        frame = frame.filter(pl.col("communities").str.split(",").list.contains(community))
    if filter_:
        try:
            frame = frame.filter(pl.sql_expr(filter_))
        except Exception as exc:  # Polars raises several kinds for a bad expression
            raise InputError(
                f"bad filter {filter_!r}: {exc}",
                field="--filter",
                hint="write SQL over the columns, e.g. \"state = 'silent' AND orders > 0\"",
            ) from None
    frame = frame.sort("churn_risk", descending=True, nulls_last=True)
    if fmt == "table":
        _table(frame.select(LIST_COLUMNS).head(limit))
        return
    target = out or Path(f"members.{fmt}")
    _write(readable(frame, ws.settings.timezone), fmt, target)
    console.print(f"Wrote {frame.height:,} members to {target}")


def _table(frame: pl.DataFrame) -> None:
    table = Table(*frame.columns)
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def _write(frame: pl.DataFrame, fmt: str, target: Path) -> None:
    """The profiles as a file; in CSV and XLSX no member text is run as a formula."""
    from shequn.spreadsheet import safe

    if fmt == "json":
        frame.write_json(target)
    elif fmt == "csv":
        safe(frame).write_csv(target)
    else:  # openpyxl (a dependency already), streaming rows
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("members")
        sheet.append(frame.columns)
        for row in safe(frame).iter_rows():
            sheet.append(list(row))
        book.save(target)


def refresh(
    cold: Annotated[
        bool,
        typer.Option(
            "--cold",
            help="Recompute every member's figures from the events and refit the churn model.",
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Record tier and lifecycle-state changes (tier_changed / state_changed events).

    Only the members touched by new events are recomputed; the churn model is refitted
    when it is `churn_refit_days` old (docs/members.md).

    Example: `shequn members refresh` (run it daily, e.g. from cron, before `shequn run`)
    """
    with paused():  # a bounded batch job: shequn.cli.collector
        from shequn.services.members import refresh as do_refresh

        result = do_refresh(Workspace.open(workspace), cold=cold)
    console.print(
        f"{result.members:,} members: {result.tier_changes:,} tier changes, "
        f"{result.state_changes:,} state changes, {result.risk_rises:,} churn-risk rises recorded"
    )


def flow(
    start: Annotated[str, typer.Option("--from", help="First local day.")],
    end: Annotated[str, typer.Option("--to", help="Day after the last (exclusive).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """How many members moved from each lifecycle state to each other in a period.

    Example: `shequn members flow --from 2026-11-01 --to 2026-12-01`
    """
    from shequn.members.flow import flow_between

    ws = Workspace.open(workspace)
    rows = flow_between(ws, parse_day(start, "--from"), parse_day(end, "--to"))
    table = Table("from", "to", "members")
    for row in rows:
        table.add_row(row.source or "(first)", row.target, f"{row.count:,}")
    console.print(table)


def leaders(
    top: Annotated[int, typer.Option(help="How many to show.")] = 20,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Member keys to leave out (bots).")
    ] = None,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Opinion leaders: PageRank and betweenness of the interaction graph, with reasons.

    Example: `shequn members leaders --top 10 --exclude telegram:bot1`
    """
    import polars as pl

    from shequn.members.graph import leaders as ranked

    ws = Workspace.open(workspace)
    frame = ranked(ws, _when(ws, at), exclude or [])
    _table(frame.head(top).with_columns(pl.col("pagerank", "betweenness", "trend").round(4)))


def seeds(at: AtOpt = "", workspace: WorkspaceOpt = None) -> None:
    """Seed members: active from a community's first month, and in most weeks since.

    Example: `shequn members seeds`
    """
    from shequn.members.graph import seed_members

    ws = Workspace.open(workspace)
    _table(seed_members(ws, _when(ws, at)))


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
    when = datetime.combine(parse_day(cut, "--cut"), time(), ws.settings.zone)
    table = Table("split", "model", "members", "churned", "AUC", "precision@10%", "Brier")
    for split, judged in evaluate_workspace(ws, when).items():
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


def recommend(
    key: Annotated[str, typer.Argument(help="A member key (merged keys show their person).")],
    top: Annotated[int, typer.Option(help="How many items.", min=1, max=50)] = 5,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Content items and activities a member is likely to engage with, best first.

    Example: `shequn members recommend telegram:user42 --top 3`
    """
    from shequn.members.recommend.workspace import recommend as picks

    ws = Workspace.open(workspace)
    person = _person(ws, key)
    table = Table("#", "item", "kind", "title", title=person)
    for i, r in enumerate(picks(ws, _when(ws, at), [person], top)[person], start=1):
        table.add_row(str(i), r.item, r.kind, r.title)
    console.print(table)


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
    when = datetime.combine(parse_day(cut, "--cut"), time(), ws.settings.zone)
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


def _person(ws: Workspace, key: str) -> str:
    from shequn.store.engine import read_transaction
    from shequn.store.members import find

    with read_transaction(ws.engine) as conn:
        found = find(conn, [key])
    if key not in found:
        raise InputError(f"unknown member {key!r}", hint="list them with `shequn members list`")
    return str(found[key]["person"])
