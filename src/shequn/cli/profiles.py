"""`shequn members show|list|refresh|flow`: profiles, tiers, lifecycle states, churn risk."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from shequn.cli import findings
from shequn.cli.collector import paused
from shequn.cli.member_views import AtOpt, as_of, frame_table, person_of, say_none
from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import cell, console, stdout_bytes, to_stdout
from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.workspace import Workspace

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("table", "csv", "xlsx", "json")


def register(app: typer.Typer) -> None:
    """Add the member-understanding commands to the `members` group."""
    app.command("show")(show)
    app.command("list")(list_members)
    app.command("refresh")(refresh)
    app.command("flow")(flow)
    app.command("leaders")(findings.leaders)
    app.command("seeds")(findings.seeds)
    app.command("churn-eval")(findings.churn_eval)
    app.command("recommend")(findings.recommend)
    app.command("recommend-eval")(findings.recommend_eval)


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
    person = person_of(ws, key)
    frame = readable(profiles(ws, as_of(ws, at)), ws.settings.timezone)
    frame = frame.filter(pl.col("member") == person)
    if frame.is_empty():
        raise InputError(f"member {key!r} has no events", hint="list members: shequn members list")
    table = Table("figure", "value", title=person)
    for name, value in frame.row(0, named=True).items():
        table.add_row(name, cell(value))
    words = ", ".join(f"{w} ({n})" for w, n in member_texts(ws, person))
    table.add_row("top_keywords", words)
    chosen = picks(ws, as_of(ws, at), [person])[person]
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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File for csv/xlsx/json (default: members.<format>; - prints it)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows in a table.", min=1)] = 50,
    at: AtOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """List member profiles with tier, lifecycle state and churn risk.

    Examples:

        shequn members list --filter "churn_risk > 0.7" --format csv -o care.csv

        shequn members list --format json -o - | jq '.[0]'
    """
    from shequn.members.profiles import LIST_COLUMNS, profiles, readable

    if fmt not in FORMATS:
        raise InputError(
            f"unknown format {fmt!r}", field="--format", hint="use " + ", ".join(FORMATS)
        )
    stdout = fmt != "table" and to_stdout(out, "xlsx" if fmt == "xlsx" else "")
    ws = Workspace.open(workspace)
    when = as_of(ws, at)
    frame = _chosen(profiles(ws, when), community, filter_)
    if fmt == "table":
        frame_table(frame.select(LIST_COLUMNS).head(limit))
        if frame.is_empty():
            asked = [o for o, v in (("--filter", filter_), ("--community", community)) if v]
            why = f"no member matches {' and '.join(asked)}" if asked else "no member yet"
            say_none(ws, when, why)
        return
    target = None if stdout else out or Path(f"members.{fmt}")
    _write(readable(frame, ws.settings.timezone), fmt, target)
    if target is not None:
        console.print(f"Wrote {frame.height:,} members to {target}")


def _chosen(frame: pl.DataFrame, community: str, condition: str) -> pl.DataFrame:
    """The profiles of `community` meeting `condition` (Polars SQL), riskiest first."""
    import polars as pl

    if community:
        frame = frame.filter(pl.col("communities").str.split(",").list.contains(community))
    if condition:
        try:
            frame = frame.filter(pl.sql_expr(condition))
        except Exception as exc:  # Polars raises several kinds for a bad expression
            raise InputError(
                f"bad filter {condition!r}: {exc}",
                field="--filter",
                hint="write SQL over the columns, e.g. \"state = 'silent' AND orders > 0\"",
            ) from None
    return frame.sort("churn_risk", descending=True, nulls_last=True)


def _write(frame: pl.DataFrame, fmt: str, target: Path | None) -> None:
    """The profiles as a file, or on standard output (`target` None); in CSV and XLSX
    no member text is run as a formula."""
    from shequn.spreadsheet import safe

    # Standard output is written as the rows come: a million members are hundreds of MB.
    sink = stdout_bytes() if target is None else target
    if fmt == "json":
        frame.write_json(sink)
    elif fmt == "csv":
        safe(frame).write_csv(sink)
    else:  # openpyxl (a dependency already), streaming rows
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("members")
        sheet.append(frame.columns)
        for row in safe(frame).iter_rows():
            sheet.append(list(row))
        book.save(sink)
    if target is None:
        sys.stdout.buffer.flush()


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
    if not rows:
        say_none(
            ws,
            None,
            f"no lifecycle moves recorded from {start} to {end}: `shequn members refresh` "
            "records them (run it daily)",
        )
