"""Time the generator: ``python -m shequn.simulate --events 10000000``.

Prints the calibration time, the generation time and the events by community and type.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from shequn.simulate.defaults import default_spec
from shequn.simulate.generate import simulate


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, generate, print timings and counts."""
    parser = argparse.ArgumentParser(prog="python -m shequn.simulate", description=__doc__)
    parser.add_argument("--events", type=int, default=None, help="target number of events")
    parser.add_argument("--communities", type=int, default=3, help="number of communities")
    parser.add_argument("--days", type=int, default=90, help="simulated days")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    spec = default_spec(args.communities, args.days, args.seed, args.events)
    calibrated = time.perf_counter()
    counts: Counter[tuple[str, str]] = Counter()
    frames = 0
    for frame in simulate(spec):
        frames += 1
        for community, kind, n in frame.group_by("community", "type").len().iter_rows():
            counts[community, kind] += n
    finished = time.perf_counter()

    total = sum(counts.values())
    generation = finished - calibrated
    print(f"scale: {', '.join(f'{c.key}={c.scale:.3f}' for c in spec.communities)}")
    print(f"calibration: {calibrated - started:.2f} s")
    print(
        f"generation: {total:,} events in {frames} frames, {generation:.2f} s "
        f"({total / max(generation, 1e-9):,.0f} events/s)"
    )
    for community in spec.communities:
        row = {k: n for (c, k), n in sorted(counts.items()) if c == community.key}
        print(
            f"  {community.key}: {sum(row.values()):,}  "
            + "  ".join(f"{k}={n:,}" for k, n in row.items())
        )


if __name__ == "__main__":
    main()
