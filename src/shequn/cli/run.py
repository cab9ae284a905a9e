"""`shequn run`: the SOP engine in the foreground, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from typing import Annotated

import typer

from shequn.cli.options import WorkspaceOpt
from shequn.platforms.base import Platform
from shequn.workspace import Workspace


def run(
    tick_every: Annotated[float, typer.Option(help="Seconds between ticks.")] = 60.0,
    health_every: Annotated[float, typer.Option(help="Seconds between health lines.")] = 60.0,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the SOP engine: tick, dispatch the outbox; stop cleanly on SIGTERM or Ctrl-C.

    With live platforms ([platforms.NAME], see `shequn platforms add`), their listeners
    run in the same process: events are stored as they arrive (and wake the engine),
    messages to bound communities go through them, and each adapter has a health line.
    Other deliveries go to the console and to data/console-deliveries.jsonl.

    Example: `shequn run --tick-every 30`
    """
    from shequn.platforms.console import FILE_NAME, ConsolePlatform
    from shequn.services.sop import Engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ws = Workspace.open(workspace)
    platform = ConsolePlatform(ws.root / "data" / FILE_NAME, echo=sys.stdout)
    if ws.settings.platforms:
        _run_live(ws, platform, tick_every, health_every)
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Engine(ws, {"console": platform}, tick_every=tick_every, health_every=health_every).run(stop)


def _run_live(
    ws: Workspace, console_platform: Platform, tick_every: float, health_every: float
) -> None:
    """Listeners, bots, tick and dispatcher in one asyncio process (services.live_run)."""
    from shequn.bot.runner import runners
    from shequn.clock import SystemClock
    from shequn.platforms.registry import build
    from shequn.services.live_run import LiveRun

    adapters = {
        name: build(name, config, ws.root / "data")
        for name, config in ws.settings.platforms.items()
    }
    runner = LiveRun(
        ws,
        adapters,
        {"console": console_platform},
        tick_every=tick_every,
        health_every=health_every,
        bots=runners(ws, adapters, SystemClock()),
    )
    asyncio.run(runner.run())
