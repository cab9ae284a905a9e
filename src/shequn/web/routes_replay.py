"""SOP replay: what the playbooks would have done over a chosen period of history.

The page calls the service behind `shequn sop replay` (`services.sop_replay.replay`);
its filters (from, to, community, playbook, member) live in the URL, and the same
actions answer as `.json`, `.csv` or `.xlsx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.render import FORMATS, page, rows_response

router = APIRouter()
COLUMNS = ("due", "playbook", "step", "action", "owner", "community", "member", "member_name")
EXPORTED = ("key", *COLUMNS, "target", "trigger")
DEFAULT_DAYS = 7
MAX_DAYS = 366


@dataclass(frozen=True)
class Replayed:
    """One replay as the page shows it: the counts and the listed actions."""

    start: date
    end: date
    windows: int
    counts: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    rejected: list[str]


def _period(ctx: Ctx) -> tuple[date, date]:
    """The local days [from, to) in the URL, else the last week the data covers."""
    params = ctx.request.query_params
    start_text, end_text = params.get("from", ""), params.get("to", "")
    if start_text or end_text:
        if not (start_text and end_text):
            raise InputError("a replay needs both days", field="from/to", hint="give from and to")
        start, end = parse_day(start_text, "from"), parse_day(end_text, "to")
        if (end - start).days > MAX_DAYS:
            raise InputError(
                f"{(end - start).days} days is too long for the console",
                field="to",
                hint=f"replay at most {MAX_DAYS} days here, or use `shequn sop replay`",
            )
        return start, end
    from shequn.analytics.engine import data_days

    span = data_days(ctx.ws)
    today = ctx.request.app.state.clock.now().astimezone(ctx.ws.settings.zone).date()
    end = (span[1] if span else today) + timedelta(days=1)
    return end - timedelta(days=DEFAULT_DAYS), end


def _replayed(ctx: Ctx, community: str, playbook: str, member: str) -> Replayed:
    import polars as pl

    from shequn.services.sop_replay import counts_of, replay, with_local_times

    start, end = _period(ctx)
    result = replay(ctx.ws, start, end)
    actions = result.actions
    visible = ctx.visible(actions["community"].unique().to_list())
    keep = pl.col("community").is_in(visible)
    for column, value in (("community", community), ("playbook", playbook), ("member", member)):
        if value:
            keep &= pl.col(column) == value
    actions = actions.filter(keep)
    counts = counts_of(actions)
    listed = with_local_times(actions, ctx.ws.settings.timezone).to_dicts()
    rejected = [str(r) for r in result.rejected]
    return Replayed(start, end, result.windows, counts.to_dicts(), listed, rejected)


def _listing(ctx: Ctx, community: str, playbook: str, member: str) -> Replayed:
    if community and not ctx.user.sees(community):
        raise Forbidden(f"{community} is outside the communities of {ctx.user.name}")
    return _replayed(ctx, community.strip(), playbook.strip(), member.strip())


def _query(found: Replayed, **filters: str) -> str:
    """The filters as a query string, for the download links (a bookmarkable view)."""
    from urllib.parse import urlencode

    chosen = {"from": str(found.start), "to": str(found.end), **filters}
    return urlencode({k: v for k, v in chosen.items() if v})


@router.get("/sop/replay")
def replay_page(
    ctx: Annotated[Ctx, Depends(need("read"))],
    community: str = "",
    playbook: str = "",
    member: str = "",
) -> Response:
    """Query: from, to (local days, `to` exclusive), community, playbook, member."""
    found = _listing(ctx, community, playbook, member)
    return page(
        ctx,
        "replay.html",
        replayed=found,
        community=community,
        playbook=playbook,
        member=member,
        query=_query(found, community=community, playbook=playbook, member=member),
    )


@router.get("/sop/replay.{fmt}")
def replay_export(
    ctx: Annotated[Ctx, Depends(need("read"))],
    fmt: str,
    community: str = "",
    playbook: str = "",
    member: str = "",
) -> Response:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    found = _listing(ctx, community, playbook, member)
    return rows_response(found.actions, EXPORTED, fmt, "replay")
