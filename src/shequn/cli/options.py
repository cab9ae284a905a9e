"""Options shared by every command module of the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
