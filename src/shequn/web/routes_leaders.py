"""Opinion leaders (意见领袖) and seed members (种子用户) of the communities a user sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from shequn.members.graph import (
    EXACT_UP_TO,
    SOURCES,
    GraphWindow,
    estimated,
    leaders,
    seed_members,
    shown,
)
from shequn.periods import HistoryEnd, day_start
from shequn.store.engine import read_transaction
from shequn.store.members import names
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.background import Refreshing
from shequn.web.cache import version
from shequn.web.render import page
from shequn.web.routes_dashboard import communities
from shequn.web.routes_members import history_note

router = APIRouter()
# How many of each list the page shows: the ranked leaders, and seeds per community.
TOP = 20


@dataclass(frozen=True)
class Found:
    """The page's two lists, as of one local day, and whether betweenness is estimated."""

    leaders: list[dict[str, object]]
    seeds: list[dict[str, object]]
    estimated: bool


# Never computed in a request: the graph reads a year of interactions (about 15 s
# at a million members, ten million events). Computed in the background per scope and day, kept
# 15 minutes as the profiles are, the kept answer served while it is refreshed.
KEPT: Refreshing[Found] = Refreshing("leaders", timedelta(minutes=15))


@router.get("/members/leaders")
def leaders_page(
    ctx: Annotated[Ctx, Depends(need("read"))], community: str = "", at: str = ""
) -> Response:
    """Query: community (default: every community the user sees); at (a local day:
    as of its start, default now).

    The graph of that scope's interactions only: a user of some communities never sees
    who leads elsewhere, nor whose replies there made them a leader.
    """
    if community and not ctx.user.sees(community):
        raise Forbidden(f"{community} is outside the communities of {ctx.user.name}")
    scope = [community] if community else communities(ctx)
    zone = ctx.ws.settings.zone
    now = ctx.request.app.state.clock.now()
    when = day_start(at, "at", zone) if at else now
    day = when.astimezone(zone).date()
    settings = version(ctx.ws)[1]  # the operators left out of the graph
    kept = KEPT.get(
        ctx.ws, ctx.user.name, now, settings, lambda _at: _found(ctx, scope, when), (*scope, day)
    )
    # As of a chosen day, the history's end is no news.
    history = HistoryEnd(None) if at else history_note(ctx, now)
    return page(
        ctx,
        "leaders.html",
        found=kept.kept.value if kept.kept else None,
        job=kept.job,
        refreshing=kept.running and kept.kept is not None,
        community=community,
        at=at,
        communities=communities(ctx),
        window=GraphWindow(),
        exact_up_to=EXACT_UP_TO,
        sources=SOURCES,
        day=day,
        history=history,
    )


@router.get("/members/leaders/job/{job}")
def leaders_progress(ctx: Annotated[Ctx, Depends(need("read"))], job: str) -> Response:
    """The leaders' computation (polled by HTMX); once it is done (or gone with a
    restart) the page reloads itself."""
    found = KEPT.job(job)
    if found is None or (found.finished and not found.error):
        return Response(headers={"HX-Refresh": "true"}, media_type="text/html")
    return page(ctx, "_computing.html", job=found)


def _found(ctx: Ctx, scope: list[str], now: datetime) -> Found:
    """The ranked leaders and each community's seeds, with their display names."""
    everyone = leaders(ctx.ws, now, communities=scope)
    ranked = shown(everyone, TOP)
    seeds = seed_members(ctx.ws, now, scope).group_by("community", maintain_order=True).head(TOP)
    with read_transaction(ctx.ws.engine) as conn:
        named = names(conn, [*ranked["member"], *seeds["member"]])
    return Found(_named(ranked, named), _named(seeds, named), estimated(everyone))


def _named(frame: pl.DataFrame, named: dict[str, str | None]) -> list[dict[str, object]]:
    """The rows, each with the member's display name (`name`, None when unknown)."""
    return [{**row, "name": named.get(str(row["member"]))} for row in frame.iter_rows(named=True)]
