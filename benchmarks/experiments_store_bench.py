"""Experiments end to end: `shequn experiments list` reads its results from a workspace.

    python benchmarks/experiments_store_bench.py --members 100000   # builds, then times

A SQLite workspace (kept under /tmp, built once) holds the 20 playbooks of
experiments_bench.py, one `experiment_assigned` event per member (the tick's record)
and 4 messages per member. Timed: `shequn.experiments.results.results` — the
enrolments read from the store, the analytics copy brought up to date (cold: built
from nothing; warm: already current, as for every report after the first) and the
report over it. Run it with another checkout's `src` first on PYTHONPATH to time that
version on the same workspace.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from shequn.clock import FrozenClock, from_micros
from shequn.services.workspace import init_workspace
from shequn.store.schema import events
from shequn.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from experiments_bench import DAY, EXPERIMENTS, NOW, playbook_text

CHUNK = 50_000


def _rows(members: int, rng: np.random.Generator) -> list[dict[str, object]]:
    """Enrolments (holdout 10%) and 4 messages per member, as store rows."""
    held = rng.random(members) < 0.1
    enrolled = NOW - 40 * DAY + rng.integers(0, 20 * DAY, members)
    rows: list[dict[str, object]] = []
    for i in range(members):
        exp = f"p{i % EXPERIMENTS}.s"
        meta = {"experiment": exp, "playbook": f"p{i % EXPERIMENTS}", "step": "s"}
        arm = "holdout" if held[i] else "treated"
        rows.append(_row(int(enrolled[i]), f"telegram:{i}", "experiment_assigned", arm, meta))
    who = rng.integers(0, members, 4 * members)
    when = NOW - 60 * DAY + rng.integers(0, 60 * DAY, 4 * members)
    rows += [
        _row(int(t), f"telegram:{m}", "message", None, None) for m, t in zip(who, when, strict=True)
    ]
    return rows


def _row(
    ts: int, member: str, kind: str, text: str | None, meta: dict[str, str] | None
) -> dict[str, object]:
    return {
        "ts": ts,
        "community": "club",
        "member": member,
        "type": kind,
        "text": text,
        "source": "bench",
        "source_id": f"{kind}|{member}|{ts}",
        "meta": json.dumps(meta) if meta else None,
    }


def build(root: Path, members: int) -> None:
    ws = init_workspace(root, name="bench", timezone="UTC")
    for i in range(EXPERIMENTS):
        (root / "playbooks" / f"p{i}.yaml").write_text(playbook_text(i), encoding="utf-8")
    rows = _rows(members, np.random.default_rng(1))
    with ws.engine.begin() as conn:
        for lo in range(0, len(rows), CHUNK):
            conn.execute(insert(events), rows[lo : lo + CHUNK])
    ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(f"/tmp/shequn-experiments-{args.members}")
    if not root.exists():
        start = time.perf_counter()
        build(root, args.members)
        print(f"(built {root} in {time.perf_counter() - start:.0f} s)")
    from shequn.experiments.results import results

    clock = FrozenClock(from_micros(NOW))
    for label in ("first (cold)", "again (warm)", "again (warm)"):
        ws = Workspace.open(root)
        start = time.perf_counter()
        found = results(ws, clock)
        took = time.perf_counter() - start
        ws.close()
        n = sum(sum(k for _, k in r.counts.values()) for r in found)
        print(f"results {label}: {len(found)} experiments, {n:,} members counted: {took:.2f} s")


if __name__ == "__main__":
    main()
