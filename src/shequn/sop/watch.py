"""The daily metric watch: each community's daily values and the thresholds they cross.

Once per local day (the workspace zone), after the day has ended, the engine measures
the WATCHABLE metrics of `shequn.sop.thresholds` for every community and the days a
threshold needs, and records a `metric_crossed` event (text: the threshold's id, ts:
the instant the day ended) on the day a condition has held `days` days running. One
event per run: the run is counted from a day that fails the condition, so the watch
re-arms after such a day. Runs are found from the values alone (no streak counters to
keep), so a day watched twice records nothing twice.

Daily values are the registry's daily figures (`shequn.domain.metrics.DAILY`, keyed by
their names: `daily_members`, `daily_active_rate`, ...), read from the daily form of the
columnar copy (`shequn.analytics.series`), with merged member keys resolved to persons:

- `daily_members`: memberships covering the instant the day ends (`members_at`);
- `daily_joins`, `daily_leaves`, `daily_messages`: events of the day; `daily_dau`:
  distinct active members;
- `daily_active_rate`: DAU / members at the day's end (None when there are no members);
- `daily_orders`: orders whose rows of the day net more than 0; `daily_gmv`: exact.

A day before a community's first event has no values, and no value satisfies a
condition. `below: goal` / `above: goal` use the target of the community's first goal
in shequn.toml on the metric the daily figure declares as its `goal` (short-term goals
first); without one, no crossing.

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
from sqlalchemy import Connection

from shequn.analytics import series
from shequn.analytics.backend import Backend
from shequn.analytics.engine import copy_cursor, prepare
from shequn.analytics.period import ZonedPeriod, local_midnight_us
from shequn.clock import from_micros
from shequn.config import Community, Settings
from shequn.sop import journal
from shequn.sop.thresholds import Threshold
from shequn.store import state as store_state
from shequn.workspace import Workspace

log = logging.getLogger("shequn.sop.watch")
WATCH_DAY = "watch_day"  # the last local day watched (ISO date)
WATCH_HELD = "watch_held"  # {community: [threshold ids holding on that day]}
MAX_DAYS = 90  # the longest run a threshold may ask for (Threshold.days)
CATCH_UP = 90  # days watched at most after downtime
Value = int | float | Decimal | None


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
    with copy_cursor(ws) as (db, zone):
        return measure_on(db, zone, first, last)


def measure_on(db: Backend, zone: ZoneInfo, first: date, last: date) -> Readings:
    """Daily values on a backend holding the copy's tables (see the module docstring)."""
    period = ZonedPeriod(first, last + timedelta(days=1), zone)
    prepare(db, period, only=("t_jl", "t_iv", *series.DAILY_STAGES))
    start = period.params()["ds"]
    days = [first + timedelta(days=i) for i in range(period.days)]
    members = _members(db, [local_midnight_us(d + timedelta(days=1), zone) for d in days])
    counts = series.daily_counts(db, period)
    active = series.daily_active(db)
    orders = series.daily_orders(db, period)
    readings = Readings(first, last)
    for community, first_ts in db.rows("SELECT community, first_ts FROM community_start"):
        opened = from_micros(first_ts).astimezone(zone).date()
        per_day: dict[date, dict[str, Value]] = {}
        for i, day in enumerate(days):
            if day < opened:
                continue
            key = (community, start + i)
            joins, leaves, messages, gmv = counts.get(key, (0, 0, 0, Decimal(0)))
            held, dau = members.get((community, i), 0), active.get(key, 0)
            per_day[day] = {
                "daily_members": held,
                "daily_joins": joins,
                "daily_leaves": leaves,
                "daily_messages": messages,
                "daily_dau": dau,
                "daily_active_rate": dau / held if held else None,
                "daily_orders": orders.get(key, 0),
                "daily_gmv": gmv,
            }
        readings.values[community] = per_day
    return readings


def _members(db: Backend, ends: list[int]) -> dict[tuple[str, int], int]:
    """Members at each day's end (index i): intervals with start <= end of day < their end."""
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
    wanted = threshold.figure.goal
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
    values = [readings.value(community, day - timedelta(days=k), threshold.figure.name) for k in
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


def prefetch(ws: Workspace, now: datetime) -> Readings | None:
    """Measure, before the tick's write transaction, what the next watch needs.

    Returns None when no local day has ended since the last watch (the usual tick).
    """
    from shequn.clock import to_micros
    from shequn.store.engine import read_transaction

    with read_transaction(ws.engine) as conn:
        last = store_state.get(conn, WATCH_DAY)
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
    last = store_state.get(conn, WATCH_DAY)
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
    assert readings is not None or not chosen
    rows, held = crossed(readings or Readings(first, first), settings, chosen, communities, due)
    journal.record(conn, rows)
    store_state.put(conn, WATCH_DAY, due[-1].isoformat())
    store_state.put(
        conn, WATCH_HELD, json.dumps({c: sorted(ids) for c, ids in held.items()}, sort_keys=True)
    )
    return held


def crossed(
    readings: Readings,
    settings: Settings,
    thresholds: Iterable[Threshold],
    communities: Iterable[str],
    days: list[date],
) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """The crossings on `days` (`metric_crossed` rows) and, per community, the ids of the
    thresholds holding on the last of them. Reads `readings` only; writes nothing.
    """
    rows: list[dict[str, Any]] = []
    held: dict[str, set[str]] = {}
    chosen = sorted(set(thresholds), key=lambda t: t.id)
    for community in sorted(set(communities)):
        config = settings.community(community)
        held[community] = set()
        for threshold in chosen:
            bound = goal_bound(threshold, config)
            holds = False
            for day in days:
                holds, crossing = _runs(readings, community, threshold, bound, day)
                if crossing:
                    rows.append(
                        _crossing(community, threshold, bound, day, readings, settings.zone)
                    )
            if holds:
                held[community].add(threshold.id)
    return rows, held


def _crossing(
    community: str,
    threshold: Threshold,
    bound: float | None,
    day: date,
    readings: Readings,
    zone: ZoneInfo,
) -> dict[str, Any]:
    value = readings.value(community, day, threshold.figure.name)
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
    stored = store_state.get(conn, WATCH_HELD)
    return {c: set(ids) for c, ids in json.loads(stored).items()} if stored else {}
