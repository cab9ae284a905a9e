"""The dashboard: one community or all, for a period chosen in the URL."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from shequn.clock import Clock
from shequn.periods import parse_day
from shequn.web import dashboard
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.building import CopyBuilds
from shequn.web.cache import Memo, version
from shequn.web.queries import community_keys
from shequn.web.render import page

router = APIRouter()
MEMO = Memo()
BUILDS = CopyBuilds()


def communities(ctx: Ctx) -> list[str]:
    """The community keys the user may pick: settings and the log, within their scope."""
    return ctx.visible(community_keys(ctx.ws))


def check_scope(ctx: Ctx, community: str) -> str:
    """The scope asked for, "*" when none; refused outside the user's communities."""
    if not community:
        return "*" if not ctx.user.communities else ctx.user.communities[0]
    if (community != "*" and not ctx.user.sees(community)) or (
        community == "*" and ctx.user.communities
    ):
        raise Forbidden(f"{community} is outside the communities of {ctx.user.name}")
    return community


def _period(ctx: Ctx) -> tuple[date, date]:
    params = ctx.request.query_params
    start_text, end_text = params.get("from", ""), params.get("to", "")
    if start_text and end_text:
        return parse_day(start_text, "from"), parse_day(end_text, "to")
    return MEMO.get(ctx.ws, "period", lambda: dashboard.default_period(ctx.ws, _clock(ctx)))


def _clock(ctx: Ctx) -> Clock:
    return ctx.request.app.state.clock


@router.get("/")
def show(ctx: Annotated[Ctx, Depends(need("dashboard"))], community: str = "") -> Response:
    """Query: community (a key or *), from and to (local days, `to` exclusive)."""
    scope = check_scope(ctx, community)
    building = BUILDS.waiting(ctx.ws, ctx.user.name, version(ctx.ws)[0])
    if building is not None:
        return page(ctx, "building.html", job=building)
    start, end = _period(ctx)
    board = MEMO.get(
        ctx.ws,
        ("board", scope, start, end, ctx.lang),
        lambda: dashboard.gather(ctx.ws, scope, start, end, ctx.lang),
    )
    return page(
        ctx,
        "dashboard.html",
        board=board,
        scope=scope,
        start=start,
        end=end,
        alerts=dashboard.alerts(ctx.ws, scope, _clock(ctx)),
        communities=communities(ctx),
        currency=ctx.ws.settings.currency,
    )


@router.get("/dashboard/goals")
def goals(ctx: Annotated[Ctx, Depends(need("dashboard"))], community: str = "") -> Response:
    """The goals, funnel and lifecycle part of the dashboard (loaded by HTMX)."""
    scope = check_scope(ctx, community)
    start, end = _period(ctx)
    found = MEMO.get(
        ctx.ws,
        ("goals", scope, start, end, ctx.lang),
        lambda: dashboard.gather_goals(ctx.ws, scope, start, end, ctx.lang, _clock(ctx)),
    )
    return page(ctx, "_goals.html", goals=found)


@router.get("/dashboard/crossings")
def crossings(ctx: Annotated[Ctx, Depends(need("dashboard"))], community: str = "") -> Response:
    """The metric crossings of the period, beside the other alerts (loaded by HTMX)."""
    scope = check_scope(ctx, community)
    start, end = _period(ctx)
    found = MEMO.get(
        ctx.ws,
        ("crossings", scope, start, end),
        lambda: dashboard.crossings(ctx.ws, scope, start, end, _clock(ctx)),
    )
    return page(ctx, "_crossings.html", crossings=found)


@router.get("/dashboard/build/{job}")
def build_progress(ctx: Annotated[Ctx, Depends(need("dashboard"))], job: str) -> Response:
    """The background build's progress (polled by HTMX); once it is done (or gone with
    a restarted console), an empty answer that makes HTMX reload the dashboard."""
    found = BUILDS.get(job)
    if found is None or (found.finished and not found.error):
        return Response(headers={"HX-Refresh": "true"}, media_type="text/html")
    return page(ctx, "_building.html", job=found)
