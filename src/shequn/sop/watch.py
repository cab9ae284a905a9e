"""The daily metric watch: each community's daily values and the thresholds they cross.

Once per local day (the workspace zone), after the day has ended, the engine measures
the WATCHABLE metrics of `shequn.sop.thresholds` for every community and the days a
threshold needs, and records a `metric_crossed` event (text: the threshold's id, ts:
the instant the day ended) on the day a condition has held `days` days running. One
event per run: the run is counted from a day that fails the condition, so the watch
re-arms after such a day. Runs are found from the values alone (no streak counters to
keep), so a day watched twice records nothing twice.

Daily values follow docs/metrics.md on the columnar copy (`shequn.analytics`), with
merged member keys resolved to persons:

- `members`: memberships covering the instant the day ends (`members_at`);
- `joins`, `leaves`, `messages`: events of the day; `dau`: distinct active members;
- `active_rate`: dau / members at the day's end (None when there are no members);
- `orders`: orders whose rows of the day have a net amount > 0; `gmv`: exact decimal.

A day before a community's first event has no values, and no value satisfies a
condition. `below: goal` / `above: goal` use the target of the community's first goal
in shequn.toml on that metric (short-term goals first); without one, no crossing.

Measuring reads the copy, never the store's write lock: `prefetch` runs before the
tick's write transaction; `watch` (inside it) only measures itself when given nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import Connection, select

from shequn.analytics import sql
from shequn.analytics.backend import Backend
from shequn.analytics.period import ZonedPeriod, local_midnight_us
from shequn.clock import from_micros
from shequn.config import Community, Settings
from shequn.sop import journal
from shequn.sop.thresholds import WATCHABLE, Threshold
from shequn.store import dialect
from shequn.store.sop_schema import state
from shequn.workspace import Workspace

log = logging.getLogger("shequn.sop.watch")
WATCH_DAY = "watch_day"  # the last local day watched (ISO date)
WATCH_HELD = "watch_held"  # {community: [threshold ids holding on that day]}
MAX_DAYS = 90  # the longest run a threshold may ask for (Threshold.days)
CATCH_UP = 90  # days watched at most after downtime
# The goal metric (docs/metrics.md) a watched metric's `goal` bound is read from.
GOAL_METRIC = {"members": "members_at_end"}
Value = int | float | Decimal | None

_DAILY = f"""
WITH {sql.EVENTS}
SELECT community, day,
       SUM(CASE WHEN type = 'join' THEN 1 ELSE 0 END) AS joins,
       SUM(CASE WHEN type = 'leave' THEN 1 ELSE 0 END) AS leaves,
       SUM(CASE WHEN type = 'message' THEN 1 ELSE 0 END) AS messages,
       COUNT(DISTINCT CASE WHEN type IN ('message', 'reaction', 'checkin') AND member IS NOT NULL
                           THEN member END) AS dau,
       SUM(CASE WHEN type = 'order' THEN COALESCE(amount, 0) ELSE 0 END) AS gmv
FROM pev GROUP BY community, day
"""

# Orders of a day: the day's rows of one (community, order_id) with a net amount > 0.
_ORDERS = f"""
WITH {sql.EVENTS}
SELECT community, day, COUNT(*) AS orders FROM (
    SELECT community, day, order_id, CASE WHEN order_id IS NULL THEN id ELSE 0 END AS solo,
           SUM(COALESCE(amount, 0)) AS net
    FROM pev WHERE type = 'order'
    GROUP BY community, day, order_id, solo
) AS per_order WHERE net > 0 GROUP BY community, day
"""


@dataclass
class Readings:
    """Daily values of local days [first, last] per community (days it existed)."""

    first: date
    last: date
    values: dict[str, dict[date, dict[str, Value]]] = field(default_factory=dict)

    def value(self, community: str, day: date, metric: str) -> Value:
        return self.values.get(community, {}).get(day, {}).get(metric)

    def covers(self, first: date, last: date) -> bool:
        return self.first <= first and last <= self.last


def measure(ws: Workspace, first: date, last: date) -> Readings:
    """Daily values of local days [first, last], from the synced columnar copy."""
    from shequn.analytics.engine import copy_cursor

    with copy_cursor(ws) as (db, zone):
        return measure_on(db, zone, first, last)


def measure_on(db: Backend, zone: ZoneInfo, first: date, last: date) -> Readings:
    """Daily values on a backend holding the copy's tables (see the module docstring)."""
    period = ZonedPeriod(first, last + timedelta(days=1), zone)
    params = period.params()
    days = [first + timedelta(days=i) for i in range(period.days)]
    members = _members(db, params, [local_midnight_us(d + timedelta(days=1), zone) for d in days])
    counts = {(r[0], r[1]): r[2:] for r in db.rows(_DAILY.format(**params))}
    orders = {(r[0], r[1]): r[2] for r in db.rows(_ORDERS.format(**params))}
    readings = Readings(first, last)
    for community, first_ts in db.rows("SELECT community, first_ts FROM community_start"):
        opened = from_micros(first_ts).astimezone(zone).date()
        per_day: dict[date, dict[str, Value]] = {}
        for i, day in enumerate(days):
            if day < opened:
                continue
            number = params["ds"] + i
            joins, leaves, messages, dau, gmv = counts.get((community, number), (0, 0, 0, 0, 0))
            held = members.get((community, i), 0)
            per_day[day] = {
                "members": held,
                "joins": int(joins),
                "leaves": int(leaves),
                "messages": int(messages),
                "dau": int(dau),
                "active_rate": int(dau) / held if held else None,
                "orders": int(orders.get((community, number), 0)),
                "gmv": Decimal(gmv),
            }
        readings.values[community] = per_day
    return readings


def _members(db: Backend, params: dict[str, int], ends: list[int]) -> dict[tuple[str, int], int]:
    """Members at each day's end (index i): intervals with start <= end of day < their end."""
    for name, statement in (("t_jl", sql.MAKE_JL), ("t_iv", sql.MAKE_SPANS)):
        db.execute(f"DROP TABLE IF EXISTS {name}")
        db.execute(statement.format(**params))
    days = ", ".join(f"({i}, {end})" for i, end in enumerate(ends))
    query = f"""
        WITH days AS (SELECT i, e FROM (VALUES {days}) AS d (i, e))
        SELECT v.community, d.i, COUNT(*) AS members
        FROM t_iv AS v JOIN days AS d ON v.start_ts <= d.e AND d.e < v.end_ts
        GROUP BY v.community, d.i"""
    return {(str(c), int(i)): int(n) for c, i, n in db.rows(query)}


def goal_bound(threshold: Threshold, community: Community | None) -> float | None:
    """The number a threshold compares with: its own, or the community's goal target."""
    if threshold.bound != "goal":
        return float(threshold.bound)
    if community is None:
        return None
    wanted = GOAL_METRIC.get(threshold.metric, threshold.metric)
    for goal in (*community.short_term_goals, *community.long_term_goals):
        if goal.metric == wanted and goal.target is not None:
            return float(goal.target)
    return None


def satisfied(threshold: Threshold, value: Value, bound: float | None) -> bool:
    """Whether a day's value satisfies the condition (a missing value never does)."""
    if value is None or bound is None:
        return False
    limit: Any = Decimal(str(bound)) if isinstance(value, Decimal) else bound
    return bool(value < limit) if threshold.op == "below" else bool(value > limit)


def _runs(
    readings: Readings, community: str, threshold: Threshold, bound: float | None, day: date
) -> tuple[bool, bool]:
    """(held: the last `days` days up to `day` satisfy it, crossed: and the day before not)."""
    values = [readings.value(community, day - timedelta(days=k), threshold.metric) for k in
              range(threshold.days + 1)]  # fmt: skip
    ok = [satisfied(threshold, value, bound) for value in values]
    held = all(ok[: threshold.days])
    return held, held and not ok[threshold.days]


def days_due(last_watched: date | None, yesterday: date) -> list[date]:
    """The local days to watch now: those ended since the last watch (the first: one)."""
    if last_watched is None:
        return [yesterday]
    first = max(last_watched + timedelta(days=1), yesterday - timedelta(days=CATCH_UP - 1))
    return [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]


def yesterday_of(now: int, zone: ZoneInfo) -> date:
    """The last local day that has ended at `now` (µs)."""
    return from_micros(now).astimezone(zone).date() - timedelta(days=1)


def _get(conn: Connection, name: str) -> str | None:
    return conn.scalar(select(state.c.value).where(state.c.name == name))


def _put(conn: Connection, name: str, value: str) -> None:
    dialect.upsert(conn, state, [{"name": name, "value": value}], update=["value"])


def prefetch(ws: Workspace, now: datetime) -> Readings | None:
    """Measure, before the tick's write transaction, what the next watch needs.

    Returns None when no local day has ended since the last watch (the usual tick).
    """
    from shequn.clock import to_micros
    from shequn.store.engine import read_transaction

    with read_transaction(ws.engine) as conn:
        last = _get(conn, WATCH_DAY)
    yesterday = yesterday_of(to_micros(now), ws.settings.zone)
    due = days_due(date.fromisoformat(last) if last else None, yesterday)
    if not due:
        return None
    try:
        return measure(ws, due[0] - timedelta(days=MAX_DAYS), due[-1])
    except (duckdb.Error, OSError) as exc:  # the watch inside the tick tries again
        log.warning("daily watch: measuring failed before the tick: %s", exc)
        return None


def watch(
    conn: Connection,
    settings: Settings,
    now: int,
    thresholds: Iterable[Threshold],
    readings: Readings | None,
    workspace: Workspace,
    communities: Iterable[str],
) -> dict[str, set[str]] | None:
    """Watch the days ended since the last watch; record the crossings (in `conn`).

    Returns per community the ids of thresholds holding on the last watched day, or
    None when no day was due (the caller keeps the stored ones: `held`).
    """
    zone = settings.zone
    last = _get(conn, WATCH_DAY)
    due = days_due(date.fromisoformat(last) if last else None, yesterday_of(now, zone))
    if not due:
        return None
    chosen = sorted(set(thresholds), key=lambda t: t.id)
    first = due[0] - timedelta(days=max((t.days for t in chosen), default=1))
    if chosen and (readings is None or not readings.covers(first, due[-1])):
        try:
            readings = measure(workspace, first, due[-1])
        except (duckdb.Error, OSError) as exc:
            # The SOP tick goes on; the days stay due and are watched at a later tick.
            log.warning("daily watch postponed: measuring failed: %s", exc)
            return None
    rows: list[dict[str, Any]] = []
    held: dict[str, set[str]] = {}
    for community in sorted(set(communities)):
        config = settings.community(community)
        held[community] = set()
        for threshold in chosen:
            bound = goal_bound(threshold, config)
            assert readings is not None
            for day in due:
                holds, crossed = _runs(readings, community, threshold, bound, day)
                if crossed:
                    rows.append(_crossing(community, threshold, bound, day, readings, zone))
            if holds:
                held[community].add(threshold.id)
    journal.record(conn, rows)
    _put(conn, WATCH_DAY, due[-1].isoformat())
    _put(conn, WATCH_HELD, json.dumps({c: sorted(ids) for c, ids in held.items()}, sort_keys=True))
    return held


def _crossing(
    community: str,
    threshold: Threshold,
    bound: float | None,
    day: date,
    readings: Readings,
    zone: ZoneInfo,
) -> dict[str, Any]:
    value = readings.value(community, day, threshold.metric)
    return journal.entry(
        "metric_crossed",
        local_midnight_us(day + timedelta(days=1), zone),
        community,
        f"{community}|{threshold.id}|{day.isoformat()}",
        text=threshold.id,
        metric=threshold.metric,
        value=_plain(value),
        bound=bound,
        days=threshold.days,
        day=day.isoformat(),
    )


def _plain(value: Value) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    return value


def held(conn: Connection) -> dict[str, set[str]]:
    """Per community, the thresholds that held on the last watched day."""
    stored = _get(conn, WATCH_HELD)
    return {c: set(ids) for c, ids in json.loads(stored).items()} if stored else {}


assert set(WATCHABLE) >= set(GOAL_METRIC)
