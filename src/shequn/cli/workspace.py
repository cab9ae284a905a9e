"""`shequn init` and `shequn status`: create a workspace, and say what it holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, local_time
from shequn.redact import redact
from shequn.workspace import Workspace

if TYPE_CHECKING:
    from shequn.store.events import Overview


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
    console.print(Text.assemble("Created workspace ", (str(ws.root), "bold")))
    console.print(f"  settings: {ws.root / 'shequn.toml'} (edit communities and goals there)")
    console.print(f"  database: {redact(ws.database_url)}")
    console.print("Next: `shequn import EXPORT` or `shequn simulate`, then `shequn status`.")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """What the workspace holds: communities, members, events by type and source, dates.

    Example: `shequn status --json | jq .events`
    """
    from shequn.services.workspace import overview

    ws = Workspace.open(workspace)
    view = overview(ws)
    if as_json:
        sys.stdout.write(json.dumps(_status_json(ws, view), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_status(ws, view)


def _status_json(ws: Workspace, view: Overview) -> dict[str, Any]:
    return {
        "workspace": ws.settings.name,
        "database": redact(ws.engine.url),
        "events": view.events,
        "first": local_time(ws, view.first_ts) if view.first_ts else None,
        "last": local_time(ws, view.last_ts) if view.last_ts else None,
        "members": view.members,
        "persons": view.persons,
        "by_type": view.by_type,
        "by_source": view.by_source,
        "communities": [
            {
                **c,
                "first_ts": local_time(ws, c["first_ts"]),
                "last_ts": local_time(ws, c["last_ts"]),
            }
            for c in view.communities
        ],
    }


def _print_status(ws: Workspace, view: Overview) -> None:
    first, last = local_time(ws, view.first_ts), local_time(ws, view.last_ts)
    console.print(Text.assemble((ws.settings.name, "bold"), f"  ({ws.settings.timezone})"))
    console.print(
        f"{view.events:,} events from {first} to {last}; "
        f"{view.members:,} member keys, {view.persons:,} persons"
    )
    table = Table("community", "events", "members", "first", "last", title="Communities")
    for c in view.communities:
        table.add_row(
            c["community"],
            f"{c['events']:,}",
            f"{c['members']:,}",
            local_time(ws, c["first_ts"]),
            local_time(ws, c["last_ts"]),
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
