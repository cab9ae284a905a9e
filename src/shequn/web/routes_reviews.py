"""Reviews (复盘): generate one for a period and a community, read it, download it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from shequn.errors import InputError
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.render import page
from shequn.web.routes_dashboard import MEMO, communities

router = APIRouter()
MEDIA = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _review(ctx: Ctx, community: str, period: str):  # type: ignore[no-untyped-def]
    from shequn.review.run import review_workspace

    if (community and not ctx.user.sees(community)) or (not community and ctx.user.communities):
        raise Forbidden(f"{community or 'the workspace'} is outside {ctx.user.name}'s communities")
    today = ctx.request.app.state.clock.now().astimezone(ctx.ws.settings.zone).date()
    return MEMO.get(
        ctx.ws,
        ("review", community, period, ctx.lang, today),
        lambda: review_workspace(
            ctx.ws, community=community or None, period=period or None, lang=ctx.lang, today=today
        ),
    )


@router.get("/reviews")
def review_page(
    ctx: Annotated[Ctx, Depends(need("review"))], community: str = "", period: str = ""
) -> Response:
    """Query: community ("" = the workspace), period (2026-10, 2026-W43, a..b)."""
    from shequn.reports import render

    result = _review(ctx, community, period)
    return page(
        ctx,
        "review.html",
        review=result,
        markdown=render(result, "md"),
        community=community,
        period=period or result.period.label,
        communities=communities(ctx),
    )


@router.get("/reviews/download.{fmt}")
def review_download(
    ctx: Annotated[Ctx, Depends(need("review"))],
    fmt: str,
    community: str = "",
    period: str = "",
) -> Response:
    from shequn.reports import render

    if fmt not in MEDIA:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use html, md or xlsx")
    result = _review(ctx, community, period)
    body = render(result, fmt)
    name = f"review-{community or 'all'}-{result.period.label}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
