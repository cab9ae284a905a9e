"""Benchmark of member understanding: profiles, tiers, states and churn risk at scale,
and PageRank on a large interaction graph.

The copy is built in memory from generated store-shaped rows (no SQLite in the way):
members with heavy-tailed activity (70% of events Zipf-like, 30% spread evenly, so
nearly every member id has events), messages of which 30% reply to an
earlier message, reactions to earlier messages, check-ins, joins and orders over a
year. Measured:

- cold: `assemble` (figures, recorded state, states, tiers with a window and a grace
  period, the churn model trained on the copy's own history and scored) on a copy
  that keeps nothing yet;
- refresh: with every member's decided tier and state recorded (what a workspace
  holds after its first `shequn members refresh`), 10,000 new events appended to the
  copy, then `assemble` again at the same instant (the kept figures merge what entered;
  the churn model is kept); then the same with 10,000 more events, some of whose
  members had been recorded in the tier with a grace period and no longer meet it
  (so the figures 14 days back are brought up too);
- an hour later, after 10,000 more events: what `shequn members refresh` from cron and
  the console's background refresh do (each at the wall clock's instant): the persons
  the events touch are decided again, and what time moves (tenure, idle days, state,
  churn risk) is derived again for everyone; then the same again in a process that holds
  nothing (the kept profiles read back from the copy, as a new CLI process does);
- a day later: `assemble` one day on, no new event (windows move, recency grows);
- PageRank and betweenness-free PageRank on a random 1M-edge graph with igraph, and
  networkx's on the same graph when networkx is installed.

    python benchmarks/members_bench.py                              # 100k members, 1M events
    python benchmarks/members_bench.py --members 1000000 --events 10000000
    python benchmarks/members_bench.py --members 1000000 --events 10000000 --unordered-ids
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from shequn.analytics.copy import STORE_COLUMNS, append, memory_copy
from shequn.config import Settings, Tier
from shequn.members import kept_profiles
from shequn.members.figures import AsOf
from shequn.members.profiles import assemble
from shequn.members.recorded import last_id
from store_gen import senders

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 1, tzinfo=ZONE)
YEAR_US = 365 * 86_400_000_000
TYPES = np.array(["message", "message", "message", "reaction", "checkin", "order"])


def generate(
    members: int, events: int, seed: int, first_id: int = 1, *, ordered: bool = True
) -> pa.Table:
    """Store-shaped rows: heavy-tailed senders, replies and reactions to earlier messages
    (message ids in text order as they grow, or, not `ordered`, in no order)."""
    rng = np.random.default_rng(seed)
    start = int(START.timestamp() * 1_000_000)
    who = senders(rng, members, events)
    ts = np.sort(start + rng.integers(0, YEAR_US, events))
    kind = TYPES[rng.integers(0, len(TYPES), events)]
    ids = np.arange(first_id, first_id + events)
    is_msg = kind == "message"
    # Replies and reactions go to one of the last 500 events, of this batch or before.
    earlier = np.maximum(ids - rng.integers(1, 500, events), 1)
    replies = (rng.random(events) < 0.3) & is_msg | (kind == "reaction")
    reply_to = np.where(replies, _named("m", earlier, ordered), None)
    columns = {
        "id": ids,
        "ts": ts,
        "community": np.where(who % 10 == 0, "c2", "c1"),
        "member": np.char.add("u", who.astype(str)),
        "type": kind,
        "message_id": np.where(is_msg, _named("m", ids, ordered), None),
        "reply_to": reply_to,
        "order_id": np.where(kind == "order", np.char.add("o", ids.astype(str)), None),
        "amount": np.where(kind == "order", "99.00", None),
    }
    table = {
        name: pa.array(columns.get(name, [None] * events), type=_type(name))
        for name in STORE_COLUMNS
    }
    return pa.table(table)


def _named(prefix: str, ids: np.ndarray, ordered: bool) -> np.ndarray:
    """Ids as text of one width, so their text order is their order (new messages' ids
    near the ids they answer, as a platform's increasing numeric ids are); not
    `ordered`, scrambled by a bijection (as Matrix's event ids are random)."""
    if not ordered:
        ids = (ids * 2_654_435_761) % 4_294_967_311
    return np.char.add(prefix, np.char.zfill(ids.astype(str), 10))


def _type(name: str) -> pa.DataType:
    return pa.int64() if name in ("id", "ts") else pa.string()


def settings() -> Settings:
    return Settings(
        tiers=[
            Tier(name="regular", min_days_active=5, window_days=30),
            Tier(name="buyer", min_orders=2, window_days=30, grace_days=14),
        ]
    )


def timed(label: str, run) -> float:
    began = time.perf_counter()
    result = run()
    took = time.perf_counter() - began
    extra = f" ({result.height:,} members)" if isinstance(result, pl.DataFrame) else ""
    print(f"{label}: {took:.2f} s{extra}")
    return took


def record(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, ts: int) -> None:
    """Records of members (`rows`: member, type, text) put in the copy at `ts` as a sync
    brings the store's: ids after the last."""
    top = last_id(con)
    numbered = rows.with_row_index("n").select(
        (pl.col("n").cast(pl.Int64) + top + 1).alias("id"), pl.lit(ts).alias("ts"), pl.all()
    )
    con.register("numbered", numbered)
    try:
        con.execute(
            "INSERT INTO member_records SELECT id, ts, member, type, text, NULL FROM numbered"
        )
    finally:
        con.unregister("numbered")


def recorded_after(frame: pl.DataFrame) -> pl.DataFrame:
    """The records `services.members.refresh` makes of `frame` on a workspace's first
    refresh: each member's decided tier (when one) and state."""
    kinds = {"tier": "tier_changed", "state": "state_changed"}
    return pl.concat(
        frame.filter(pl.col(column).is_not_null()).select(
            "member", pl.lit(kind).alias("type"), pl.col(column).alias("text")
        )
        for column, kind in kinds.items()
    )


def lost_buyer(frame: pl.DataFrame, keys: pa.ChunkedArray) -> pl.DataFrame:
    """Records making the members of `keys` (no key is merged here) buyers, of those
    `frame` does not show as one."""
    touched = pl.Series(keys.to_pylist()).unique().implode()
    lost = frame.filter(pl.col("member").is_in(touched) & pl.col("tier").ne_missing("buyer"))
    kind, text = pl.lit("tier_changed").alias("type"), pl.lit("buyer").alias("text")
    return lost.select("member", kind, text)


def profiles_bench(members: int, events: int, *, ordered: bool = True) -> None:
    make = partial(generate, members, ordered=ordered)
    batch = make(events, seed=1)
    con = memory_copy(batch, ZONE)
    del batch
    at = AsOf.of(datetime(2026, 12, 31, tzinfo=ZONE), ZONE)
    last: list[pl.DataFrame] = []

    def run() -> pl.DataFrame:
        last[:] = [assemble(con, settings(), at)]
        return last[0]

    cold = timed("profiles+tiers+states+churn, cold", run)
    # What a workspace holds after its first `shequn members refresh`: every member's
    # tier and state recorded (a workspace refreshed daily holds them 14 days back too).
    first = last[0]
    record(con, recorded_after(first), at.back(14).now)
    timed("the recorded tiers and states joined (no new event)", run)
    extra = make(10_000, seed=2, first_id=events + 1)
    appended = timed("append 10,000 events to the copy", lambda: append(con, extra, ZONE))
    again = timed("profiles again after them", run)
    print(f"refresh / cold: {again / cold:.1%} (with the append: {(appended + again) / cold:.1%})")
    # The same when some of those the next events touch had been recorded in `buyer`
    # (the tier with a grace period) and no longer meet it: deciding their tier reads
    # the figures 14 days back, which are then brought up as well.
    extra = make(10_000, seed=3, first_id=events + 10_001)
    record(con, lost_buyer(first, extra["member"]), at.now)
    timed("some of the next ones' persons recorded as buyers (no new event)", run)
    append(con, extra, ZONE)
    graced = timed("profiles again after 10,000 more events, the grace figures brought up", run)
    print(f"refresh with the grace figures / cold: {graced / cold:.1%}")
    hour = _hours_later(con, at, make(10_000, seed=4, first_id=events + 20_001), 1)
    print(f"an hour later, 10,000 more events / cold: {hour / cold:.1%}")
    kept_profiles._held.clear()
    hour = _hours_later(con, at, make(10_000, seed=5, first_id=events + 30_001), 2)
    print(f"the same in another process / cold: {hour / cold:.1%}")
    later = at.back(-1)
    day = timed("a day later, no new event", lambda: assemble(con, settings(), later))
    print(f"a day later / cold: {day / cold:.1%}")


def _hours_later(con: duckdb.DuckDBPyConnection, at: AsOf, extra: pa.Table, hours: int) -> float:
    """Seconds of `assemble` `hours` after `at`, the events `extra` appended first."""
    append(con, extra, ZONE)
    later = AsOf(at.now + hours * 3_600_000_000, at.today, at.window_days)
    label = f"{hours} h later, after 10,000 more events"
    return timed(label, lambda: assemble(con, settings(), later))


def pagerank_bench(edges: int, nodes: int) -> None:
    import igraph as ig

    rng = np.random.default_rng(3)
    pairs = np.column_stack([rng.integers(0, nodes, edges), rng.zipf(1.5, edges) % nodes])
    weights = rng.random(edges).tolist()
    graph = ig.Graph(n=nodes, edges=pairs.tolist(), directed=True)
    took = timed(f"igraph PageRank, {edges:,} edges", lambda: graph.pagerank(weights=weights))
    betweenness_bench(graph, [w + 1e-9 for w in weights])
    try:
        import networkx as nx
    except ModuleNotFoundError:
        print("networkx is not installed: no same-run comparison")
        return
    g = nx.DiGraph()
    triples = zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), weights, strict=True)
    g.add_weighted_edges_from(triples)
    slow = timed("networkx PageRank", lambda: nx.pagerank(g))
    print(f"networkx / igraph: {slow / took:.1f}x")


def betweenness_bench(graph: object, weights: list[float]) -> None:
    """The betweenness `shequn members leaders` computes past EXACT_UP_TO people (passes
    from SOURCES drawn people), against the exact one extrapolated from the same passes:
    Brandes runs one pass per person, so exact = estimate's time / SOURCES * people."""
    import igraph as ig

    from shequn.members.graph import SOURCES, betweenness

    assert isinstance(graph, ig.Graph)
    people = graph.vcount()
    took = timed(
        f"betweenness estimate, {SOURCES} of {people:,} people",
        lambda: betweenness(graph, weights),
    )
    exact = took / SOURCES * people
    print(f"exact betweenness, extrapolated: {exact:,.0f} s ({exact / took:,.0f}x the estimate)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument(
        "--unordered-ids",
        action="store_true",
        help="message ids in no order (as Matrix's event ids): every refresh reads them all",
    )
    args = parser.parse_args()
    profiles_bench(args.members, args.events, ordered=not args.unordered_ids)
    pagerank_bench(args.edges, max(args.edges // 10, 1000))


if __name__ == "__main__":
    main()
