"""Storing a simulated history in a workspace (the demo and the benchmarks use it)."""

from __future__ import annotations

from collections.abc import Callable

from shequn.clock import Clock, SystemClock
from shequn.importers.pipeline import frames
from shequn.services import audit
from shequn.services.imports import ImportResult
from shequn.services.sink import open_sink
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
    with open_sink(ws) as sink:
        for frame in frames(simulate(spec), "simulate"):
            sink.add(frame, "simulate")
            advance(frame.height)
        with sink.commit() as conn:
            audit.record(
                conn, clock, "simulate", seed=seed, days=days, read=sink.staged, added=sink.added
            )
    return ImportResult(
        path="simulate",
        formats=("simulate",),
        read=sink.staged,
        added=sink.added,
        communities=tuple(sorted(sink.seen.communities)),
    )
