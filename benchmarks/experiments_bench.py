"""Experiments benchmark: assignment in a tick, and the results report, at 1M members.

    python benchmarks/experiments_bench.py                     # 1,000,000 members
    python benchmarks/experiments_bench.py --members 100000

1. **Tick**: due rows spread over 20 experiment steps — `shequn.sop.tick.arms`, what a
   tick adds (target < 100 ms): 1,000 and 10,000 rows (a realistic tick at 1,000,000
   members: the newcomers of a day or two coming due at once), and the busiest minute
   of the SOP bench (126,236 due rows at 20:00) with every row in an experiment.
   Same-run baseline: a plain Python loop hashing each member (`hashlib.blake2b`).
2. **Report**: 20 experiments sharing 1,000,000 enrolments (50,000 each; holdout 10%)
   and 4,000,000 messages in an in-memory analytics copy — outcomes (`spoke_7d`, the
   as-of join in DuckDB) and the statistics of every experiment
   (`experiments.results.report`; target < 2 s). Same-run baseline and check: a plain
   Python loop (bisect over each member's sorted messages) over one experiment must
   give the same counts.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import statistics
import textwrap
import time
from collections import defaultdict

import duckdb
import numpy as np
import polars as pl

from shequn.analytics.copy import connect, create_schema
from shequn.experiments.results import Declared, report
from shequn.sop.loader import check
from shequn.sop.model import Playbook
from shequn.sop.tick import arms

DAY = 86_400_000_000
NOW = 1_800_000_000_000_000
EXPERIMENTS = 20


def playbook_text(i: int) -> str:
    """Playbook p<i>: a newcomer step at +1d 20:00 with a 10% holdout on `spoke_7d`."""
    return textwrap.dedent(
        f"""
        name: p{i}
        applies_to: {{communities: ["*"]}}
        trigger: {{type: member_joined}}
        steps:
          - id: s
            at: "+1d 20:00"
            action: {{type: send_private, text: "hi"}}
            owner: alice
            emergency: {{do: x, alert: bob}}
            holdout: 10%
            experiment: {{outcome: spoke_7d, horizon: +60d}}
        """
    ).lstrip()


def playbooks() -> dict[str, Playbook]:
    found = {}
    for i in range(EXPERIMENTS):
        pb, problems = check(playbook_text(i), f"p{i}.yaml")
        assert pb is not None, problems
        found[pb.name] = pb
    return found


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def bench_tick(members: list[str], books: dict[str, Playbook], repeat: int) -> None:
    for rows in (1_000, 10_000, 126_236):
        tick_rows(members[: min(rows, len(members))], books, repeat)


def tick_rows(members: list[str], books: dict[str, Playbook], repeat: int) -> None:
    n = len(members)
    due = pl.DataFrame(
        {
            "playbook": [f"p{i % EXPERIMENTS}" for i in range(n)],
            "step": ["s"] * n,
            "member": members[:n],
        }
    )
    vec, found = timed(lambda: arms(books, due), repeat)

    def loop() -> list[str]:
        out = []
        for pb, m in zip(due["playbook"], due["member"], strict=True):
            h = hashlib.blake2b(f"{pb}.s\x00{m}".encode(), digest_size=8).digest()
            out.append("holdout" if int.from_bytes(h, "big") / 2**64 < 0.1 else "treated")
        return out

    base, _ = timed(loop, max(1, repeat // 3))
    held = int((found[1] == "holdout").sum())  # type: ignore[index]
    print(
        f"tick: {n:,} due rows in 20 experiments: arms {vec * 1000:.1f} ms "
        f"(held out {held / n:.1%}); python hashlib loop {base * 1000:.1f} ms"
    )


def enrolments(members: list[str], rng: np.random.Generator) -> pl.DataFrame:
    n = len(members)
    return pl.DataFrame(
        {
            "experiment": [f"p{i % EXPERIMENTS}.s" for i in range(n)],
            "arm": np.where(rng.random(n) < 0.1, "holdout", "treated"),
            "community": ["club"] * n,
            "member": members,
            "ts": NOW - 40 * DAY + rng.integers(0, 20 * DAY, n),
        }
    )


def python_counts(enrolled: pl.DataFrame, messages: pl.DataFrame) -> dict[str, tuple[int, int]]:
    by_member: dict[str, list[int]] = defaultdict(list)
    for m, ts in zip(messages["member"], messages["ts"], strict=True):
        by_member[m].append(ts)
    for times in by_member.values():
        times.sort()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for arm, m, ts in zip(enrolled["arm"], enrolled["member"], enrolled["ts"], strict=True):
        times = by_member.get(m, [])
        i = bisect.bisect_right(times, ts)
        counts[arm][0] += i < len(times) and times[i] <= ts + 7 * DAY
        counts[arm][1] += 1
    return {arm: (x, n) for arm, (x, n) in counts.items()}


def analytics_copy(messages: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory analytics copy whose `events` hold the messages, stored as the sync
    stores them (sorted by type and time). The report reads nothing else, so the
    derived tables `append` also builds (a minute at 4M rows) are left empty."""
    con = connect()
    create_schema(con)
    con.register("incoming", messages.to_arrow())
    con.execute(
        """INSERT INTO events (id, ts, day, community, member, type)
           SELECT row_number() OVER (ORDER BY ts), ts, CAST(ts // 86400000000 AS INTEGER),
                  community, member, 'message' FROM incoming ORDER BY ts"""
    )
    con.unregister("incoming")
    return con


def bench_report(members: list[str], books: dict[str, Playbook], repeat: int) -> None:
    rng = np.random.default_rng(1)
    enrolled = enrolments(members, rng)
    k = 4 * len(members)
    messages = pl.DataFrame(
        {
            "community": ["club"] * k,
            "member": np.asarray(members, dtype=object)[rng.integers(0, len(members), k)],
            "ts": NOW - 60 * DAY + rng.integers(0, 60 * DAY, k),
        }
    )
    declared = [Declared(f"{name}.s", name, pb.steps[0]) for name, pb in books.items()]
    start = time.perf_counter()
    con = analytics_copy(messages)
    print(f"(set-up: {k:,} messages into an in-memory copy in {time.perf_counter() - start:.1f} s)")

    vec, results = timed(lambda: report(con, declared, enrolled, NOW), repeat)
    one = enrolled.filter(pl.col("experiment") == "p0.s")
    start = time.perf_counter()
    expected = python_counts(one, messages)
    base = time.perf_counter() - start
    got = next(r for r in results if r.declared.id == "p0.s").counts  # type: ignore[union-attr]
    assert got == expected, (got, expected)
    print(
        f"report: {len(members):,} enrolments, {k:,} messages, 20 experiments: "
        f"{vec:.2f} s; python loop over ONE experiment ({one.height:,}) {base:.2f} s; same counts"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    members = [f"telegram:{i}" for i in range(args.members)]
    books = playbooks()
    bench_tick(members, books, args.repeat)
    bench_report(members, books, args.repeat)


if __name__ == "__main__":
    main()
