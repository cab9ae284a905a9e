"""Member profiles (用户画像): every figure, tier, lifecycle state and churn risk per person.

`profiles(ws, when)` syncs the analytics copy, reads the figures of every person as of
`when` (shequn.members.figures), joins what the store recorded (points, tags, tier,
state: shequn.members.recorded), and decides tier, state and churn risk in Polars,
column-wise. The churn model is trained on the same workspace's history: features at
`when - horizon`, labels observed by `when` (shequn.members.churn).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from shequn.analytics.sync import open_copy
from shequn.config import Settings
from shequn.members import churn
from shequn.members.figures import AsOf
from shequn.members.recorded import SCHEMA, recorded
from shequn.members.refit import kept_model, refit_due
from shequn.members.rfm import with_rfm
from shequn.members.states import state_expr
from shequn.members.stored import kept_figures
from shequn.members.tiers import decide
from shequn.store.engine import read_transaction
from shequn.workspace import Workspace

# Columns of `shequn members list`, first the ones the brief of every row needs.
LIST_COLUMNS: tuple[str, ...] = (
    "member",
    "tier",
    "state",
    "churn_risk",
    "segment",
    "communities",
    "messages",
    "replies_received",
    "days_active",
    "orders",
    "gmv",
    "points",
    "tags",
)


def profiles(ws: Workspace, when: datetime, *, cold: bool = False) -> pl.DataFrame:
    """Every person's profile as of `when` (timezone-aware), one row each.

    The figures kept in the copy are brought up to date for the people whose events
    changed (shequn.members.stored); `cold` recomputes everyone and refits the churn
    model (shequn.members.refit).
    """
    at = AsOf.of(when, ws.settings.zone, _window(ws.settings))
    with read_transaction(ws.engine) as conn:
        stored = {0: recorded(conn, at.now)}
        for days in _grace_lengths(ws.settings):
            stored[days] = recorded(conn, at.back(days).now)
    with open_copy(ws) as (con, _result):
        return assemble(con, ws.settings, at, stored, cold=cold)


def assemble(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: AsOf,
    stored: dict[int, pl.DataFrame],
    *,
    cold: bool = False,
) -> pl.DataFrame:
    """Profiles from a copy and the recorded state (by days back: 0 = now).

    The copy keeps the figures of `at` (and of each grace length before it) and the
    churn model between runs; `cold` recomputes them all from the events.
    """
    rules = settings.member_states
    refit = refit_due(con, settings, at, cold=cold)
    kept = _kept(con, settings, at, refit=refit, cold=cold)

    def at_back(days: int) -> pl.DataFrame:
        frame = kept[days].join(stored[days], on="member", how="left")
        missing = [
            pl.lit(None, kind).alias(c) for c, kind in SCHEMA.items() if c not in frame.columns
        ]
        return frame.with_columns(missing)

    now = at_back(0).sort("member").with_columns(state_expr(rules, at.today, at.now))
    if settings.tiers:
        now = now.join(decide(now, settings.tiers, at_back), on="member", how="left")
    else:
        now = now.with_columns(
            pl.lit(None, pl.String).alias("tier"), pl.lit("").alias("tier_reason")
        )
    cut = kept[rules.churn_horizon_days] if refit else None
    model = kept_model(con, settings, at, now, cut)
    risk = pl.Series(churn.score(model, now, rules.silent_days)).round(3)
    # Churned members have nothing left to lose.
    none = pl.Series([None] * now.height, dtype=pl.Float64)
    now = now.with_columns(risk.zip_with(now["state"] != "churned", none).alias("churn_risk"))
    return with_rfm(now, at.now)


def _kept(
    con: duckdb.DuckDBPyConnection, settings: Settings, at: AsOf, *, refit: bool, cold: bool
) -> dict[int, pl.DataFrame]:
    """The figures by days back: now, each grace length, the churn cut when refitting.

    Earliest first, each starting from the one before when it must be computed anew,
    so a cold run reads every event once and then only the days between the instants.
    """
    backs = set(_grace_lengths(settings))
    if refit:
        backs.add(settings.member_states.churn_horizon_days)
    frames: dict[int, pl.DataFrame] = {}
    after = None
    for days in (*sorted(backs, reverse=True), 0):
        name = f"back_{days}" if days else "now"
        gap = settings.member_states.churned_days
        frames[days] = kept_figures(
            con, at.back(days), gap, name, cold=cold and after is None, after=after
        )
        after = name
    return frames


def _window(settings: Settings) -> int:
    windows = {t.window_days for t in settings.tiers if t.window_days}
    if len(windows) > 1:
        from shequn.errors import InputError

        raise InputError(
            f"tiers use different window_days {sorted(windows)}",
            field="tiers.window_days",
            hint="give every windowed tier the same window_days",
        )
    return windows.pop() if windows else 30


def _grace_lengths(settings: Settings) -> list[int]:
    return sorted({t.grace_days for t in settings.tiers if t.grace_days})


# Instants of a profile (UTC microseconds), shown as local times in exports.
INSTANTS: tuple[str, ...] = (
    "first_seen",
    "first_active",
    "last_active",
    "first_order",
    "last_order",
)


def readable(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """The profile with its instants as local "YYYY-MM-DD HH:MM" text, for people."""
    return frame.with_columns(
        pl.from_epoch(name, time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(zone)
        .dt.strftime("%Y-%m-%d %H:%M")
        .alias(name)
        for name in INSTANTS
    )
