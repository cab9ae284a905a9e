"""Whole-process benchmark of `shequn members refresh`: what a cron job waits for.

`members_bench.py` times `members.profiles.assemble` in one process on an in-memory
copy; this one times the command a user runs, each run a new process at the wall
clock's instant, on a workspace with a SQLite store (issue 14: a refresh after 10,000
new events under 10% of the cold run at 1M members / 10M events). Steps, each a child
process:

1. the workspace: `store_gen.store_into` (members join in three communities, then
   heavy-tailed messages, replies, reactions, check-ins and orders over a year) with
   members_bench.py's two tiers in its settings, built once into ROOT/built with a
   marker of its arguments and reused when they match; each run works on a fresh copy
   of it (ROOT/run), so every run starts alike. The year ends at the start of the day
   the bench runs (Asia/Shanghai, the generator's zone): a log holds no event dated
   after the clock, and a run on another day measures the same history at the same
   distance from its end (the marker holds the start, so a new day generates anew);
2. `shequn members refresh`, the first run: builds the analytics copy, decides every
   member and records every member's tier and state (the events it recorded printed);
3. `shequn members refresh --cold`: the cold baseline (the copy exists; every figure
   recomputed, the churn model refitted);
4. 10,000 new events appended to the store as an import does (`store_gen`'s
   activity of existing members spread over the same year, replies to the messages before
   them, new source ids; validated by the import pipeline, stored through
   `store.bulk.EventSink`; with `--in-pass` through the import's sink, which brings the
   analytics copy up to date in the same pass);
5. `shequn members refresh`: the refresh after the new events.

Each child's wall time (time.perf_counter around the process) and peak RSS
(`os.wait4`'s ru_maxrss: this runner imports nothing heavy, so a child does not inherit
a large high-water mark from it, see peak.py) are printed, with `refresh / cold`. The
command lines are printed so each step can be rerun by hand; `--profile DIR` runs each
refresh under cProfile (so slower) and prints its slowest shequn functions.

    python benchmarks/members_cli_bench.py                    # 100k members, 1M events
    python benchmarks/members_cli_bench.py --members 1000000 --events 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DATA = Path(__file__).resolve().parent / ".data"
NEW_EVENTS = 10_000
SEED = 7
# The tiers members_bench.py decides: one with a window, one with a grace period too.
TIERS = """
[[tiers]]
name = "regular"
min_days_active = 5
window_days = 30

[[tiers]]
name = "buyer"
min_orders = 2
window_days = 30
grace_days = 14
"""
# The generated workspace's zone (store_gen.START's): its year ends at a midnight there.
ZONE = ZoneInfo("Asia/Shanghai")
RECORDED = re.compile(r"([\d,]+) tier changes, ([\d,]+) state changes, ([\d,]+) churn-risk")


@dataclass(frozen=True)
class Run:
    """One child process: its wall time, peak RSS and standard output."""

    seconds: float
    peak_mb: float
    output: str


def run(command: list[str]) -> Run:
    """Run a command as a child process (its stderr passed through), timed."""
    print(f"$ {shlex.join(command)}", flush=True)
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    print(output, end="", flush=True)
    if child.returncode != 0:
        raise SystemExit(f"exit status {child.returncode} from: {shlex.join(command)}")
    return Run(seconds, usage.ru_maxrss / 1024, output)


def history_start() -> datetime:
    """The first instant of a year of history that ends at the start of today."""
    today = datetime.now(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=365)


def step(name: str, root: Path, args: argparse.Namespace) -> list[str]:
    """The command line running one of this file's steps in a child process."""
    sizes = ["--members", str(args.members), "--events", str(args.events)]
    in_pass = ["--in-pass"] if args.in_pass else []
    start = ["--start", args.start.isoformat()]
    return [sys.executable, __file__, "--step", name, "--root", str(root), *sizes, *start, *in_pass]


def refresh(name: str, ws: Path, args: argparse.Namespace, *options: str) -> tuple[Run, str]:
    """`shequn members refresh` in a child process (under cProfile with --profile, its
    slowest shequn functions printed), with the events it recorded."""
    profile = args.profile / f"{name}.prof" if args.profile else None
    profiled = ["-m", "cProfile", "-o", str(profile)] if profile else []
    command = ["-m", "shequn", "members", "refresh", *options, "-w", str(ws)]
    done = run([sys.executable, *profiled, *command])
    if profile:
        import pstats

        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(r"shequn/", 15)
    return done, f"{recorded(done.output):,} events recorded"


def workspace(root: Path, args: argparse.Namespace) -> Path:
    """A fresh copy of the generated workspace (generated first unless ROOT holds one
    with the same arguments)."""
    built, marker, copy = root / "built", root / "built.json", root / "run"
    wanted = {
        "members": args.members,
        "events": args.events,
        "seed": SEED,
        "tiers": TIERS,
        "start": args.start.isoformat(),
    }
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        marker.unlink(missing_ok=True)
        shutil.rmtree(built, ignore_errors=True)
        shutil.rmtree(copy, ignore_errors=True)
        done = run(step("build", built, args))
        print(f"workspace generated: {done.seconds:.1f} s, peak {done.peak_mb:,.0f} MB")
        marker.write_text(json.dumps(wanted))
    else:
        print(f"reusing {built} ({marker.name}: the same members, events and tiers)")
    began = time.perf_counter()
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(built, copy)
    print(f"copied to {copy} in {time.perf_counter() - began:.1f} s", flush=True)
    return copy


def build(root: Path, args: argparse.Namespace) -> None:
    """Step 1 (child): generate the workspace, with TIERS in its settings."""
    from shequn.config import SETTINGS_FILE
    from store_gen import store_into

    store_into(root, args.members, args.events, SEED, args.start)
    with (root / SETTINGS_FILE).open("a", encoding="utf-8") as settings:
        settings.write(TIERS)


def append(root: Path, args: argparse.Namespace) -> None:
    """Step 4 (child): NEW_EVENTS events of existing members, stored as an import does;
    prints what it added and its time without the interpreter's start."""
    import numpy as np
    from sqlalchemy import func, select

    from shequn.importers.pipeline import frames
    from shequn.services.sink import open_sink
    from shequn.store.bulk import EventSink
    from shequn.store.schema import events
    from shequn.workspace import Workspace
    from store_gen import _activity, _finish

    ws = Workspace.open(root)
    try:
        began = time.perf_counter()
        with ws.engine.connect() as conn:
            # store_gen numbers its source ids from 0, one per stored row: beyond the
            # largest row id they are new.
            first = conn.execute(select(func.max(events.c.id))).scalar_one() + 1
        rng = np.random.default_rng(SEED + first)
        frame = _finish(_activity(rng, args.members, NEW_EVENTS, first), first, args.start)
        sink = open_sink(ws) if args.in_pass else EventSink(ws.engine, ws.root / "data")
        with sink as adding:
            for valid in frames([frame], "members_cli_bench"):
                adding.add(valid, "store_gen")
            with adding.commit():
                pass
        print(f"appended {adding.added:,} events in {time.perf_counter() - began:.2f} s")
    finally:
        ws.close()


def recorded(output: str) -> int:
    """The events a refresh recorded, from its summary line."""
    found = RECORDED.search(output)
    if found is None:
        raise SystemExit(f"no summary line in the refresh's output: {output!r}")
    return sum(int(group.replace(",", "")) for group in found.groups())


def bench(args: argparse.Namespace) -> None:
    root = args.root or DATA / f"members-cli-{args.members}-{args.events}"
    root.mkdir(parents=True, exist_ok=True)
    ws = workspace(root, args)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    first, note = refresh("first", ws, args)
    rows = [("first refresh", first, note)]
    cold, note = refresh("cold", ws, args, "--cold")
    rows.append(("refresh --cold", cold, note))
    added = run(step("append", ws, args))
    rows.append((f"append {NEW_EVENTS:,} events", added, added.output.strip()))
    after, note = refresh("after", ws, args)
    rows.append(("refresh after them", after, note))
    print(f"\n{'step':<24}{'wall s':>9}{'peak MB':>10}  notes")
    for name, done, note in rows:
        print(f"{name:<24}{done.seconds:>9.2f}{done.peak_mb:>10,.0f}  {note}")
    print(f"refresh / cold: {after.seconds / cold.seconds:.1%} (issue 14: under 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--root", type=Path, help="default: benchmarks/.data/members-cli-M-N")
    parser.add_argument(
        "--in-pass", action="store_true", help="append through the import's sink (copy in-pass)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each refresh under cProfile (slower), its profile saved in DIR",
    )
    parser.add_argument("--step", choices=("build", "append"), help=argparse.SUPPRESS)
    parser.add_argument("--start", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.start = args.start or history_start()
    if args.step == "build":
        build(args.root, args)
    elif args.step == "append":
        append(args.root, args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
