"""`shequn export ...`: the workspace's data in open formats."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, to_stdout, write_stdout
from shequn.export import export_format, formats_text
from shequn.workspace import Workspace

export_app = typer.Typer(help="Export data in open formats.")


@export_app.command("events")
def export_events_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"{formats_text()}.")] = "csv",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file (default: events.<format>; - prints it)."),
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

    Examples:

        shequn export events --format parquet -o events.parquet

        shequn export events --format jsonl -o - | gzip > events.jsonl.gz
    """
    from shequn.services.export import export_events

    chosen = export_format(fmt)
    ws = Workspace.open(workspace)
    if to_stdout(out, chosen.name if chosen.binary else ""):
        # Written whole first: a Parquet file's index comes at its end.
        with tempfile.TemporaryDirectory(prefix="shequn-export-") as folder:
            written = Path(folder) / f"events{chosen.extension}"
            export_events(ws, written, chosen.name, persons=persons, sop=sop)
            write_stdout(written)
        return
    target = out or Path(f"events{chosen.extension}")
    count = export_events(ws, target, chosen.name, persons=persons, sop=sop)
    console.print(f"Wrote {count:,} events to {target}")
