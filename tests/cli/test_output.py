"""What the CLI's consoles show: member and file names as written."""

from __future__ import annotations

from io import StringIO

from rich.console import Console
from rich.progress import Progress

from shequn.cli.output import description

NAME = "importing WhatsApp Chat with [/]Team [link=http://x.invalid]:fire:.txt"


def test_a_progress_bar_shows_its_description_as_written() -> None:
    # A WhatsApp export is named after its group, whose name any member may set.
    out = StringIO()
    terminal = Console(file=out, force_terminal=True, width=200, color_system=None)
    with Progress(description(), console=terminal) as bar:
        bar.add_task(NAME, total=None)
        bar.refresh()
    assert NAME in out.getvalue()


def test_the_import_bar_shows_the_file_name_as_written() -> None:
    from shequn.cli.imports import _bytes_bar

    out = StringIO()
    terminal = Console(file=out, force_terminal=True, width=300, color_system=None)
    with Progress(*_bytes_bar().columns, console=terminal) as bar:
        bar.add_task(NAME, total=100)
        bar.refresh()
    assert NAME in out.getvalue()
