"""Benchmark of the web console: server time of the dashboard and of a members page.

Builds a simulated workspace once under benchmarks/.data/ (a year, three communities;
default 300k events so the whole run stays near a minute on a shared machine), then
requests, through the ASGI app in process (server time, no network):

- the dashboard of one community over the whole year: the first page (the columnar
  copy built — in the background, behind a progress page, when it lacks more than
  200k events — then figures and series computed) and then warm (p50/p95 of 20);
- its goals/funnel part (the review) the same way;
- a page of 50 members filtered from all (community, bought=no, activity=silent):
  the first page (every member's profile computed in the background, behind a
  progress page, then the member directory), then warm p50/p95 of 20.

With `--members`, the workspace is generated instead (benchmarks/store_gen.py: that
many members, heavy-tailed activity) — the issue's 10M events with 1M members:

    python benchmarks/web_bench.py
    python benchmarks/web_bench.py --events 1000000
    python benchmarks/web_bench.py --events 10000000 --members 1000000
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PASSWORD = "benchmark-password"


def build(events: int, members: int | None) -> Path:
    """The workspace, built once: simulated, or generated with `members` people."""
    from shequn.services.simulate import simulate_into
    from shequn.services.users import add_user
    from shequn.services.workspace import init_workspace
    from shequn.workspace import Workspace
    from store_gen import store_into

    root = DATA / (f"web-{events}" if members is None else f"web-{events}-{members}")
    if not (root / "shequn.toml").exists():
        DATA.mkdir(exist_ok=True)
        began = time.perf_counter()
        if members is None:
            ws = init_workspace(root, name=root.name)
            simulate_into(ws, communities=3, days=365, events=events, seed=7)
        else:
            store_into(root, members, events)
            ws = Workspace.open(root)
        add_user(ws, "bench", PASSWORD, "owner")
        ws.close()
        print(f"built {root.name} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return root


def _first(client, url: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds until the page itself shows: a page over a copy far behind the log shows
    the background build's progress until the copy is up to date, and the Members page
    that of the profiles' computation until they are ready."""
    start = time.perf_counter()
    while True:
        first = client.get(url)
        assert first.status_code == 200, first.text[:500]
        if not any(wait in first.text for wait in ("/dashboard/build/", "/members/profiles/")):
            return time.perf_counter() - start
        time.sleep(0.2)


def _timed(client, url: str, runs: int) -> dict:  # type: ignore[no-untyped-def]
    cold = _first(client, url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "first_ms": round(cold * 1000),
        "warm_p50_ms": round(statistics.median(times) * 1000, 1),
        "warm_p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument(
        "--members", type=int, default=None, help="generate this many members (store_gen)"
    )
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from shequn.analytics.engine import data_days
    from shequn.store.schema import events, members
    from shequn.web import create_app
    from shequn.workspace import Workspace

    root = build(args.events, args.members)
    ws = Workspace.open(root)
    with ws.engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(events))
        people = conn.scalar(select(func.count()).select_from(members))
    client = TestClient(create_app(ws))
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"name": "bench", "password": PASSWORD, "csrf": token})
    span = data_days(ws)
    assert span is not None
    community = ws.settings.communities[0].key if ws.settings.communities else ""
    with ws.engine.connect() as conn:
        from shequn.store.schema import communities

        community = conn.scalar(select(communities.c.key).order_by(communities.c.key))
    year = f"community={community}&from={span[0]}&to={span[1].fromordinal(span[1].toordinal() + 1)}"
    result = {
        "events": stored,
        "members": people,
        "dashboard_year": _timed(client, f"/?{year}", args.runs),
        "dashboard_goals_year": _timed(client, f"/dashboard/goals?{year}", args.runs),
        "members_page_50": _timed(
            client, f"/members?community={community}&bought=no&activity=silent", args.runs
        ),
    }
    ws.close()
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
