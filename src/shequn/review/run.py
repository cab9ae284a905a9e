"""The one function that reads the workspace: metrics from the engine, then the pure review."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from shequn.config import Settings
from shequn.errors import InputError
from shequn.goals.evaluate import GoalSpec, goal_specs
from shequn.goals.gather import workspace_goals
from shequn.periods import Period, last_full_month, parse_period, previous
from shequn.review.build import WORKSPACE, Metrics, Review, build_review
from shequn.review.evaluation import evaluate_goals, judge
from shequn.review.i18n import LANGS, t
from shequn.review.knowledge import workspace_knowledge
from shequn.review.members_section import with_member_flow
from shequn.review.playbook_runs import PlaybookRun, playbook_runs
from shequn.review.quality import mask_unknown, warnings
from shequn.review.replication import DEFAULT_HORIZON, CommunityOutcome, replication_rates
from shequn.review.sections import Section
from shequn.workspace import Workspace

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from shequn.analytics.backend import Backend
    from shequn.analytics.coverage import Coverage


def review_workspace(
    ws: Workspace,
    *,
    community: str | None = None,
    period: str | None = None,
    lang: str | None = None,
    today: date | None = None,
) -> Review:
    """Review one community (or the whole workspace) for a period.

    Args:
        ws: the workspace.
        community: a community key; None for the whole workspace.
        period: `2026-10`, `2026-W43` or `2026-10-01..2026-10-15`; default the last full month.
        lang: zh_CN or en; default the workspace's `language`.
        today: the local date to judge "not yet due" by (default: now in the workspace zone).

    Raises:
        InputError: an unknown community, period or language, or a goal that is wrong.
    """
    from shequn.analytics.coverage import log_coverage
    from shequn.analytics.engine import copy_cursor

    settings = ws.settings
    lang = lang or settings.language
    _check_scope(ws, community, lang)
    today = today or datetime.now(settings.zone).date()
    chosen = parse_period(period) if period else last_full_month(today)
    specs = goal_specs(workspace_goals(ws.root, settings), settings)
    as_of = today + timedelta(days=1)
    extra = _extra(ws, lang, as_of, chosen, community)  # opens the copy: not while held
    # One copy of the log for every window the goals need (weeks, horizons, ...).
    with copy_cursor(ws) as (cursor, zone):
        coverage = log_coverage(cursor)
        firsts = {key: cover.first_ts for key, cover in coverage.items() if key != WORKSPACE}
        created = creation_days(firsts, settings)
        figures = _figures(cursor, zone, coverage)
        shown = [g for g in specs if community is None or g.community == community]
        results = evaluate_goals(shown, chosen, figures, created=created, as_of=as_of)
        templates = {c.template for c in settings.communities if community in (None, c.key)}
        outcomes = _outcomes(settings, specs, templates - {""}, figures, created, as_of)
        scope = community or WORKSPACE
        review = build_review(
            lang=lang,
            scope=scope,
            period=chosen,
            current=figures(chosen),
            before=figures(previous(chosen)),
            goals=results,
            knowledge=workspace_knowledge(ws.root),
            replication=replication_rates(outcomes),
            names=_names(settings, lang),
            currency=settings.currency,
            warnings=warnings(coverage.get(scope), chosen, settings.zone),
            runs=_runs(ws, community, chosen),
            window_figures=figures,
            extra=extra,
            bot=bot_figures(ws, chosen, scope),
        )
        return with_member_flow(review, ws, community, chosen)


def _figures(
    cursor: Backend, zone: ZoneInfo, coverage: Mapping[str, Coverage]
) -> Callable[[Period], Metrics]:
    """The metrics of any window, each window computed once."""
    from shequn.analytics.engine import compute

    cache: dict[tuple[date, date], Metrics] = {}

    def figures(window: Period) -> Metrics:
        key = (window.start, window.end)
        if key not in cache:
            found = compute(cursor, window.start, window.end, zone=zone)
            cache[key] = mask_unknown(found, coverage)  # no orders: unknown, not 0
        return cache[key]

    return figures


def _extra(
    ws: Workspace, lang: str, as_of: date, period: Period, community: str | None
) -> list[Section]:
    """The sections of other features, one call each, as of the start of `as_of`
    (the day after the review's today). Built before the review holds the analytics
    copy: the experiments section opens it itself, and a second hold of its lock in
    one process would wait for the first forever."""
    from shequn.review.activities import activities_section
    from shequn.review.experiments import experiments_section

    zone = ws.settings.zone
    now = datetime.combine(as_of, time(), zone)
    start, end = (datetime.combine(day, time(), zone) for day in (period.start, period.end))
    return [
        experiments_section(ws, lang, now),
        activities_section(ws, lang, start, end, community),
    ]


def _names(settings: Settings, lang: str) -> dict[str, str]:
    names = {c.key: c.name or c.key for c in settings.communities}
    names[WORKSPACE] = t(lang, "workspace")
    return names


def _runs(ws: Workspace, community: str | None, period: Period) -> Mapping[str, PlaybookRun]:
    """What each playbook did over the period's local days."""
    from shequn.clock import to_micros
    from shequn.store.engine import read_transaction

    zone = ws.settings.zone
    start, end = (
        to_micros(datetime.combine(day, time(), zone)) for day in (period.start, period.end)
    )
    with read_transaction(ws.engine) as conn:
        return playbook_runs(conn, community, start, end)


def bot_figures(ws: Workspace, period: Period, scope: str) -> dict[str, float | int | None]:
    """The group bot's figures of `scope` in `period` (empty when it did nothing)."""
    from shequn.bot.report import ROWS, figures

    zone = ws.settings.zone
    start = datetime.combine(period.start, datetime.min.time(), zone)
    end = datetime.combine(period.end, datetime.min.time(), zone)
    found = figures(ws, start, end).get(scope)
    if found is None or not found.counts:
        return {}
    return {row.name: found.value(row.name) for row in ROWS}


def _check_scope(ws: Workspace, community: str | None, lang: str) -> None:
    """The language is known and the community is declared or in the log (one lookup
    in the store's communities: the first events come from the copy's coverage)."""
    from sqlalchemy import select

    from shequn.store.engine import read_transaction
    from shequn.store.schema import communities

    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}", field="--lang", hint="use zh_CN or en")
    if not community or ws.settings.community(community) is not None:
        return
    with read_transaction(ws.engine) as conn:
        stored = conn.scalar(select(communities.c.key).where(communities.c.key == community))
    if stored is None:
        raise InputError(
            f"no community {community!r}",
            field="--community",
            hint="see `shequn status` for the community keys",
        )


def creation_days(firsts: Mapping[str, int | None], settings: Settings) -> dict[str, date]:
    """Day 0 of each community: its `created` setting, else the local day of its first event.

    Args:
        firsts: the first event's time (UTC microseconds) per community in the log.
        settings: the workspace settings.
    """
    from shequn.clock import from_micros

    days = {
        key: from_micros(us).astimezone(settings.zone).date()
        for key, us in firsts.items()
        if us is not None
    }
    days |= {c.key: c.created for c in settings.communities if c.created is not None}
    return days


def _outcomes(
    settings: Settings,
    specs: list[GoalSpec],
    templates: set[str],
    figures: Callable[[Period], Metrics],
    created: Mapping[str, date],
    as_of: date,
) -> list[CommunityOutcome]:
    """Each templated community's goals judged over days 0..H-1 after its creation."""
    outcomes = []
    for c in settings.communities:
        if c.template not in templates:
            continue
        own = [g for g in specs if g.community == c.key]
        horizon = max((g.horizon for g in own if g.horizon), default=DEFAULT_HORIZON)
        start = created.get(c.key)
        if start is None:
            outcomes.append(CommunityOutcome(c.key, c.template, reached=False))
            continue
        window = Period(start, start + timedelta(days=horizon), "custom")
        reached = window.end <= as_of
        results: Any = ()
        if reached:
            results = tuple(judge(g, window, figures, as_of, trend=False) for g in own)
        outcomes.append(CommunityOutcome(c.key, c.template, reached, results))
    return outcomes
