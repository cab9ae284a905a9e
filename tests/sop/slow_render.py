"""An engine process whose renders can be held: one tick, with an action kind `slow`.

Run as `python -m tests.sop.slow_render WORKSPACE GATE HOLDER ISO_INSTANT` (HOLDER `-`:
a tick without a lease, as `shequn sop tick`). The kind is added through the registry's
extension point (`sop.kinds.register`, before the playbook model is built, as any
plugin would). Its first render in the process creates GATE/rendering and waits (at
most `WAIT` s) for GATE/go; each row's payload says whether GATE/go existed when it
rendered, so the test can tell what happened while the tick was rendering. The tick's
result is printed as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from shequn.sop.kinds import PLATFORM_DELIVERY, ActionKind, Context, register
from shequn.sop.model_base import Strict
from shequn.sop.render import render

WAIT = 30.0  # s: longer than any write the test makes while the render waits
_held: list[bool] = []  # set once the first render has waited


class Slow(Strict):
    type: Literal["slow"]
    text: str


def _payload(action: Slow, values: dict[str, Any], _ctx: Context) -> dict[str, Any]:
    gate = Path(sys.argv[2])
    if not _held:
        _held.append(True)
        (gate / "rendering").touch()
        deadline = time.monotonic() + WAIT
        while not (gate / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    return {"text": render(action.text, values), "go_before_render": (gate / "go").exists()}


register(ActionKind("slow", Slow, "member", PLATFORM_DELIVERY, _payload))


def main(root: Path, holder: str, instant: str) -> None:
    from shequn.clock import FrozenClock
    from shequn.services.sop import tick
    from shequn.workspace import Workspace

    ws = Workspace.open(root)
    clock = FrozenClock(datetime.fromisoformat(instant))
    result = tick(ws, clock, holder=None if holder == "-" else holder)
    ws.close()
    fields = ("leased", "superseded", "due", "queued", "late_events")
    print(json.dumps({name: getattr(result, name) for name in fields}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[3], sys.argv[4])
