"""Computing every metric of docs/metrics.md for a period, per community and `*`.

`compute` takes a workspace (it syncs the columnar copy first), a DuckDB connection
to a copy (`shequn.analytics.copy`), or a `shequn.analytics.backend.Backend` holding
the copy's tables (e.g. ClickHouse in-process). The work is a handful of set-based SQL
statements over the copy, staged in temporary tables on a private cursor:

1. `iv`: membership intervals with their referral roots (shequn.analytics.sql), and
   `t_sp`: the same per scope, disjoint per member (`*` merges communities);
2. `mf`: per member and scope, the FLAGS of the registry;
3. `ch`, `dd`: visits and channel joins per channel; daily active members;
4. one query of the registry's FACTS per scope, and the METRICS over them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from shequn.analytics import sql
from shequn.analytics.backend import Backend, DuckBackend
from shequn.analytics.period import ZonedPeriod
from shequn.domain.metrics import FACTS, FLAGS, METRICS
from shequn.workspace import Workspace

Figures = dict[str, dict[str, Any]]
Source = Workspace | duckdb.DuckDBPyConnection | Backend
CENT = Decimal("0.01")
# Communities in key order, then the workspace.
_STAR_LAST = "CASE WHEN scope = '*' THEN 1 ELSE 0 END, scope"

# Where each fact source's rows come from, and whether they are already per scope.
_SOURCES: dict[str, tuple[str, bool]] = {
    "members": ("mf", True),
    "events": ("pev", False),
    "orders": ("t_orders_p", False),
    "invited": ("invited_p", False),
    "channels": ("ch", True),
    "days": ("dd", True),
    "window": ("win", False),
    "tasks": ("tasks", False),
}


@contextmanager
def copy_cursor(source: Source, zone: ZoneInfo | None = None) -> Iterator[tuple[Backend, ZoneInfo]]:
    """A private cursor on an up-to-date copy, and the zone to cut days in."""
    if isinstance(source, Workspace):
        from shequn.analytics.sync import open_copy

        with open_copy(source) as (con, _result):
            cursor = con.cursor()
            try:
                yield DuckBackend(cursor), source.settings.zone
            finally:
                cursor.close()
        return
    if zone is None:
        raise ValueError("a connection needs the workspace zone")
    if not isinstance(source, duckdb.DuckDBPyConnection):
        yield source, zone
        return
    cursor = source.cursor()
    try:
        yield DuckBackend(cursor), zone
    finally:
        cursor.close()


def compute(
    source: Source,
    start: date,
    end: date,
    *,
    zone: ZoneInfo | None = None,
    cohort_days: int = 30,
) -> Figures:
    """Every metric for local dates [start, end): one object per community and `*`.

    Args:
        source: a workspace (synced first), or a connection to a copy or a backend
            holding its tables (then `zone`).
        start: first local day of the period.
        end: the local day after the period (exclusive).
        zone: the workspace time zone, for a connection.
        cohort_days: N of the join-cohort conversion.

    Returns:
        {scope: {metric name: value}}; ratios with a zero denominator are None,
        money is Decimal.
    """
    with copy_cursor(source, zone) as (db, tz):
        period = ZonedPeriod(start, end, tz, cohort_days)
        prepare(db, period)
        return figures_of(db, period)


def figures_of(db: Backend, period: ZonedPeriod) -> Figures:
    """Every metric, on a cursor `prepare`d for the period."""
    figures = _scope_metrics(db, period)
    for scope, rows in _by_channel(db, period).items():
        figures[scope]["by_channel"] = rows
    for scope, items in _content(db, period).items():
        figures[scope]["content_ctr"] = items
    return figures


def prepare(db: Backend, period: ZonedPeriod, only: tuple[str, ...] = ()) -> None:
    """Stage the period's intervals, member flags, channels and daily actives.

    `only` names the tables to stage (in `stages` order; each after those it reads),
    for readers that need a few: the daily watch stages spans and daily actives.
    """
    params = period.params()
    for name, statement in stages().items():
        if only and name not in only:
            continue
        db.execute(f"DROP TABLE IF EXISTS {name}")
        db.execute(statement.format(**params))


def stages() -> dict[str, str]:
    """The temporary tables `prepare` makes, in order, and their statements."""
    return {
        "t_jl": sql.MAKE_JL,
        "t_orders": sql.MAKE_ORDERS,
        "t_iv": sql.MAKE_SPANS,
        "t_inv": sql.MAKE_INVITED,
        "iv": sql.MAKE_INTERVALS,
        "t_sp": sql.MAKE_SCOPE_SPANS,
        "t_orders_p": sql.MAKE_ORDERS_P,
        "t_ad": sql.MAKE_ACTIVE_DAYS,
        "mf": _member_flags_sql(),
        "ch": sql.MAKE_CHANNELS,
        "dd": sql.MAKE_DAYS,
    }


def _member_flags_sql() -> str:
    sources = list(dict.fromkeys(flag.source for flag in FLAGS))
    parts = []
    for source in sources:
        columns = ", ".join(
            f"{flag.expr} AS {flag.name}" if flag.source == source else f"NULL AS {flag.name}"
            for flag in FLAGS
        )
        parts.append(
            f"SELECT community, member, {columns} FROM {source} "
            "WHERE member IS NOT NULL GROUP BY community, member"
        )
    combined = ", ".join(f"{flag.combine}({flag.name}) AS {flag.name}" for flag in FLAGS)
    union = "\nUNION ALL\n".join(parts)
    return (
        f"CREATE TEMPORARY TABLE mf AS WITH {sql.EVENTS}, {sql.MEMBER_SOURCES},\n"
        f"flag_rows AS ({union})\n"
        f"SELECT {sql.SCOPE} AS scope, member, {combined} FROM flag_rows "
        "GROUP BY GROUPING SETS ((community, member), (member))"
    )


def _facts_sql() -> str:
    ctes, joins, columns = [], [], []
    for source, (table, scoped) in _SOURCES.items():
        facts = [fact for fact in FACTS if fact.source == source]
        exprs = ", ".join(f"{fact.expr} AS {fact.name}" for fact in facts)
        if scoped:
            body = f"SELECT scope, {exprs} FROM {table} GROUP BY scope"
        else:
            body = (
                f"SELECT {sql.SCOPE} AS scope, {exprs} FROM {table} "
                "GROUP BY GROUPING SETS ((community), ())"
            )
        ctes.append(f"src_{source} AS ({body})")
        joins.append(f"LEFT JOIN src_{source} ON src_{source}.scope = s.scope")
        columns += [f"COALESCE(src_{source}.{fact.name}, 0) AS {fact.name}" for fact in facts]
    return (
        f"WITH {sql.EVENTS}, {sql.MEMBER_SOURCES}, {sql.FACT_SOURCES},\n"
        "scopes AS (SELECT community AS scope FROM community_start "
        "UNION ALL SELECT '*' AS scope),\n" + ",\n".join(ctes) + ",\n"
        f"facts AS (SELECT s.scope AS scope, {', '.join(columns)} "
        f"FROM scopes AS s {' '.join(joins)})\n"
    )


def _scope_metrics(db: Backend, period: ZonedPeriod) -> Figures:
    shown = [m for m in METRICS if m.kind != "table"]
    columns = ["scope"]
    for i, metric in enumerate(shown):
        columns.append(f"({metric.value}) AS v{i}")
        columns.append(f"({metric.per or 'NULL'}) AS p{i}")
    query = _facts_sql() + f"SELECT {', '.join(columns)} FROM facts ORDER BY {_STAR_LAST}"
    figures: Figures = {}
    for row in db.rows(query.format(**period.params())):
        computed = {
            metric.name: _value(metric.kind, row[1 + 2 * i], row[2 + 2 * i], metric.per)
            for i, metric in enumerate(shown)
        }
        # Keys in the contract's order; breakdowns are filled in by their own queries.
        figures[row[0]] = {m.name: computed.get(m.name, {}) for m in METRICS}
    return figures


def _value(kind: str, value: Any, per: Any, has_per: str | None) -> Any:
    if kind == "money":
        money = Decimal(value)
        if has_per is None:
            return money
        return None if not per else (money / Decimal(per)).quantize(CENT, ROUND_HALF_EVEN)
    if kind == "ratio":
        return None if not per else int(value) / int(per)
    return int(value)


def _by_channel(db: Backend, period: ZonedPeriod) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rows = db.rows(sql.BY_CHANNEL.format(**period.params()))
    for scope, channel, visits, channel_joins, joins, buyers, gmv in rows:
        out.setdefault(scope, {})[channel] = {
            "visits": int(visits),
            "channel_joins": int(channel_joins),
            "traffic_conversion": int(channel_joins) / int(visits) if visits else None,
            "joins": int(joins),
            "buyers": int(buyers),
            "gmv": Decimal(gmv),
        }
    return out


def _content(db: Backend, period: ZonedPeriod) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rows = db.rows(sql.CONTENT.format(**period.params()))
    for scope, content_id, clickers, members in rows:
        out.setdefault(scope, {})[content_id] = int(clickers) / int(members) if members else None
    return out


def data_days(source: Source) -> tuple[date, date] | None:
    """The first and last local day with events, or None for an empty log."""
    from shequn.analytics.period import from_day_number

    with copy_cursor(source, ZoneInfo("UTC")) as (db, _zone):
        first, last = db.rows("SELECT MIN(day), MAX(day) FROM events")[0]
    if first is None:
        return None
    return from_day_number(first), from_day_number(last)
