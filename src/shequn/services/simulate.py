"""Storing a simulated history in a workspace (the demo and the benchmarks use it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shequn.clock import Clock, SystemClock
from shequn.importers.pipeline import frames
from shequn.services import audit
from shequn.services.imports import ImportResult, store_frames
from shequn.store.engine import write_transaction
from shequn.workspace import Workspace


def simulate_into(
    ws: Workspace,
    *,
    communities: int = 3,
    days: int = 90,
    events: int | None = None,
    seed: int = 42,
    advance: Callable[[int], None] = lambda _n: None,
    clock: Clock | None = None,
) -> ImportResult:
    """Generate a history and append it in one transaction (idempotent by seed)."""
    from shequn.simulate import default_spec, simulate

    clock = clock or SystemClock()
    spec = default_spec(n_communities=communities, days=days, seed=seed, target_events=events)

    def counted():  # type: ignore[no-untyped-def]
        for frame in simulate(spec):
            advance(frame.height)
            yield frame

    seen: set[str] = set()
    with write_transaction(ws.engine) as conn:
        read, added = store_frames(conn, frames(counted(), "simulate"), "simulate", None, seen)
        audit.record(conn, clock, "simulate", seed=seed, days=days, read=read, added=added)
    return ImportResult(
        path=str(Path("simulate")), formats=("simulate",), read=read, added=added,
        communities=tuple(sorted(seen)),
    )
