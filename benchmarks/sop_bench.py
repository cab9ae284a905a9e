"""SOP tick benchmark: one evaluation over 1,000,000 members and 20 playbooks.

Vectorized (`shequn.sop.evaluate.due_steps`, Polars) against a plain Python loop
over the same members in the same run; both must find the same due steps.
The events are built in memory (the store read is measured separately in the tick).

    python benchmarks/sop_bench.py                  # 1,000,000 members
    python benchmarks/sop_bench.py --members 100000
    python benchmarks/sop_bench.py --tick --members 100000   # the whole tick on SQLite
    python benchmarks/sop_bench.py --tick --service --members 20000  # services.sop.tick

`--tick` stores the events in a SQLite workspace and times what a tick reads and
evaluates: read afresh every tick (`sop tick`, `sop plan`) against the events kept
between ticks by the engine (`shequn.sop.recent`), a minute of new events each tick.
"""

from __future__ import annotations

import argparse
import bisect
import textwrap
import time
from collections import defaultdict
from datetime import UTC, datetime

import numpy as np
import polars as pl

from shequn.clock import to_micros
from shequn.sop.evaluate import Window, due_steps
from shequn.sop.loader import check
from shequn.sop.model import Playbook
from shequn.sop.triggers import ACTIVITY, DAY_US, Frames

ZONE = "Asia/Shanghai"
NOW = to_micros(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
MINUTE = 60_000_000


def playbook_texts() -> list[str]:
    """The YAML of 20 playbooks: joins (with and without conditions), purchases,
    inactivity."""
    kinds = [
        ("member_joined", None, ["+0m", "+1d 20:00", "+3d"], "silent_since_trigger"),
        ("member_joined", None, ["+30m", "+7d 20:00"], "still_member"),
        ("purchase", None, ["+10m", "+2d 19:00"], "not_purchased_since_trigger"),
        ("member_inactive", 7, ["+0m", "+1d 10:00"], None),
        ("member_inactive", 14, ["+0m"], None),
    ]
    found = []
    for i in range(20):
        trigger, days, offsets, condition = kinds[i % len(kinds)]
        steps = "".join(
            f"""
            - id: s{j}
              at: "{at}"
              action: {{type: send_private, text: "hi {{{{ member.name }}}}"}}
              {"condition: " + condition if condition and j else ""}
              owner: alice
              emergency: {{do: x, alert: bob}}"""
            for j, at in enumerate(offsets)
        )
        days_line = f"days: {days}" if days else ""
        text = f"""
        name: pb{i:02d}
        applies_to: {{communities: ["*"]}}
        trigger: {{type: {trigger}, {days_line}}}
        steps:{steps}
        """
        found.append(textwrap.dedent(text).replace(", }", "}"))
    return found


def playbooks() -> list[Playbook]:
    """The 20 playbooks of `playbook_texts`, checked."""
    found = []
    for i, text in enumerate(playbook_texts()):
        playbook, problems = check(text, f"pb{i}")
        assert playbook is not None, problems
        found.append(playbook)
    return found


def events(members: int, seed: int = 7) -> pl.DataFrame:
    """Joins over 30 days, ~3 messages per member, orders for 20%, leaves for 10%."""
    rng = np.random.default_rng(seed)
    span = 30 * DAY_US
    ids = np.arange(members)
    member = pl.Series([f"m{i}" for i in ids])
    community = pl.Series([f"c{i % 10}" for i in ids])
    join = NOW - rng.integers(0, span, members)

    def part(idx: np.ndarray, ts: np.ndarray, kind: str) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ts": ts.astype(np.int64),
                "community": community.gather(idx),
                "member": member.gather(idx),
                "type": pl.Series([kind] * len(idx)),
                "channel": pl.Series([None] * len(idx), dtype=pl.String),
            }
        )

    msg_idx = rng.integers(0, members, 3 * members)
    order_idx = rng.choice(members, members // 5, replace=False)
    leave_idx = rng.choice(members, members // 10, replace=False)
    after = lambda idx: join[idx] + rng.integers(0, NOW - join[idx] + 1)  # noqa: E731
    return pl.concat(
        [
            part(ids, join, "join"),
            part(msg_idx, after(msg_idx), "message"),
            part(order_idx, after(order_idx), "order"),
            part(leave_idx, after(leave_idx), "leave"),
        ]
    ).sort("ts")


def python_loop(pbs: list[Playbook], frame: pl.DataFrame, window: Window) -> set[str]:
    """The baseline: for every playbook, every member, every step: is it due?"""
    by_member: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for ts, community, member, kind, _ in frame.iter_rows():
        by_member[(community, member)].append((ts, kind))
    due: set[str] = set()
    for pb in pbs:
        for (_community, member), history in by_member.items():
            for occ in _occurrences(pb, history):
                for step in pb.steps:
                    at = _due(step, occ)
                    if window.start < at <= window.end and _allowed(step, history, occ, at):
                        due.add(f"{pb.name}|{step.id}|{member}|{occ}")
    return due


def _occurrences(pb: Playbook, history: list[tuple[int, str]]) -> list[int]:
    kind = pb.trigger.type
    if kind == "member_inactive":
        # Inactive N days after an activity followed by no activity and no leave.
        n = pb.trigger.days * DAY_US
        stops = sorted(ts for ts, k in history if k in ACTIVITY or k == "leave")
        found = set()
        for t in {ts for ts, k in history if k in ACTIVITY}:
            after = bisect.bisect_right(stops, t)  # the first activity or leave after t
            if after == len(stops) or stops[after] > t + n:
                found.add(t + n)
        return sorted(found)
    wanted = {"member_joined": "join", "purchase": "order"}[kind]
    return [ts for ts, k in history if k == wanted]


def _due(step, occ: int) -> int:  # type: ignore[no-untyped-def]
    offset = step.offset
    if offset.at is None:
        return occ + offset.micros
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(ZONE)
    day = datetime.fromtimestamp(occ / 1e6, zone).date().toordinal() + offset.days
    local = datetime.combine(datetime.fromordinal(day).date(), offset.at, tzinfo=zone)
    return to_micros(local)


def _allowed(step, history, occ: int, due: int) -> bool:  # type: ignore[no-untyped-def]
    """The step's condition, checked on the events up to its own due time."""
    kind = {
        "still_member": "leave",
        "silent_since_trigger": "message",
        "not_purchased_since_trigger": "order",
    }.get(step.condition)
    return kind is None or not any(k == kind and occ < ts <= due for ts, k in history)


def vectorized(pbs: list[Playbook], frames: Frames, window: Window) -> tuple[set[str], float]:
    """One evaluation on frames already built (as the engine keeps them between ticks)."""
    started = time.perf_counter()
    due = due_steps(pbs, frames, window, ZONE, _all(pbs))
    seconds = time.perf_counter() - started  # before the keys become a Python set
    return set(due["key"].to_list()), seconds


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _stored(frame: pl.DataFrame, start: int) -> pl.DataFrame:
    """The bench events as canonical rows for the store (ids `b<start + i>`)."""
    return frame.select(
        pl.from_epoch("ts", time_unit="us").dt.replace_time_zone("UTC").alias("ts"),
        "community",
        "member",
        "type",
        "channel",
        *[
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("inviter", "visitor", "message_id", "reply_to", "content_id")
        ],
        pl.when(pl.col("type") == "order")
        .then(pl.format("o{}", pl.int_range(start, start + pl.len())))
        .alias("order_id"),
        pl.when(pl.col("type") == "order").then(pl.lit("10")).alias("amount"),
        pl.lit(None, dtype=pl.String).alias("text"),
        pl.format("b{}", pl.int_range(start, start + pl.len())).alias("source_id"),
        pl.lit(None, dtype=pl.String).alias("source"),
        pl.lit(None, dtype=pl.String).alias("member_name"),
        pl.lit(None, dtype=pl.String).alias("inviter_name"),
        pl.lit(None, dtype=pl.String).alias("meta"),
    )


def tick_bench(members: int, ticks: int) -> None:
    """The whole tick on a SQLite workspace: read afresh vs kept between ticks."""
    import tempfile
    from pathlib import Path

    from shequn.services.workspace import init_workspace
    from shequn.sop.recent import RecentEvents, read_frames
    from shequn.store.bulk import EventSink

    pbs = playbooks()
    frame = events(members)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", name="bench")
        history = frame.filter(pl.col("ts") <= NOW - ticks * MINUTE)
        with EventSink(ws.engine, ws.root / "data") as sink:
            sink.add(_stored(history, 0), "bench")
            with sink.commit():
                pass
        print(f"tick on SQLite: {members:,} members, {history.height:,} events stored")
        recent, afresh, kept = RecentEvents(), [], []
        for i in range(ticks):
            end = NOW - (ticks - i - 1) * MINUTE
            window = Window(end - MINUTE, end)
            fresh = frame.filter(pl.col("ts") > end - MINUTE, pl.col("ts") <= end)
            with EventSink(ws.engine, ws.root / "data") as sink:
                sink.add(_stored(fresh, history.height + i * 1_000_000), "bench")
                with sink.commit():
                    pass
            with ws.engine.connect() as conn:
                for reader, times in ((read_frames, afresh), (recent.frames, kept)):
                    started = time.perf_counter()
                    due = due_steps(pbs, reader(conn, pbs, window), window, ZONE, _all(pbs))
                    times.append(time.perf_counter() - started)
            if i == 0:
                kept[0:1] = []  # the first kept tick reads everything: reported apart
                first = time.perf_counter()
                with ws.engine.connect() as conn:
                    RecentEvents().frames(conn, pbs, window)
                first = time.perf_counter() - first
        ws.close()
    a, k = _median(afresh), _median(kept)
    print(
        f"  read + evaluate, median of {len(kept)} one-minute ticks ({due.height} due in the "
        f"last): afresh {a * 1000:.0f} ms, kept {k * 1000:.0f} ms ({a / k:.0f}x); "
        f"the engine's first tick reads everything: {first * 1000:.0f} ms"
    )


def service_bench(members: int, ticks: int) -> None:
    """The engine's whole tick (`services.sop.tick`: lease, playbooks, lifecycle, due
    steps, render, queue) on a SQLite workspace, events kept between ticks, one minute
    of new events each tick; the last tick is the 20:00 minute."""
    import tempfile
    from pathlib import Path

    from shequn.clock import FrozenClock
    from shequn.services.sop import holder_name, tick
    from shequn.services.workspace import init_workspace
    from shequn.sop.recent import RecentEvents
    from shequn.store.bulk import EventSink

    frame = events(members)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", name="bench")
        for path in (ws.root / "playbooks").glob("*.yaml"):
            path.unlink()
        for i, text in enumerate(playbook_texts()):
            (ws.root / "playbooks" / f"pb{i:02d}.yaml").write_text(text, encoding="utf-8")
        start = NOW - ticks * MINUTE
        with EventSink(ws.engine, ws.root / "data") as sink:
            sink.add(_stored(frame.filter(pl.col("ts") <= start), 0), "bench")
            with sink.commit():
                pass
        recent, holder, times, queued = RecentEvents(), holder_name(), [], 0
        at = lambda us: FrozenClock(datetime.fromtimestamp(us / 1e6, UTC))  # noqa: E731
        tick(ws, at(start), holder=holder, recent=recent)  # the first: records the time
        for i in range(ticks):
            end = start + (i + 1) * MINUTE
            fresh = frame.filter(pl.col("ts") > end - MINUTE, pl.col("ts") <= end)
            with EventSink(ws.engine, ws.root / "data") as sink:
                sink.add(_stored(fresh, (i + 1) * 10_000_000), "bench")
                with sink.commit():
                    pass
            started, cpu = time.perf_counter(), time.process_time()
            result = tick(ws, at(end), holder=holder, recent=recent)
            times.append((time.perf_counter() - started, time.process_time() - cpu))
            queued = result.queued
        ws.close()
    wall, cpu = (_median([t[k] for t in times[:-1]]) for k in (0, 1))
    print(
        f"service tick on SQLite, {members:,} members: ordinary minutes median {wall * 1000:.0f} "
        f"ms wall, {cpu * 1000:.0f} ms CPU; the 20:00 minute ({queued:,} queued) "
        f"{times[-1][0] * 1000:.0f} ms wall, {times[-1][1] * 1000:.0f} ms CPU"
    )


def _all(pbs: list[Playbook]) -> dict[str, list[str] | None]:
    return {pb.name: None for pb in pbs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-loop", action="store_true", help="skip the Python loop check")
    parser.add_argument("--tick", action="store_true", help="time the whole tick on SQLite")
    parser.add_argument("--ticks", type=int, default=6, help="ticks for --tick")
    parser.add_argument("--service", action="store_true", help="with --tick: the engine's tick")
    args = parser.parse_args()
    if args.tick:
        (service_bench if args.service else tick_bench)(args.members, args.ticks)
        return
    pbs = playbooks()
    frame = events(args.members)
    print(f"{args.members:,} members, {frame.height:,} events, {len(pbs)} playbooks")
    builds = []
    for _ in range(3):
        started = time.perf_counter()
        frames = Frames(frame)
        builds.append(time.perf_counter() - started)
    print(f"building the frames (once per engine, not per tick): {_median(builds) * 1000:.0f} ms")
    windows = (
        # 19:29-19:30 in Shanghai: only the steps timed by a duration fall due.
        ("an ordinary minute", Window(NOW - 31 * MINUTE, NOW - 30 * MINUTE)),
        # 19:59-20:00: every "+Nd 20:00" step of the day falls due at once.
        ("the 20:00 minute", Window(NOW - MINUTE, NOW)),
    )
    for label, window in windows:
        times = []
        for _ in range(args.repeat):
            keys, seconds = vectorized(pbs, frames, window)
            times.append(seconds)
        median = _median(times)
        line = (
            f"{label}: {len(keys):,} due; vectorized median {median * 1000:.1f} ms "
            f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {args.repeat} runs)"
        )
        if not args.no_loop:
            started = time.perf_counter()
            baseline = python_loop(pbs, frame, window)
            loop_seconds = time.perf_counter() - started
            assert keys == baseline, (len(keys), len(baseline))
            line += f"; Python loop {loop_seconds:.2f} s (same keys); {loop_seconds / median:.0f}x"
        print(line)


if __name__ == "__main__":
    main()
