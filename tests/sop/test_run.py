"""`shequn run`: ticks, dispatches, logs a health line, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from shequn.clock import SystemClock, to_micros
from shequn.platforms.console import FILE_NAME, deliveries
from shequn.workspace import Workspace
from tests.helpers.paths import ROOT
from tests.helpers.process import child_env
from tests.sop.helpers import queue

RUN = "import typer; from shequn.cli.run import run; typer.run(run)"


def test_run_delivers_logs_health_and_stops_on_sigterm(ws: Workspace) -> None:
    queue(ws, 3, to_micros(SystemClock().now()))
    ws.close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN,
            "--tick-every",
            "0.2",
            "--health-every",
            "0.2",
            "-w",
            str(ws.root),
        ],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    record = ws.root / "data" / FILE_NAME
    deadline = time.monotonic() + 20
    while len(deliveries(record)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert [d["key"] for d in deliveries(record)] == ["k000000", "k000001", "k000002"]
    assert out.count("[club -> m") == 3
    assert "health: lease=held" in err
    assert "kept_events=0" in err  # no playbook: the engine read and kept no events
    assert err.rstrip().endswith("stopped; lease released")
