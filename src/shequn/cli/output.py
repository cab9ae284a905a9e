"""Where the CLI writes: one console for results, one for errors and progress bars.

Both follow `sys.stdout` / `sys.stderr` as they are when printing, so tests that
swap them (Typer's CliRunner) see the output.

Results show what members, operators and platforms wrote (names, tags, keywords,
titles, questions) as written: `console` reads no Rich markup and no emoji codes in
what it prints, so a "[/]" in a member's name is text, not a tag (nor a crash). Style
a result with `style=` or `rich.text.Text`. `err` reads markup for its own styles and
escapes what it shows (`rich.markup.escape`); neither reads emoji codes, so an error
names a member key as it must be typed again.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from shequn.clock import from_micros
from shequn.errors import InputError

if TYPE_CHECKING:
    from shequn.workspace import Workspace

console = Console(soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)
# The width of results where nothing tells Rich the reader's: it would fit a table to 80
# columns and cut every cell to "me…". Tables print at their natural width instead.
NATURAL_WIDTH = 10_000


def natural_width_without_terminal() -> None:
    """Print results at their natural width when no standard stream is a terminal and
    $COLUMNS is unset: cron mail, CI logs, a script's file (`shequn.cli.main`, once).
    A terminal, or $COLUMNS, keeps Rich's own choice."""
    streams = (sys.stdin, sys.stdout, sys.stderr)
    if not os.environ.get("COLUMNS") and not any(_is_terminal(s) for s in streams):
        console.width = NATURAL_WIDTH


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed, or detached
        return False


# `--out -`: the standard output, as Unix tools read a file named "-".
STDOUT = Path("-")


def to_stdout(out: Path | None, binary: str = "") -> bool:
    """Whether `--out` asks for the standard output (`-o -`, to pipe a result on).

    `binary` names a binary format (xlsx, parquet): that goes there only when it is
    not a terminal, which would show its bytes as noise.

    Raises:
        InputError: a binary format asked for on a terminal.
    """
    if out != STDOUT:
        return False
    if binary and _is_terminal(sys.stdout):
        raise InputError(
            f"{binary} is a binary format and the standard output is a terminal",
            field="--out",
            hint=f"name a file (-o result.{binary}) or send it on: -o - > result.{binary}",
        )
    return True


def stdout_bytes() -> io.BufferedWriter:
    """The standard output to write bytes to, after what was printed to it as text."""
    sys.stdout.flush()
    return cast(io.BufferedWriter, sys.stdout.buffer)  # typed BinaryIO


def write_stdout(body: str | bytes | Path) -> None:
    """Write a result to the standard output as it is: text as UTF-8, bytes, or a
    file's bytes (copied in blocks, however large)."""
    sink = stdout_bytes()
    if isinstance(body, Path):
        with body.open("rb") as source:
            shutil.copyfileobj(source, sink)
    else:
        sink.write(body.encode("utf-8") if isinstance(body, str) else body)
    sink.flush()


def cell(value: object) -> str:
    """A value as a table shows it: empty for none, a fraction to four decimals
    (an idle time of 462.61104335390047 days shows as 462.611), the rest as written."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{round(value, 4):,}"
    return str(value)


def description() -> TextColumn:
    """A progress bar's column of its task's description, shown as written (a file's
    name, such as a WhatsApp export's with its group's name, may hold "[")."""
    return TextColumn("{task.description}", style="progress.description", markup=False)


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


def synced(ws: Workspace) -> None:
    """Bring the analytics copy up to date before a command reads it, with a progress
    bar on stderr when that takes a while (a cold build after a large import)."""
    from shequn.analytics.sync import LARGE_CATCH_UP, sync

    bar = Progress(
        description(),
        BarColumn(),
        "{task.completed:,}/{task.total:,} events",
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    task: list[TaskID] = []

    def progress(done: int, total: int) -> None:
        if not task and total > LARGE_CATCH_UP:
            bar.start()
            task.append(bar.add_task("analytics copy", total=total))
        if task:
            bar.update(task[0], completed=done)

    try:
        sync(ws, progress)
    finally:
        bar.stop()
