"""Benchmark of the metrics engine on a simulated workspace (default 10M events).

Builds the workspace once with `simulate_into` under benchmarks/.data/, then measures,
each step in a fresh process (so its peak memory is its own):

- cold sync: the columnar copy built from nothing;
- warm report: every metric for every community and `*`, the daily series and the
  retention cohorts of the last full month (copy already up to date);
- refresh: 10k events appended to the store, then sync + report;
- pandas: a straightforward pandas implementation of the core figures (membership,
  activity, orders, visits) over the same events, for comparison.

    python benchmarks/metrics_bench.py                  # 10M events
    python benchmarks/metrics_bench.py --events 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from peak import peak_mb  # noqa: E402

DATA = HERE / ".data"
MONTH = (date(2026, 3, 1), date(2026, 4, 1))  # a full month inside the simulated year
ACTIVE = ("message", "reaction", "checkin")


def workspace_root(events: int) -> Path:
    return DATA / f"metrics-{events}"


def build(events: int) -> Path:
    """The simulated workspace, built once (a year of three communities)."""
    from shequn.services.simulate import simulate_into
    from shequn.services.workspace import init_workspace

    root = workspace_root(events)
    if not (root / "shequn.toml").exists():
        DATA.mkdir(exist_ok=True)
        ws = init_workspace(root, name=f"bench-{events}")
        simulate_into(ws, communities=3, days=365, events=events, seed=7)
        ws.close()
    return root


def _open(root: Path):  # type: ignore[no-untyped-def]
    from shequn.workspace import Workspace

    return Workspace.open(root)


def step_cold(root: Path) -> dict:
    from shequn.analytics import sync
    from shequn.analytics.sync import copy_path

    ws = _open(root)
    copy_path(ws).unlink(missing_ok=True)
    started = time.perf_counter()
    result = sync(ws)
    return {"seconds": time.perf_counter() - started, "events": result.events_read}


def step_warm(root: Path) -> dict:
    from shequn.analytics import report, sync

    ws = _open(root)
    sync(ws)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        figures = report(ws, *MONTH)
        best = min(best, time.perf_counter() - started)
    return {"seconds": best, "scopes": len(figures["metrics"])}


def step_refresh(root: Path) -> dict:
    from shequn.analytics import report, sync
    from shequn.services.simulate import simulate_into

    ws = _open(root)
    sync(ws)
    # A new seed each run, so the 10k events are new to the store.
    added = simulate_into(ws, communities=1, days=2, events=10_000, seed=int(time.time()))
    started = time.perf_counter()
    result = sync(ws)
    synced = time.perf_counter() - started
    report(ws, *MONTH)
    return {
        "seconds": time.perf_counter() - started,
        "sync_seconds": synced,
        "events": result.events_read,
        "added": added.added,
    }


def step_pandas(root: Path) -> dict:
    import duckdb

    from shequn.analytics.period import Period

    ws = _open(root)
    con = duckdb.connect(str(root / "data" / "analytics.duckdb"), read_only=True)
    frame = con.execute("SELECT * FROM events").df()
    con.close()
    params = Period(*MONTH, ws.settings.zone).params()
    started = time.perf_counter()
    figures = pandas_figures(frame, params)
    return {"seconds": time.perf_counter() - started, "scopes": len(figures)}


def pandas_figures(df, p: dict) -> dict:  # type: ignore[no-untyped-def]
    """Core figures, the way one would write them in pandas (no persons, no history
    start): intervals, members at start/end/during, joins, leaves, messages, active,
    dau/wau/mau, stickiness, speakers, orders, GMV, buyers, visits per channel."""
    import pandas as pd

    out = {}
    scopes = [(c, df[df.community == c]) for c in sorted(df.community.unique())]
    for scope, g in [*scopes, ("*", df)]:
        jl = g[g.type.isin(["join", "leave"])].sort_values(["community", "member", "ts", "id"])
        before = jl.groupby(["community", "member"]).type.shift().fillna("leave")
        opens = jl[(jl.type == "join") & (before == "leave")].assign(o=1)
        closes = jl[(jl.type == "leave") & (before == "join")].assign(o=0)
        edges = pd.concat([opens, closes]).sort_values(["community", "member", "ts", "id"])
        edges["end"] = edges.groupby(["community", "member"]).ts.shift(-1).fillna(2**62)
        iv = edges[edges.o == 1]
        at = lambda t, iv=iv: iv[(iv.ts <= t) & (t < iv.end)].member.nunique()  # noqa: E731
        pev = g[(g.ts >= p["ps"]) & (g.ts < p["pe"])]
        act = g[g.type.isin(ACTIVE) & (g.day >= p["last"] - 29) & (g.day <= p["last"])]
        dau = act[act.day >= p["ds"]].groupby("day").member.nunique()
        orders = pev[pev.type == "order"].groupby(["community", "order_id"])
        nets = orders.amount.sum()
        owners = orders.member.first()
        visits = pev[pev.type == "visit"].groupby("channel").visitor.nunique()
        out[scope] = {
            "members_at_start": at(p["ps"]),
            "members_at_end": at(p["pe"]),
            "members_during": iv[(iv.ts < p["pe"]) & (iv.end > p["ps"])].member.nunique(),
            "joins": int((pev.type == "join").sum()),
            "leaves": int((pev.type == "leave").sum()),
            "messages": int((pev.type == "message").sum()),
            "active": pev[pev.type.isin(ACTIVE)].member.nunique(),
            "speakers": pev[pev.type == "message"].member.nunique(),
            "dau": int(dau.get(p["last"], 0)),
            "wau": act[act.day >= p["last"] - 6].member.nunique(),
            "mau": act.member.nunique(),
            "stickiness": dau.sum() / p["days"] / max(act.member.nunique(), 1),
            "orders": int((nets > 0).sum()),
            "gmv": pev[pev.type == "order"].amount.sum(),
            "buyers": owners[nets > 0].nunique(),
            "visits": int(visits.sum()),
        }
    return out


STEPS = {"cold": step_cold, "warm": step_warm, "refresh": step_refresh, "pandas": step_pandas}


def run_step(name: str, root: Path) -> dict:
    """Run one step in a fresh interpreter; its result with peak RSS in MB."""
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"step {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--step", choices=sorted(STEPS))
    parser.add_argument("--root", type=Path)
    args = parser.parse_args()
    if args.step:
        result = STEPS[args.step](args.root)
        result["peak_mb"] = peak_mb()
        print(json.dumps(result, default=str))
        return
    started = time.perf_counter()
    root = build(args.events)
    print(f"workspace {root} ready in {time.perf_counter() - started:.1f} s", flush=True)
    results = {name: run_step(name, root) for name in ("cold", "warm", "refresh", "pandas")}
    for name, result in results.items():
        print(f"{name:8} {json.dumps(result)}", flush=True)
    cold = results["cold"]["seconds"] + results["warm"]["seconds"]
    print(f"refresh / cold (sync + report): {results['refresh']['seconds'] / cold:.1%}")
    speedup = results["pandas"]["seconds"] / results["warm"]["seconds"]
    print(f"pandas / engine warm report: {speedup:.1f}x")


if __name__ == "__main__":
    main()
