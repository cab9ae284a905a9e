"""`shequn run`: the SOP engine in the foreground, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Annotated

import typer

from shequn.cli.options import WorkspaceOpt
from shequn.workspace import Workspace


def run(
    tick_every: Annotated[float, typer.Option(help="Seconds between ticks.")] = 60.0,
    health_every: Annotated[float, typer.Option(help="Seconds between health lines.")] = 60.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the SOP engine: tick, dispatch the outbox; stop cleanly on SIGTERM or Ctrl-C.

    Deliveries go to the console and to data/console-deliveries.jsonl in this release.

    Example: `shequn run --tick-every 30`
    """
    from shequn.platforms.console import FILE_NAME, ConsolePlatform
    from shequn.services.sop import Engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ws = Workspace.open(workspace)
    platform = ConsolePlatform(ws.root / "data" / FILE_NAME, echo=sys.stdout)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Engine(ws, {"console": platform}, tick_every=tick_every, health_every=health_every).run(stop)
