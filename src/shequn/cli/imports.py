"""`shequn import` and `shequn simulate`: the two ways events come into a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, description, err, local_time
from shequn.errors import InputError
from shequn.interrupts import interrupted_late
from shequn.workspace import Workspace

if TYPE_CHECKING:
    from shequn.services.imports import ImportResult


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


def _bytes_bar() -> Progress:
    """A bar of the bytes read so far, on stderr when it is a terminal; gone when done."""
    return Progress(
        description(),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


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
        typer.Option(
            "--map",
            help="Orders column mapping, FIELD=COLUMN[,FIELD=COLUMN] (implies --format orders).",
        ),
    ] = None,
    me: Annotated[
        str,
        typer.Option(
            "--me", help="Your display name in the export, which calls you 'You' (WhatsApp)."
        ),
    ] = "",
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

        shequn import "WhatsApp Chat with Book Club.txt" --me "Mei Lin"
    """
    from shequn.importers import get

    if format_name != "auto":
        get(format_name)  # an unknown name fails here, before anything is read
    ws = Workspace.open(workspace)
    columns = _parse_map(mapping or [])
    for path in paths:
        try:
            result = _import_one(ws, path, format_name, community, columns, me)
        except KeyboardInterrupt:
            # One transaction per file: earlier files are stored, this one is not.
            err.print(f"{escape(str(path))}: interrupted, nothing stored", highlight=False)
            raise typer.Exit(130) from None
        _report(ws, path, result)


def _import_one(
    ws: Workspace, path: Path, format_name: str, community: str, columns: dict[str, str], me: str
) -> ImportResult:
    """One file imported, with a bar of the bytes read."""
    from shequn.services.imports import Progress as ImportProgress
    from shequn.services.imports import import_path

    with _bytes_bar() as bar:
        task = bar.add_task(f"importing {path.name}", total=None)
        return import_path(
            ws,
            path,
            format_name=format_name,
            community=community,
            mapping=columns,
            me=me,
            progress=ImportProgress(
                start=lambda total: bar.update(task, total=total),
                advance=lambda n: bar.advance(task, n),
            ),
        )


def _report(ws: Workspace, path: Path, result: ImportResult) -> None:
    """What one file added; events behind the SOP engine; a Ctrl-C after the commit."""
    communities = ", ".join(result.communities) or "-"
    console.print(
        Text.assemble(
            (str(path), "green"),
            f": {result.added:,} events added, {result.skipped:,} already stored "
            f"({', '.join(result.formats)}; communities: {communities})",
        )
    )
    late, last_tick = result.late
    if late and last_tick is not None:
        err.print(
            f"warning: {late:,} of these events are timed before the SOP engine's last "
            f"tick ({local_time(ws, last_tick)}): their playbook steps run late at the next "
            "tick within the grace, or are recorded as missed (`shequn export events --sop`)",
            highlight=False,
        )
    if interrupted_late():
        err.print(f"interrupted after {escape(str(path))} was stored", highlight=False)
        raise typer.Exit(130)


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
        description(),
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
