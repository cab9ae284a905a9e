"""Participation facts of the simulator, or of a real export, side by side (by hand).

    python benchmarks/sim_facts.py                    # the default simulation
    python benchmarks/sim_facts.py --days 180 --seed 7
    python benchmarks/sim_facts.py --events events.parquet
    python benchmarks/sim_facts.py --senders-only     # as an export without joins sees it

The second form measures a real export: import it into a scratch workspace outside
the repository (``shequn init /tmp/ws && shequn import EXPORT -w /tmp/ws``), write its
event log with ``shequn export events -f parquet -o events.parquet -w /tmp/ws`` and
pass that file. Only figures are printed, never member names or text.

``--senders-only`` keeps only the messages, so members are known only from what they
wrote: the way an export without join and leave lines sees a group. Its monthly active
rate is then "senders of the month ÷ everyone who had written by then", and it is the
one to compare with such an export.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from shequn.simulate import default_spec, simulate
from shequn.simulate.facts import Facts, facts, senders_only


def simulated(days: int, seed: int) -> pl.DataFrame:
    """The default simulation's events, with its generation speed printed."""
    spec = default_spec(days=days, seed=seed)
    began = time.perf_counter()
    events = pl.concat(list(simulate(spec)))
    took = time.perf_counter() - began
    print(f"{events.height:,} events in {took:.2f} s ({events.height / took:,.0f} events/s)")
    return events


def exported(path: Path) -> pl.DataFrame:
    """An event log written by ``shequn export events -f parquet``."""
    frame = pl.read_parquet(path, columns=["community", "member", "type", "ts"])
    if frame.schema["ts"] == pl.String:
        frame = frame.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))
    return frame


def table(rows: list[Facts]) -> str:
    """The facts as a Markdown table."""
    lines = [
        "| community | windows | members | messages | monthly active | top-10% share "
        "| median per sender |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {f.community} | {f.windows} | {f.members:,.0f} | {f.messages:,} "
        f"| {f.active_rate:.1%} | {f.top10_share:.1%} | {f.median_per_sender:.1f} |"
        for f in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=Path, help="a parquet event log to measure instead")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--senders-only", action="store_true", help="members known only from their messages"
    )
    args = parser.parse_args()
    events = exported(args.events) if args.events else simulated(args.days, args.seed)
    if args.senders_only:
        events = senders_only(events)
    print(table(facts(events)))


if __name__ == "__main__":
    main()
