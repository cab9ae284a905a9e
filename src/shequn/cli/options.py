"""Options shared by every command module of the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from shequn.errors import InputError

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder (default: $SHEQUN_WORKSPACE, or the nearest folder with "
        "shequn.toml above the current one).",
        show_default=False,
    ),
]


def parse_day(value: str, option: str) -> date:
    """A local date given on the command line (`--from 2026-10-01`)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not a date", field=option, hint="write a local date: 2026-10-01"
        ) from None
