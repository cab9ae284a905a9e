"""The one function that reads the workspace: metrics from the engine, then the pure review."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from shequn.config import Settings
from shequn.errors import InputError
from shequn.review.build import WORKSPACE, Metrics, Review, build_review, evaluate_goals
from shequn.review.goals import GoalSpec, community_goals
from shequn.review.i18n import LANGS, t
from shequn.review.knowledge import workspace_knowledge
from shequn.review.periods import Period, last_full_month, parse_period, previous
from shequn.review.replication import DEFAULT_HORIZON, CommunityOutcome, replication_rates
from shequn.workspace import Workspace


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
        InputError: an unknown community, period or language.
    """
    from shequn.analytics.engine import compute
    from shequn.store.engine import read_transaction
    from shequn.store.events import overview

    settings = ws.settings
    lang = lang or settings.language
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}", field="--lang", hint="use zh_CN or en")
    if community and settings.community(community) is None:
        with read_transaction(ws.engine) as conn:
            known = {c["community"] for c in overview(conn).communities}
        if community not in known:
            raise InputError(
                f"no community {community!r}",
                field="--community",
                hint="see `shequn status` for the community keys",
            )
    today = today or datetime.now(settings.zone).date()
    chosen = parse_period(period) if period else last_full_month(today)
    cache: dict[tuple[date, date], Metrics] = {}

    def figures(window: Period) -> Metrics:
        key = (window.start, window.end)
        if key not in cache:
            cache[key] = compute(ws, window.start, window.end)
        return cache[key]

    with read_transaction(ws.engine) as conn:
        firsts = {c["community"]: c["first_ts"] for c in overview(conn).communities}
    created = {key: _local_date(us, settings) for key, us in firsts.items() if us is not None}
    as_of = today + timedelta(days=1)
    scope = community or WORKSPACE
    specs = _goals(settings, community)
    results = evaluate_goals(specs, chosen, figures, created=created, as_of=as_of)
    templates = {c.template for c in settings.communities if not community or c.key == community}
    outcomes = _outcomes(settings, templates - {""}, figures, created, as_of)
    names = {c.key: c.name or c.key for c in settings.communities}
    names[WORKSPACE] = t(lang, "workspace")
    return build_review(
        lang=lang,
        scope=scope,
        period=chosen,
        current=figures(chosen),
        before=figures(previous(chosen)),
        goals=results,
        knowledge=workspace_knowledge(ws.root),
        replication=replication_rates(outcomes),
        names=names,
        currency=settings.currency,
    )


def _local_date(us: int, settings: Settings) -> date:
    from shequn.clock import from_micros

    return from_micros(us).astimezone(settings.zone).date()


def _goals(settings: Settings, community: str | None) -> list[GoalSpec]:
    specs: list[GoalSpec] = []
    for c in settings.communities:
        if community is None or c.key == community:
            specs.extend(community_goals(c))
    return specs


def _outcomes(
    settings: Settings,
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
        specs = community_goals(c)
        horizon = max((g.horizon for g in specs if g.horizon), default=DEFAULT_HORIZON)
        start = created.get(c.key)
        if start is None:
            outcomes.append(CommunityOutcome(c.key, c.template, reached=False))
            continue
        window = Period(start, start + timedelta(days=horizon), "custom")
        reached = window.end <= as_of
        results: Any = ()
        if reached:
            at_evaluation = [replace(g, period="horizon", horizon=horizon) for g in specs]
            results = tuple(
                evaluate_goals(at_evaluation, window, figures, created=created, as_of=as_of)
            )
        outcomes.append(CommunityOutcome(c.key, c.template, reached, results))
    return outcomes
