"""What the member commands share: `--at`, a member's person, a frame as a table, and
why a result is empty."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shequn.cli.output import cell, console, err
from shequn.clock import SystemClock
from shequn.errors import InputError
from shequn.periods import day_start, history_ended
from shequn.workspace import Workspace

if TYPE_CHECKING:
    import polars as pl

AtOpt = Annotated[
    str,
    typer.Option(
        "--at",
        help="Profiles as of the start of this local day (default: now).",
        show_default=False,
    ),
]


def as_of(ws: Workspace, at: str) -> datetime:
    """The instant of `--at` (a local day's midnight), or now."""
    return day_start(at, "--at", ws.settings.zone) if at else SystemClock().now()


def frame_table(frame: pl.DataFrame) -> None:
    """The rows of `frame` as a table, each value as `cell` shows it."""
    table = Table(*frame.columns)
    for row in frame.iter_rows():
        table.add_row(*(cell(v) for v in row))
    console.print(table)


def say_none(ws: Workspace, when: datetime | None, why: str) -> None:
    """Say why a result is empty, on standard error (a pipe reads only results); when
    the workspace's events end long before `when` (an imported history), name the
    day after its last one to ask about with `--at`."""
    from shequn.clock import from_micros, to_micros
    from shequn.store.engine import read_transaction
    from shequn.store.events import latest_ts

    err.print(escape(why), highlight=False)
    if when is None:
        return
    with read_transaction(ws.engine) as conn:
        last = latest_ts(conn, to_micros(when))
    if last is None:
        err.print("  the workspace has no event before then: import one (shequn import)")
        return
    zone = ws.settings.zone
    ended = history_ended(from_micros(last).astimezone(zone).date(), when.astimezone(zone).date())
    if ended.end is not None:
        err.print(
            f"  its last event is of {ended.end}: ask about then with --at {ended.after}",
            highlight=False,
        )


def person_of(ws: Workspace, key: str) -> str:
    from shequn.store.engine import read_transaction
    from shequn.store.members import find

    with read_transaction(ws.engine) as conn:
        found = find(conn, [key])
    if key not in found:
        raise InputError(f"unknown member {key!r}", hint="list them with `shequn members list`")
    return str(found[key]["person"])
