"""The `shequn` command line. Commands parse input, call a service, shape the output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from shequn import __version__, cli_analytics, cli_lifecycle, cli_members, cli_review, cli_sop
from shequn.cli_options import WorkspaceOpt
from shequn.clock import from_micros
from shequn.errors import InputError, ShequnError
from shequn.workspace import Workspace

app = typer.Typer(
    help="shequn (社群): run and measure online communities.\n\n"
    "Start with `shequn init DIR`, then `shequn import EXPORT` or `shequn simulate`, "
    "then `shequn status`.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
members_app = typer.Typer(
    help="Members: profiles, tiers, lifecycle states, churn risk; merge one person's accounts."
)
export_app = typer.Typer(help="Export data in open formats.")
app.add_typer(members_app, name="members")
app.add_typer(export_app, name="export")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


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


def _local(ws: Workspace, us: int | None) -> str:
    if us is None:
        return "-"
    return from_micros(us).astimezone(ws.settings.zone).strftime("%Y-%m-%d %H:%M")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    name: Annotated[str, typer.Option(help="Workspace name (default: the folder's name).")] = "",
    timezone: Annotated[
        str, typer.Option(help="IANA time zone for days and weeks.")
    ] = "Asia/Shanghai",
    currency: Annotated[str, typer.Option(help="Currency of order amounts.")] = "CNY",
    language: Annotated[str, typer.Option(help="Report language: zh_CN or en.")] = "zh_CN",
) -> None:
    """Create a workspace: shequn.toml, playbooks/, content/, data/.

    Example: `shequn init ~/communities --timezone Asia/Shanghai`
    """
    from shequn.services.workspace import init_workspace

    ws = init_workspace(
        directory, name=name, timezone=timezone, currency=currency, language=language
    )
    console.print(f"Created workspace [bold]{ws.root}[/]")
    console.print(f"  settings: {ws.root / 'shequn.toml'} (edit communities and goals there)")
    console.print(f"  database: {ws.database_url}")
    console.print("Next: `shequn import EXPORT` or `shequn simulate`, then `shequn status`.")


def _parse_map(values: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            field, sep, column = pair.partition("=")
            if not sep or not field.strip() or not column.strip():
                raise InputError(
                    f"{pair!r} is not FIELD=COLUMN",
                    field="--map",
                    hint="write --map order_id=InvoiceNo,member=CustomerID",
                )
            mapping[field.strip()] = column.strip()
    return mapping


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Export files, folders or zips.")],
    community: Annotated[
        str, typer.Option("--community", "-c", help="Community key to file the events under.")
    ] = "",
    format_name: Annotated[
        str, typer.Option("--format", "-f", help="Format name, or auto to detect.")
    ] = "auto",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="Orders CSV column mapping, FIELD=COLUMN[,FIELD=COLUMN]."),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Append the events of chat exports and order files to the workspace.

    Formats (detected): canonical CSV/JSON Lines, WhatsApp .txt/.zip, Telegram
    result.json, DiscordChatExporter JSON/CSV, Slack export zip/folder, QQ .txt,
    WeChat CSV (MemoTrace), orders CSV. Each import is all or nothing; importing the
    same export again adds nothing twice.

    Examples:

        shequn import "WhatsApp Chat with Book Club.zip" --community book-club

        shequn import result.json

        shequn import orders.csv -c shop-fans --map order_id=订单号,member=买家,amount=实付金额
    """
    from shequn.importers import registry
    from shequn.services.imports import Progress as ImportProgress
    from shequn.services.imports import import_path

    if format_name != "auto" and format_name not in registry():
        raise InputError(
            f"unknown format {format_name!r}",
            field="--format",
            hint="use one of: auto, " + ", ".join(registry()),
        )
    ws = Workspace.open(workspace)
    columns = _parse_map(mapping or [])
    for path in paths:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(f"importing {path.name}", total=None)
            result = import_path(
                ws,
                path,
                format_name=format_name,
                community=community,
                mapping=columns,
                progress=ImportProgress(
                    start=lambda total, t=task: bar.update(t, total=total),
                    advance=lambda n, t=task: bar.advance(t, n),
                ),
            )
        communities = ", ".join(result.communities) or "-"
        console.print(
            f"[green]{escape(str(path))}[/]: {result.added:,} events added, "
            f"{result.skipped:,} already stored ({', '.join(result.formats)}; "
            f"communities: {escape(communities)})"
        )


@app.command()
def simulate(
    communities: Annotated[int, typer.Option(help="How many communities.", min=1, max=50)] = 3,
    days: Annotated[int, typer.Option(help="How many days of history.", min=1, max=3650)] = 90,
    events: Annotated[
        int | None,
        typer.Option(help="Aim for about this many events (1,000 to 10,000,000).", min=100),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same history.")
    ] = 42,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a realistic synthetic history to the workspace (for demos and benchmarks).

    Members have propensities and a lifecycle: they arrive from channels and through
    invitations, talk in a daily rhythm, reply, react, check in, click content, buy and
    buy again, drift away and leave. Deterministic by --seed; running it twice adds
    nothing twice.

    Example: `shequn simulate --communities 3 --days 90 --seed 7`
    """
    from shequn.services.simulate import simulate_into

    ws = Workspace.open(workspace)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        "{task.completed:,} events",
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("simulating", total=events)
        result = simulate_into(
            ws,
            communities=communities,
            days=days,
            events=events,
            seed=seed,
            advance=lambda n: bar.advance(task, n),
        )
    console.print(
        f"Simulated {result.read:,} events ({result.added:,} new) in "
        f"{', '.join(result.communities)}"
    )


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """What the workspace holds: communities, members, events by type and source, dates.

    Example: `shequn status --json | jq .events`
    """
    from shequn.store.engine import read_transaction
    from shequn.store.events import overview

    ws = Workspace.open(workspace)
    with read_transaction(ws.engine) as conn:
        view = overview(conn)
    if as_json:
        payload = {
            "workspace": ws.settings.name,
            "database": ws.engine.url.render_as_string(hide_password=True),
            "events": view.events,
            "first": _local(ws, view.first_ts) if view.first_ts else None,
            "last": _local(ws, view.last_ts) if view.last_ts else None,
            "members": view.members,
            "persons": view.persons,
            "by_type": view.by_type,
            "by_source": view.by_source,
            "communities": [
                {**c, "first_ts": _local(ws, c["first_ts"]), "last_ts": _local(ws, c["last_ts"])}
                for c in view.communities
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"[bold]{ws.settings.name}[/]  ({ws.settings.timezone})")
    console.print(
        f"{view.events:,} events from {_local(ws, view.first_ts)} to {_local(ws, view.last_ts)}; "
        f"{view.members:,} member keys, {view.persons:,} persons"
    )
    table = Table("community", "events", "members", "first", "last", title="Communities")
    for c in view.communities:
        table.add_row(
            c["community"],
            f"{c['events']:,}",
            f"{c['members']:,}",
            _local(ws, c["first_ts"]),
            _local(ws, c["last_ts"]),
        )
    console.print(table)
    kinds = Table("type", "events", title="By type")
    for name, count in view.by_type.items():
        kinds.add_row(name, f"{count:,}")
    sources = Table("source", "events", title="By source")
    for name, count in view.by_source.items():
        sources.add_row(name, f"{count:,}")
    console.print(kinds)
    console.print(sources)


@export_app.command("events")
def export_events_cmd(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl or parquet.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: events.<format>).")
    ] = None,
    persons: Annotated[
        bool, typer.Option(help="Replace merged member keys by their person's key.")
    ] = False,
    sop: Annotated[
        bool,
        typer.Option(
            "--sop", help="Include the SOP engine's own events (these do not import back)."
        ),
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the event log in the canonical form (re-importable with `shequn import`).

    Example: `shequn export events --format parquet -o events.parquet`
    """
    from shequn.export import export_events
    from shequn.store.engine import read_transaction

    if fmt not in ("csv", "jsonl", "parquet"):
        raise InputError(
            f"unknown format {fmt!r}", field="--format", hint="use csv, jsonl or parquet"
        )
    ws = Workspace.open(workspace)
    target = out or Path(f"events.{fmt}")
    with read_transaction(ws.engine) as conn:
        count = export_events(conn, target, fmt, persons=persons, sop=sop)  # type: ignore[arg-type]
    console.print(f"Wrote {count:,} events to {target}")


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


# Commands defined in their own modules, listed after the ones above in --help.
app.command("metrics")(cli_analytics.metrics)
app.command("review")(cli_review.review)
app.add_typer(cli_sop.sop_app, name="sop")
app.add_typer(cli_sop.tasks_app, name="tasks")
app.command("run")(cli_sop.run)
app.add_typer(cli_lifecycle.lifecycle_app, name="lifecycle")
cli_members.register(members_app)


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
