"""Figures over time: daily series and weekly retention cohorts (docs/metrics.md).

- `daily_series`: per scope and local day of [start, end): dau, joins, leaves,
  messages, gmv. `daily_counts`, `daily_active` and `daily_orders` are the one daily
  form of the log; the daily watch (`shequn.sop.watch`) reads them too.
- `retention`: cohort w = members whose first join (in the scope) falls in week w, for
  the weeks that overlap [start, end); for k = 0 .. while week w+k starts before `end`:
  `retention` = share of the cohort active in week w+k, `membership_retention` = share
  still members at the instant week w+k ends.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shequn.analytics import sql
from shequn.analytics.backend import Backend
from shequn.analytics.engine import Source, copy_cursor, figures_of, prepare
from shequn.analytics.period import (
    ZonedPeriod,
    day_number,
    from_day_number,
    local_midnight_us,
    week_monday,
    week_number,
)

_DAILY = f"""
WITH {sql.EVENTS}
SELECT {sql.SCOPE} AS scope, day,
       SUM(CASE WHEN type = 'join' THEN 1 ELSE 0 END) AS joins,
       SUM(CASE WHEN type = 'leave' THEN 1 ELSE 0 END) AS leaves,
       SUM(CASE WHEN type = 'message' THEN 1 ELSE 0 END) AS messages,
       SUM(CASE WHEN type = 'order' THEN COALESCE(amount, 0) ELSE 0 END) AS gmv
FROM pev
GROUP BY GROUPING SETS ((community, day), (day))
"""

# Orders of a day: the day's rows of one (community, order_id) with a net amount > 0.
_DAILY_ORDERS = f"""
WITH {sql.EVENTS}
SELECT {sql.SCOPE} AS scope, day, COUNT(*) AS orders FROM (
    SELECT community, day, order_id, CASE WHEN order_id IS NULL THEN id ELSE 0 END AS solo,
           SUM(COALESCE(amount, 0)) AS net
    FROM pev WHERE type = 'order'
    GROUP BY community, day, order_id, solo
) AS per_order WHERE net > 0
GROUP BY GROUPING SETS ((community, day), (day))
"""
# What `daily_active` reads, for callers that stage no more (`prepare(..., only=...)`).
DAILY_STAGES = ("t_ad", "dd")
DayKey = tuple[str, int]  # (scope, day number)

_RETENTION = f"""
WITH {sql.EVENTS},
weeks AS ({{weeks}}),
firsts AS (
    SELECT {sql.SCOPE} AS scope, member, MIN(ts) AS ts FROM t_jl WHERE type = 'join'
    GROUP BY GROUPING SETS ((community, member), (member))
),
cohort AS (
    SELECT f.scope, f.member, w.week FROM firsts AS f JOIN weeks AS w
      ON f.ts >= w.start_ts AND f.ts < w.end_ts
),
active_weeks AS (
    -- Only the activity of members in some cohort is ever looked up.
    SELECT {sql.SCOPE} AS scope, a.member, w.week
    FROM t_ad AS a JOIN weeks AS w ON a.day >= w.start_day AND a.day < w.end_day
    WHERE a.member IN (SELECT member FROM cohort)
    GROUP BY GROUPING SETS ((a.community, a.member, w.week), (a.member, w.week))
),
held AS (
    -- A member's spans in a scope are disjoint: at most one covers a week's end.
    SELECT c.scope, c.week AS cohort_week, w.week, COUNT(*) AS members
    FROM cohort AS c JOIN weeks AS w ON w.week >= c.week
    JOIN t_sp AS v ON v.scope = c.scope AND v.member = c.member
     AND v.start_ts <= w.end_ts AND w.end_ts < v.end_ts
    GROUP BY c.scope, c.week, w.week
),
kept AS (
    SELECT c.scope, c.week AS cohort_week, a.week, COUNT(*) AS active
    FROM cohort AS c JOIN active_weeks AS a
      ON a.scope = c.scope AND a.member = c.member AND a.week >= c.week
    GROUP BY c.scope, c.week, a.week
)
SELECT 'size' AS kind, scope, week AS cohort_week, week, COUNT(*) AS n FROM cohort
GROUP BY scope, week
UNION ALL SELECT 'active', scope, cohort_week, week, active FROM kept
UNION ALL SELECT 'held', scope, cohort_week, week, members FROM held
"""


def daily_series(
    source: Source, start: date, end: date, *, zone: ZoneInfo | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Per scope, one row per local day of [start, end): dau, joins, leaves,
    messages, gmv (days with nothing are zeros)."""
    with copy_cursor(source, zone) as (db, tz):
        period = ZonedPeriod(start, end, tz)
        prepare(db, period)
        return daily_of(db, period)


def daily_of(db: Backend, period: ZonedPeriod) -> dict[str, list[dict[str, Any]]]:
    """The daily series, on a cursor `prepare`d for the period."""
    params = period.params()
    counts = daily_counts(db, period)
    dau = daily_active(db)
    out: dict[str, list[dict[str, Any]]] = {}
    for scope in _scopes(db):
        out[scope] = []
        for day in range(params["ds"], params["de"]):
            joins, leaves, messages, gmv = counts.get((scope, day), (0, 0, 0, Decimal(0)))
            out[scope].append(
                {
                    "day": from_day_number(day),
                    "dau": dau.get((scope, day), 0),
                    "joins": joins,
                    "leaves": leaves,
                    "messages": messages,
                    "gmv": gmv,
                }
            )
    return out


def daily_counts(db: Backend, period: ZonedPeriod) -> dict[DayKey, tuple[int, int, int, Decimal]]:
    """Joins, leaves, messages and gmv per scope and day of the period (days with events)."""
    rows = db.rows(_DAILY.format(**period.params()))
    return {(r[0], r[1]): (int(r[2]), int(r[3]), int(r[4]), Decimal(r[5])) for r in rows}


def daily_active(db: Backend) -> dict[DayKey, int]:
    """Distinct active members per scope and day (the staged `dd`; days with any)."""
    return {(r[0], r[1]): int(r[2]) for r in db.rows("SELECT scope, day, dau FROM dd")}


def daily_orders(db: Backend, period: ZonedPeriod) -> dict[DayKey, int]:
    """Orders per scope and day: a day's rows of one order netting more than 0."""
    rows = db.rows(_DAILY_ORDERS.format(**period.params()))
    return {(r[0], r[1]): int(r[2]) for r in rows}


def _scopes(db: Backend) -> list[str]:
    rows = db.rows("SELECT community FROM community_start ORDER BY community")
    return [r[0] for r in rows] + ["*"]


def retention(
    source: Source, start: date, end: date, *, zone: ZoneInfo | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Weekly retention cohorts per scope (see the module docstring)."""
    with copy_cursor(source, zone) as (db, tz):
        period = ZonedPeriod(start, end, tz)
        prepare(db, period)
        return retention_of(db, period)


def retention_of(db: Backend, period: ZonedPeriod) -> dict[str, list[dict]]:
    """The retention cohorts, on a cursor `prepare`d for the period."""
    tz = period.zone
    first_week = week_number(day_number(period.start))
    last_week = week_number(day_number(period.end) - 1)
    weeks = range(first_week, last_week + 1)
    # Week bounds are local midnights: around a DST change a week is not 7 * 24 h.
    bounds = {
        w: (local_midnight_us(week_monday(w), tz), local_midnight_us(week_monday(w + 1), tz))
        for w in weeks
    }
    # Rows as a UNION ALL of SELECTs: ClickHouse has no `VALUES ... AS w (columns)`.
    values = " UNION ALL ".join(
        f"SELECT {w} AS week, {lo} AS start_ts, {hi} AS end_ts, "
        f"{w * 7 - 3} AS start_day, {w * 7 + 4} AS end_day"
        for w, (lo, hi) in bounds.items()
    )
    query = _RETENTION.format(**period.params(), weeks=values)
    found = {
        (kind, scope, cohort_week, week): int(n)
        for kind, scope, cohort_week, week, n in db.rows(query)
    }
    return {scope: _cohort_rows(found, scope, weeks) for scope in _scopes(db)}


def report(
    source: Source, start: date, end: date, *, zone: ZoneInfo | None = None
) -> dict[str, Any]:
    """Metrics, daily series and retention cohorts for one period, staged once."""
    with copy_cursor(source, zone) as (db, tz):
        period = ZonedPeriod(start, end, tz)
        prepare(db, period)
        return {
            "metrics": figures_of(db, period),
            "daily": daily_of(db, period),
            "retention": retention_of(db, period),
        }


def _cohort_rows(
    found: dict[tuple[str, str, int, int], int], scope: str, weeks: range
) -> list[dict[str, Any]]:
    rows = []
    for cohort_week in weeks:
        size = found.get(("size", scope, cohort_week, cohort_week), 0)
        for week in range(cohort_week, weeks.stop):
            active = found.get(("active", scope, cohort_week, week), 0)
            held = found.get(("held", scope, cohort_week, week), 0)
            rows.append(
                {
                    "week": week_monday(cohort_week),
                    "k": week - cohort_week,
                    "cohort": size,
                    "active": active,
                    "retention": active / size if size else None,
                    "members": held,
                    "membership_retention": held / size if size else None,
                }
            )
    return rows
