"""`shequn run` with live adapters as a process the tests can SIGKILL.

Run as `python -m tests.platforms.live_proc WORKSPACE LEASE_TTL_SECONDS`: the same
LiveRun as `shequn run`, with a short lease so a restarted engine takes over quickly.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from shequn.platforms.registry import build
from shequn.services.live_run import LiveRun
from shequn.sop.dispatch import SECOND, Policy
from shequn.workspace import Workspace


def main(root: Path, ttl: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ws = Workspace.open(root)
    adapters = {n: build(n, c, root / "data") for n, c in ws.settings.platforms.items()}
    for adapter in adapters.values():
        adapter.poll_seconds = 2.0  # type: ignore[attr-defined]
    runner = LiveRun(
        ws,
        adapters,
        health_every=1.0,
        reconcile_every=5.0,
        policy=Policy(lease_ttl=int(ttl * SECOND)),
    )
    asyncio.run(runner.run())


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
