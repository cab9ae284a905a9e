"""Member profiles (用户画像): every figure, tier, lifecycle state and churn risk per person.

`profiles(ws, when)` syncs the analytics copy, reads the figures of every person as of
`when` (shequn.members.figures), joins what the store recorded (points, tags, tier,
state: shequn.members.recorded), and decides tier, state and churn risk in Polars,
column-wise. The churn model is trained on the same workspace's history: features at
`when - horizon`, labels observed by `when` (shequn.members.churn). The figures, the
model and the decided profiles are kept in the copy between runs: a run at the same
instant after new events decides again only the persons they touch
(shequn.members.kept_profiles).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import duckdb
import polars as pl

from shequn.analytics.sync import open_copy
from shequn.config import MemberStates, Settings
from shequn.members import churn, kept_profiles, tiers
from shequn.members.figures import DAY_US, AsOf, qualifying, with_time
from shequn.members.recorded import complete, recorded
from shequn.members.refit import kept_model, refit_due
from shequn.members.rfm import with_rfm
from shequn.members.states import state_expr
from shequn.members.stored import PAST, Mark, Update, before_kept, bring_up, mark, read_kept
from shequn.workspace import Workspace

R = TypeVar("R")

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
    with open_copy(ws) as (con, _result):
        return assemble(con, ws.settings, at, cold=cold)


@dataclass(frozen=True)
class Picked:
    """Some columns of the profiles meeting a condition, and how many profiles there are."""

    frame: pl.DataFrame
    total: int


@dataclass(frozen=True)
class Pick:
    """Which profiles to return (`where`: an expression over kept columns, no RFM score)
    and which of their kept columns (`columns`, with `member`)."""

    where: pl.Expr
    columns: tuple[str, ...]

    def reads(self) -> list[str]:
        """What a refresh reads back of every kept profile: what deciding and `where`
        read, but the columns the time pass derives anew (`TIME_PASSED`)."""
        return sorted({*_READS, *self.where.meta.root_names()} - set(TIME_PASSED))

    def of(self, frame: pl.DataFrame) -> Picked:
        """The picked rows of `frame` (profiles with every picked column)."""
        return Picked(frame.filter(self.where).select(self.columns), frame.height)


def picked(
    ws: Workspace,
    when: datetime,
    pick: Pick,
    then: Callable[[Picked], R],
    *,
    cold: bool = False,
) -> R:
    """`then` of the profiles as of `when` that `pick` asks for, in no particular order,
    and how many there are: what `shequn members refresh` compares and records.

    As `profiles`; but a refresh in a process that does not hold the kept profiles
    (shequn.members.kept_profiles) reads back of every kept row only what deciding and
    `pick.where` read, and the rest of `pick.columns` only for the rows meeting it.
    `then` runs in another thread while the copy is closed: closing writes the copy's
    checkpoint, and both mostly wait on the disk.
    """
    at = AsOf.of(when, ws.settings.zone, _window(ws.settings))
    with ThreadPoolExecutor(max_workers=1) as pool:
        with open_copy(ws) as (con, _result):
            found = pick_from(con, ws.settings, at, pick, cold=cold)
            done = pool.submit(then, found)
        return done.result()


def assemble(
    con: duckdb.DuckDBPyConnection, settings: Settings, at: AsOf, *, cold: bool = False
) -> pl.DataFrame:
    """Profiles from a copy: its events and its records of members (the recorded state,
    now and each grace length before).

    The copy keeps the figures of `at` (and of each grace length before it), the churn
    model and the last profiles between runs; `cold` recomputes them all from the
    events. A refresh at the same or a later instant decides again only the rows whose
    figures or recorded state changed, or whose tier time alone may move, and derives
    what time moves for everyone (`_refreshed`, shequn.members.kept_profiles).
    """
    frame = _assembled(con, settings, at, cold, None)
    assert isinstance(frame, pl.DataFrame)  # every profile when nothing is picked
    return with_rfm(frame.drop(churn.BASE), at.now)


def pick_from(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: AsOf,
    pick: Pick,
    *,
    cold: bool = False,
) -> Picked:
    """`picked` from a copy (`assemble`'s work, then only what `pick` asks for)."""
    frame = _assembled(con, settings, at, cold, pick)
    return frame if isinstance(frame, Picked) else pick.of(frame)


def _assembled(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: AsOf,
    cold: bool,
    pick: Pick | None,
) -> pl.DataFrame | Picked:
    """Every kept column of every profile, sorted by member; or, from profiles read
    back for `pick`, what it asks for."""
    rules = settings.member_states
    refit = refit_due(con, settings, at, cold=cold)
    past = not cold and before_kept(con, at)  # then the kept figures and model stay
    refreshed = None if refit or past else _refreshed(con, settings, at, pick)
    if refreshed is not None:
        return refreshed
    stored = {days: recorded(con, at.back(days).now) for days in (0, *_grace_lengths(settings))}
    updates = _kept(con, settings, at, refit=refit, cold=cold, family=PAST if past else "")
    kept = {days: read_kept(con, u) for days, u in updates.items()}
    cut = kept[rules.churn_horizon_days] if refit else None
    model = kept_model(con, settings, at, kept[0], cut, keep=not past)
    frame = _decided(settings, at, kept, stored, model).sort("member")
    if not past:
        key = kept_profiles.Key.of(con, settings, at, _marks(settings, updates))
        kept_profiles.save(con, frame, key, at)
    return frame


def _refreshed(
    con: duckdb.DuckDBPyConnection, settings: Settings, at: AsOf, pick: Pick | None
) -> pl.DataFrame | Picked | None:
    """The kept profiles with only the persons whose figures or recorded state changed
    decided again, and the columns time moves derived again for everyone; None when
    the kept ones were not decided at or before `at` from the kept figures, settings
    and model (shequn.members.kept_profiles).

    At a later instant, those whose tier time alone may move are decided again too:
    whose tenure reached a tier's minimum, and whose recorded tier with a grace period
    is no longer met (the grace instant moved). Only their recorded state is read, and
    the figures of a grace instant only for those whose tier reads them (`_earlier`).
    With `pick`, a process that does not hold the kept profiles reads back only what
    deciding them and `pick.where` read (`Pick.reads`), in the table's order, and the
    rest of `pick.columns` for the picked rows alone.
    """
    gap, graces = settings.member_states.churned_days, _grace_lengths(settings)
    now = bring_up(con, at, gap, "now", after=f"back_{graces[0]}" if graces else None)
    marks = {now.table: now.start} | {
        f"member_figures_back_{d}": mark(con, f"back_{d}") for d in graces
    }
    key = kept_profiles.Key.of(con, settings, at, marks)
    reads = None if pick is None else pick.reads()
    start = kept_profiles.changed(con, key, at, [now.table], graces, reads)
    if start is None:
        return None
    if at.now != start.now:
        kept_profiles.add_persons(con, _tenure_crossed(start, settings, at))
        if graces:
            holding = kept_profiles.holding(
                con, start, tiers.graced(settings.tiers), tiers.HELD_READS
            )
            kept_profiles.add_persons(con, tiers.readers(holding, settings.tiers))
    kept = {0: read_kept(con, now, kept_profiles.CHANGED)}
    stored = {
        days: recorded(con, at.back(days).now, kept_profiles.CHANGED) for days in (0, *graces)
    }
    readers = tiers.readers(_joined(kept, stored, 0), settings.tiers)
    kept |= {days: _earlier(con, at.back(days), gap, kept[0], readers, settings) for days in graces}
    model = kept_model(con, settings, at, kept[0], None)
    rows = _decided(settings, at, kept, stored, model).sort("member")
    key = kept_profiles.Key.of(con, settings, at, marks | {now.table: now.mark})
    frame = kept_profiles.splice(con, rows, key, at, start)
    if start.timed != at.now:
        frame = _timed(with_time(frame, at), settings.member_states, at, model)
    if start.whole:
        kept_profiles.hold(con, frame, at)
        return frame
    assert pick is not None  # only profiles read back for a pick are not whole
    live = ~pl.col(kept_profiles.STALE)
    chosen = frame.filter(live & pick.where)
    rest = [c for c in pick.columns if c not in chosen.columns]
    total = frame.select(live.sum()).item()
    return Picked(kept_profiles.read_rows(con, chosen, rest).select(pick.columns), total)


# The kept columns a refresh reads back of every row: the time pass's inputs (it derives
# idle days, state and churn risk anew), the tenure crossing and the tiers (what tiers
# read only of those recorded in a tier with a grace period: `kept_profiles.holding`).
_READS: tuple[str, ...] = (
    "member",
    "first_seen",
    "last_active",
    "has_left",
    "returned_day",
    churn.BASE,
    "tier",
    "recorded_tier",
)
# The columns the time pass derives anew for every row (never read back for it).
TIME_PASSED: tuple[str, ...] = ("state", "churn_risk")


def _earlier(
    con: duckdb.DuckDBPyConnection,
    at: AsOf,
    gap: int,
    now: pl.DataFrame,
    persons: pl.Series,
    settings: Settings,
) -> pl.DataFrame:
    """The figures tiers read of `persons` as of the earlier instant `at` (those seen
    by then), from the copy's compact tables and their first activity in `now`: those
    a grace evaluation reads (`tiers.grace_reads`); the others empty (null)."""
    seen = now.join(persons.to_frame("member"), on="member", how="semi").filter(
        pl.col("first_seen") < at.now
    )
    parts = qualifying(con, at, gap, seen["member"], tiers.grace_reads(settings.tiers))
    times = seen.select("member", "first_seen", "last_active")
    return with_time(times.join(parts, on="member", how="left"), at)


def _tenure_crossed(kept: kept_profiles.Kept, settings: Settings, at: AsOf) -> pl.Series:
    """The persons whose tenure reached a tier's minimum between the kept profiles'
    instant and `at`, now or a grace length before (their tier may change with time
    alone)."""
    limits = {t.min_tenure_days for t in settings.tiers if t.min_tenure_days}
    crossed = pl.lit(False)
    for days in (0, *_grace_lengths(settings)):
        before = (kept.now - days * DAY_US - pl.col("first_seen")) // DAY_US
        after = (at.now - days * DAY_US - pl.col("first_seen")) // DAY_US
        for limit in limits:
            crossed = crossed | ((before < limit) & (after >= limit))
    return kept.frame.filter(crossed)["member"]


def _decided(
    settings: Settings,
    at: AsOf,
    kept: dict[int, pl.DataFrame],
    stored: dict[int, pl.DataFrame],
    model: churn.Logistic | None,
) -> pl.DataFrame:
    """The profiles of the persons of `kept[0]` (figures by days back) joined with the
    recorded state, with state, tier and churn risk decided; in no particular order."""

    def at_back(days: int) -> pl.DataFrame:
        return _joined(kept, stored, days)

    # The state's column before the tier's; `_timed` decides it (tiers do not read it).
    now = at_back(0).with_columns(pl.lit(None, pl.String).alias("state"))
    if settings.tiers:
        now = now.join(tiers.decide(now, settings.tiers, at_back), on="member", how="left")
    else:
        now = now.with_columns(
            pl.lit(None, pl.String).alias("tier"), pl.lit("").alias("tier_reason")
        )
    return _timed(now, settings.member_states, at, model)


def _timed(
    frame: pl.DataFrame, rules: MemberStates, at: AsOf, model: churn.Logistic | None
) -> pl.DataFrame:
    """`frame` (profiles with their time figures of `at`) with its state and churn
    risk decided as of `at`: what time alone moves, besides tiers with a tenure."""
    frame = frame.with_columns(state_expr(rules, at.today, at.now))
    if churn.BASE not in frame.columns:
        frame = frame.with_columns(churn.base(model))
    risk = churn.risk(model, rules.silent_days, based=True).round(3)
    # Churned members have nothing left to lose.
    return frame.with_columns(pl.when(pl.col("state") != "churned").then(risk).alias("churn_risk"))


def _joined(
    kept: dict[int, pl.DataFrame], stored: dict[int, pl.DataFrame], days: int
) -> pl.DataFrame:
    """The figures `days` back joined with the state recorded then."""
    return kept[days].join(complete(stored[days]), on="member", how="left")


def _kept(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    at: AsOf,
    *,
    refit: bool,
    cold: bool,
    family: str = "",
) -> dict[int, Update]:
    """The figure sets by days back brought up to date: now, each grace length, the
    churn cut when refitting (their names prefixed with `family`).

    Earliest first, each starting from the one before when it must be computed anew,
    so a cold run reads every event once and then only the days between the instants.
    """
    backs = set(_grace_lengths(settings))
    if refit:
        backs.add(settings.member_states.churn_horizon_days)
    updates: dict[int, Update] = {}
    after = None
    for days in (*sorted(backs, reverse=True), 0):
        name = family + (f"back_{days}" if days else "now")
        gap = settings.member_states.churned_days
        updates[days] = bring_up(
            con, at.back(days), gap, name, cold=cold and after is None, after=after
        )
        after = name
    return updates


def _decisive(settings: Settings, updates: dict[int, Update]) -> list[Update]:
    """The figure sets profiles are decided from (the churn cut only fits the model)."""
    return [updates[days] for days in (0, *_grace_lengths(settings))]


def _marks(settings: Settings, updates: dict[int, Update]) -> dict[str, Mark | None]:
    return {u.table: u.mark for u in _decisive(settings, updates)}


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
