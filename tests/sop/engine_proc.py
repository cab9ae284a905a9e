"""An engine process for the crash tests: drain the outbox until nothing is waiting.

Run as `python -m tests.sop.engine_proc WORKSPACE LEASE_TTL_SECONDS`. The test kills it
with SIGKILL at random moments and starts it again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from shequn.clock import SystemClock
from shequn.platforms.console import ConsolePlatform
from shequn.services.sop import holder_name
from shequn.sop import lease
from shequn.sop.dispatch import SECOND, Dispatcher, LeaseLost, Policy
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import outbox
from shequn.workspace import Workspace


def main(root: Path, ttl: float) -> None:
    ws = Workspace.open(root)
    console = ConsolePlatform(root / "data" / "console.jsonl")
    policy = Policy(batch=200, lease_ttl=int(ttl * SECOND))
    dispatcher = Dispatcher(ws.engine, {"console": console}, SystemClock(), holder_name(), policy)
    print("ready", flush=True)  # the crash test starts its kill clock here
    while True:
        try:
            outcome = dispatcher.drain_once()
        except LeaseLost:
            continue
        if outcome.leased and outcome.done == 0:
            with ws.engine.connect() as conn:
                waiting = conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.state == "pending")
                )
            if waiting == 0:
                with write_transaction(ws.engine) as conn:
                    lease.release(conn, lease.ENGINE_LEASE, dispatcher.holder)
                return
        if not outcome.leased:
            time.sleep(0.05)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
