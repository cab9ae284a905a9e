"""The report (DuckDB over the analytics copy) equals the previous Polars report over
the store's rows (tests/experiments/reference.py) on a seeded workspace: the real tick
assigns the arms of three experiments (one per outcome kind), seeded random messages,
orders and leaves follow, some exactly on a window's edges; compared interim and final."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from shequn.clock import FrozenClock, from_micros, to_micros
from shequn.experiments.results import Result, declared, results
from shequn.services.sop import tick
from shequn.sop.selection import in_force
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace
from tests.experiments import reference
from tests.sop.helpers import add_events, at, write_playbook

PLAYBOOK = """
    name: trial
    applies_to: {communities: ["*"]}
    trigger: {type: member_joined}
    steps:
      - id: hello
        at: "+0m"
        action: {type: send_private, text: "hi"}
        owner: alice
        emergency: {do: "greet them", alert: bob}
        holdout: 30%
        experiment: {outcome: spoke_7d, horizon: +3d}
      - id: offer
        at: "+1h"
        action: {type: send_private, text: "default"}
        owner: alice
        emergency: {do: "greet them", alert: bob}
        variants:
          - {name: plain, text: "an offer"}
          - {name: bold, text: "AN OFFER"}
        experiment: {outcome: first_order_30d, horizon: +5d}
      - id: stay
        at: "+2h"
        action: {type: send_private, text: "stay"}
        owner: alice
        emergency: {do: "greet them", alert: bob}
        holdout: 50%
        experiment: {outcome: retained_30d, horizon: +2d}
"""
START = "2026-11-01T00:00:00+00:00"
DAY_US = 86_400_000_000


def _seed(ws: Workspace, clock: FrozenClock) -> None:
    """300 joins over 6 days in two communities, ticked as they come; then the log."""
    rng = np.random.default_rng(11)
    write_playbook(ws, "trial", PLAYBOOK)
    tick(ws, at(clock, START))
    base = clock.at
    joins = [
        (base + timedelta(seconds=int(s)), ("club", "shop")[i % 2], f"wx:m{i}")
        for i, s in enumerate(sorted(rng.integers(0, 6 * 86_400, 300)))
    ]
    for day in range(7):
        today = [j for j in joins if (j[0] - base).days == day]
        rows = [(t.isoformat(), c, m, "join", "") for t, c, m in today]
        add_events(ws, rows, tag=f"j{day}")
        tick(ws, at(clock, (base + timedelta(days=day + 1)).isoformat()))
    with ws.engine.connect() as conn:
        enrolled = reference.enrolments(conn, ["trial.hello", "trial.offer", "trial.stay"])
    assert enrolled.height == 900  # every member in every experiment
    _outcomes(ws, enrolled["community"].to_list(), enrolled["member"].to_list(), rng)
    edges = enrolled.head(40).iter_rows(named=True)
    add_events(ws, [_edge(i, r) for i, r in enumerate(edges)], tag="edge")


def _outcomes(
    ws: Workspace, communities: list[str], members: list[str], rng: np.random.Generator
) -> None:
    """1,500 seeded messages, orders and leaves of enrolled members around the trial."""
    first = to_micros(datetime.fromisoformat(START))
    picks = rng.integers(0, len(members), 1500)
    kinds = rng.choice(["message", "message", "order", "leave"], 1500)
    stamps = first - 5 * DAY_US + rng.integers(0, 50 * DAY_US, 1500)
    rows = [
        (from_micros(int(ts)).isoformat(), communities[p], members[p], str(k), "")
        for p, k, ts in zip(picks, kinds, stamps, strict=True)
    ]
    add_events(ws, rows, tag="o")


def _edge(i: int, row: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """Events exactly at an enrolment, or exactly at its window's last instant."""
    kind, days = [("message", 7), ("message", 0), ("leave", 30), ("order", 30)][i % 4]
    when = from_micros(row["ts"] + days * DAY_US).isoformat()
    return (when, row["community"], row["member"], kind, "")


def _plain(found: list[Result]) -> str:
    """Results as text, arms in order: NaN (an arm too small to compare) equals itself
    and floats compare exactly (repr round-trips)."""
    return repr(
        [
            replace(
                r, assigned=dict(sorted(r.assigned.items())), counts=dict(sorted(r.counts.items()))
            )
            for r in found
        ]
    )


def test_the_duckdb_report_equals_the_polars_reference(ws: Workspace, clock: FrozenClock) -> None:
    _seed(ws, clock)
    for day in ("2026-11-09", "2026-11-20", "2026-12-20"):  # interim, interim, final
        now = at(clock, f"{day}T00:00:00+00:00")
        got = results(ws, now)
        with read_transaction(ws.engine) as conn:
            found = declared(in_force(conn, ws.root / "playbooks")[0])
            enrolled = reference.enrolments(conn, [d.id for d in found])
            expected = reference.report(conn, found, enrolled, to_micros(now.now()))
        assert _plain(got) == _plain(expected), day
    statuses = [r.status for r in got]
    assert statuses == ["final", "final", "final"]
    # Final: every member enrolled within the horizon counts; the horizons (3, 5 and 2
    # of the 6 days of joins) leave the later newcomers out.
    for r in got:
        assert sum(n for _, n in r.counts.values()) == sum(r.assigned.values()) < 300
    assert all(0 < x < n for r in got for x, n in r.counts.values())  # outcomes vary
