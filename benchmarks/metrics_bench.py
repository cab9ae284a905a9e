"""Benchmark of the metrics engine on a simulated workspace (default 10M events).

Builds the workspace once with `simulate_into` under benchmarks/.data/, then measures,
each step in a fresh process (so its peak memory is its own):

- cold sync: the columnar copy built from nothing;
- warm report: every metric for every community and `*`, the daily series and the
  retention cohorts of the last full month (copy already up to date);
- refresh: 10k events appended to the store, then sync + report;
- pandas: a straightforward pandas implementation of the same figures (CHECKED and the
  daily series; see there what it leaves out), loading the copy's events itself, and
  checked against the engine's numbers.

    python benchmarks/metrics_bench.py                  # 10M events
    python benchmarks/metrics_bench.py --events 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
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
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = sync(ws)
    return {
        "seconds": time.perf_counter() - started,
        # On a shared machine the wall time says more about the others' load: the CPU
        # seconds of this process and of its store readers (child processes) too.
        "cpu_seconds": _cpu_seconds() - cpu,
        "events": result.events_read,
    }


def _cpu_seconds() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def step_warm(root: Path) -> dict:
    from shequn.analytics import report, sync

    ws = _open(root)
    sync(ws)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        figures = report(ws, *MONTH)
        runs.append(time.perf_counter() - started)
    # The median: the machine may be shared, and one lucky run is not the figure.
    return {"seconds": statistics.median(runs), "runs": runs, "scopes": len(figures["metrics"])}


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
    """The pandas baseline: load from the copy (timed, as the engine's reads are) and
    compute the same figures; the main ones are checked against the engine's."""
    from shequn.analytics import report, sync
    from shequn.analytics.period import ZonedPeriod

    ws = _open(root)
    sync(ws)  # the copy up to date, as for the engine's warm report
    period = ZonedPeriod(*MONTH, ws.settings.zone)
    started = time.perf_counter()
    frame = pandas_load(root / "data" / "analytics.duckdb")
    figures = pandas_figures(frame, period)
    seconds = time.perf_counter() - started
    engine = report(ws, *MONTH)
    mismatches = [
        f"{scope}.{key}: pandas {figures[scope][key]} engine {engine['metrics'][scope][key]}"
        for scope in engine["metrics"]
        for key in CHECKED
        if not _close(figures[scope][key], engine["metrics"][scope][key])
    ]
    for scope, days in engine["daily"].items():
        got = [(d["dau"], d["joins"], d["leaves"], d["messages"]) for d in days]
        want = [(d["dau"], d["joins"], d["leaves"], d["messages"]) for d in figures[scope]["daily"]]
        if got != want:
            mismatches.append(f"{scope}.daily")
    checked = len(engine["metrics"]) * len(CHECKED)
    return {
        "seconds": seconds,
        "scopes": len(figures),
        "checked": checked,
        "mismatches": mismatches,
    }


# The figures of the engine's report the pandas baseline computes and is checked on.
# Left out: fission_multiplier (invitation chains), the by_channel joiner breakdown,
# content_ctr, sop_on_time_rate (the simulated workspace has no SOP tasks: null), and
# the retention cohorts' membership counts.
CHECKED = (
    "members_at_start", "members_at_end", "members_during", "joins", "leaves", "net_growth",
    "growth_rate", "churn_rate", "dau", "wau", "mau", "active_members", "active_rate",
    "speaking_rate", "stickiness", "messages", "messages_per_active", "visits",
    "channel_joins", "traffic_conversion", "buyers", "purchase_conversion",
    "repurchase_rate", "orders", "gmv", "aov", "arpu", "join_cohort_conversion", "k_factor",
)  # fmt: skip
FOREVER = 2**63 - 1


def _close(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))  # type: ignore[arg-type]


def pandas_load(path: Path):  # type: ignore[no-untyped-def]
    """The copy's events as a DataFrame, member keys resolved to their person."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    frame = con.execute(
        "SELECT id, ts, day, community, member, type, channel, inviter, visitor, order_id, "
        "amount FROM events"
    ).df()
    persons = dict(con.execute("SELECT key, person FROM members WHERE person <> key").fetchall())
    con.close()
    if persons:
        frame["member"] = frame.member.replace(persons)
        frame["inviter"] = frame.inviter.replace(persons)
    return frame


def pandas_intervals(df):  # type: ignore[no-untyped-def]
    """Membership intervals (community, member, ts, end) as docs/metrics.md defines them."""
    import pandas as pd

    keys = ["community", "member"]
    start = df.groupby("community").ts.min()
    touch = df[df.type.isin(["join", "leave", "message", "reaction"]) & df.member.notna()]
    touch = touch.sort_values([*keys, "ts", "id"])
    first = touch.groupby(keys).type.first().reset_index()
    hist = first[first.type.isin(["message", "reaction"])][keys].copy()
    hist["ts"], hist["id"], hist["o"] = hist.community.map(start).values, -1, 1
    jl = touch[touch.type.isin(["join", "leave"])].copy()
    member_from_start = pd.Series(True, index=pd.MultiIndex.from_frame(hist[keys]))
    had = member_from_start.reindex(pd.MultiIndex.from_frame(jl[keys])).fillna(False).values
    before = jl.groupby(keys).type.shift()
    before = before.where(
        before.notna(), pd.Series(had, index=jl.index).map({True: "join", False: "leave"})
    )
    opens = jl[(jl.type == "join") & (before == "leave")].assign(o=1)
    closes = jl[(jl.type == "leave") & (before == "join")].assign(o=0)
    cols = [*keys, "ts", "id", "o"]
    edges = pd.concat([opens[cols], closes[cols], hist[cols]]).sort_values([*keys, "ts", "id"])
    edges["end"] = edges.groupby(keys).ts.shift(-1).fillna(FOREVER).astype("int64")
    return edges[edges.o == 1]


def pandas_figures(df, period) -> dict:  # type: ignore[no-untyped-def]
    """Every figure of CHECKED and the daily series, per community and `*`."""
    p = period.params()
    iv_all = pandas_intervals(df)
    joins = df[df.type == "join"]
    inv = joins[joins.inviter.notna() & (joins.inviter != joins.member)].merge(
        iv_all[["community", "member", "ts", "end"]].rename(
            columns={"member": "inviter", "ts": "iv_ts"}
        ),
        on=["community", "inviter"],
    )
    invited = inv[(inv.iv_ts <= inv.ts) & (inv.ts < inv.end)].drop_duplicates("id")
    out = {}
    scopes = [(c, df.community == c) for c in sorted(df.community.unique())]
    for scope, rows in [*scopes, ("*", slice(None))]:
        g = df[rows]
        iv = iv_all if scope == "*" else iv_all[iv_all.community == scope]
        inv_s = invited if scope == "*" else invited[invited.community == scope]
        out[scope] = _scope_figures(g, iv, inv_s, p)
    return out


def _ratio(num, den):  # type: ignore[no-untyped-def]
    return None if not den else num / den


def _cents(value):  # type: ignore[no-untyped-def]
    return None if value is None else round(value, 2)


def _scope_figures(g, iv, invited, p: dict) -> dict:  # type: ignore[no-untyped-def]
    ps, pe = p["ps"], p["pe"]

    def members_at(t: int) -> set:
        return set(iv.member[(iv.ts <= t) & (t < iv.end)])

    at_start, at_end = members_at(ps), members_at(pe)
    during = iv.member[(iv.ts < pe) & (iv.end > ps) & (iv.ts < iv.end)].nunique()
    pev = g[(g.ts >= ps) & (g.ts < pe)]
    left = set(pev.member[pev.type == "leave"])
    act = g[g.type.isin(ACTIVE) & g.member.notna()]
    act_p = act[(act.day >= p["ds"]) & (act.day < p["de"])]
    win = act[(act.day >= p["last"] - 29) & (act.day <= p["last"])]
    dau = act_p.groupby("day").member.nunique()
    mau = win.member.nunique()
    active = act_p.member.nunique()
    messages = int((pev.type == "message").sum())
    visits = pev[(pev.type == "visit") & pev.channel.notna()]
    per_channel = (
        visits.groupby("channel").visitor.nunique()
        + visits.visitor.isna().groupby(visits.channel).sum()
    )
    channel_joins = pev[(pev.type == "join") & pev.channel.notna()]
    visit_joins = int(channel_joins.channel.isin(per_channel[per_channel > 0].index).sum())
    orders = _orders(pev)
    paid = orders[orders.net > 0]
    per_buyer = paid.groupby("owner").size()
    all_orders = _orders(g)
    first_paid = all_orders[all_orders.net > 0].groupby("owner").ts.min()
    first_join = g[g.type == "join"].groupby("member").ts.min()
    cohort = first_join[(first_join >= ps) & (first_join < pe)]
    converted = (first_paid.reindex(cohort.index) < cohort + p["cohort_us"]).sum()
    gmv = pev.amount[pev.type == "order"].sum()
    n_orders = len(paid)
    return {
        "members_at_start": len(at_start),
        "members_at_end": len(at_end),
        "members_during": during,
        "joins": int((pev.type == "join").sum()),
        "leaves": int((pev.type == "leave").sum()),
        "net_growth": len(at_end) - len(at_start),
        "growth_rate": _ratio(len(at_end) - len(at_start), len(at_start)),
        "churn_rate": _ratio(len(at_start & left), len(at_start)),
        "dau": int(dau.get(p["last"], 0)),
        "wau": win[win.day >= p["last"] - 6].member.nunique(),
        "mau": mau,
        "active_members": active,
        "active_rate": _ratio(active, during),
        "speaking_rate": _ratio(act_p[act_p.type == "message"].member.nunique(), during),
        "stickiness": _ratio(dau.sum(), p["days"] * mau),
        "messages": messages,
        "messages_per_active": _ratio(messages, active),
        "visits": int(per_channel.sum()),
        "channel_joins": len(channel_joins),
        "traffic_conversion": _ratio(visit_joins, int(per_channel.sum())),
        "buyers": len(per_buyer),
        "purchase_conversion": _ratio(len(per_buyer), during),
        "repurchase_rate": _ratio(int((per_buyer >= 2).sum()), len(per_buyer)),
        "orders": n_orders,
        "gmv": gmv,
        "aov": _cents(_ratio(gmv, n_orders)),
        "arpu": _cents(_ratio(gmv, during)),
        "join_cohort_conversion": _ratio(int(converted), len(cohort)),
        "k_factor": _ratio(int(((invited.ts >= ps) & (invited.ts < pe)).sum()), len(at_start)),
        "daily": _daily(pev, act_p, p),
    }


def _orders(rows):  # type: ignore[no-untyped-def]
    """One row per order (community, order_id; an empty id is an order of its own):
    net amount, owner (member of the earliest row) and first ts."""
    o = rows[rows.type == "order"].sort_values(["ts", "id"])
    key = o.order_id.where(o.order_id.notna(), "#" + o.id.astype(str))
    grouped = o.assign(key=key).groupby(["community", "key"])
    return grouped.agg(net=("amount", "sum"), owner=("member", "first"), ts=("ts", "min"))


def _daily(pev, act_p, p: dict) -> list[dict]:  # type: ignore[no-untyped-def]
    dau = act_p.groupby("day").member.nunique()
    counts = pev.groupby(["day", "type"]).size()
    return [
        {
            "dau": int(dau.get(day, 0)),
            "joins": int(counts.get((day, "join"), 0)),
            "leaves": int(counts.get((day, "leave"), 0)),
            "messages": int(counts.get((day, "message"), 0)),
        }
        for day in range(p["ds"], p["de"])
    ]


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
