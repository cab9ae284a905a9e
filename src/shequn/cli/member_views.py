"""What the member commands share: `--at`, a member's person, a frame as a table, and
why a result is empty."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from shequn.cli.output import cell, console, err
from shequn.clock import SystemClock
from shequn.errors import InputError
from shequn.periods import parse_day
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
    if not at:
        return SystemClock().now()
    return datetime.combine(parse_day(at, "--at"), time(), ws.settings.zone)


def frame_table(frame: pl.DataFrame) -> None:
    """The rows of `frame` as a table, each value as `cell` shows it."""
    table = Table(*frame.columns)
    for row in frame.iter_rows():
        table.add_row(*(cell(v) for v in row))
    console.print(table)


# Events this long before an instant asked about suggest a history imported, not a
# live group: an empty result then says which day to ask about instead (`_none`).
_HISTORY = timedelta(days=30)


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
    ended = from_micros(last).astimezone(ws.settings.zone)
    if when - ended > _HISTORY:
        after = (ended + timedelta(days=1)).date()
        err.print(
            f"  its last event is of {ended:%Y-%m-%d}: ask about then with --at {after}",
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
