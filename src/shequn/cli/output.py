"""Where the CLI writes: one console for results, one for errors and progress bars.

Both follow `sys.stdout` / `sys.stderr` as they are when printing, so tests that
swap them (Typer's CliRunner) see the output.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console

from shequn.clock import from_micros
from shequn.workspace import Workspace

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def local_time(ws: Workspace, when: datetime | int | None) -> str:
    """`when` in the workspace's time zone, to the minute: ``2026-10-01 09:30``.

    Args:
        ws: the workspace, whose zone is used.
        when: an aware datetime, µs since the epoch, or None (shown as ``-``).
    """
    if when is None:
        return "-"
    moment = from_micros(when) if isinstance(when, int) else when
    return moment.astimezone(ws.settings.zone).strftime("%Y-%m-%d %H:%M")
