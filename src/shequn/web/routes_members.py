"""Members: the filtered list (also .json, .csv, .xlsx), a member's page, bulk tag, merge."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.members.states import STATES
from shequn.services.member_tags import tag_members
from shequn.services.members import merge
from shequn.web import members
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.cache import Timed
from shequn.web.render import FORMATS, page, rows_response
from shequn.web.routes_dashboard import MEMO, communities

router = APIRouter()
PEOPLE = Timed(timedelta(minutes=15))


def _filters(ctx: Ctx) -> members.Filters:
    params = ctx.request.query_params
    values = {f.name: params.get(f.name, "") for f in fields(members.Filters) if f.name != "page"}
    for name in ("joined_from", "joined_to"):
        if values[name]:
            from shequn.periods import parse_day

            parse_day(values[name], name)
    page_text = params.get("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        raise InputError(f"page {page_text!r}", field="page", hint="a page number from 1")
    _check_decided(values)
    if values["community"] and not ctx.user.sees(values["community"]):
        raise Forbidden(f"{values['community']} is outside the communities of {ctx.user.name}")
    return members.Filters(**values, page=int(page_text))


def _check_decided(values: dict[str, str]) -> None:
    """The tier, state and risk filters name a known state and a risk between 0 and 1."""
    if values["state"] and values["state"] not in STATES:
        raise InputError(
            f"unknown state {values['state']!r}", field="state", hint=", ".join(STATES)
        )
    if values["risk"]:
        try:
            risk = float(values["risk"])
        except ValueError:
            risk = -1.0
        if not 0 <= risk <= 1:
            raise InputError(f"churn risk {values['risk']!r}", field="risk", hint="a number 0 to 1")


def _people(ctx: Ctx) -> pl.DataFrame:
    """Every person's tier, state and churn risk, at most PEOPLE.ttl old.

    Not recomputed at every new event, as the directory is: deciding them reads every
    person's history and trains the churn model (seconds at 300k events), and a live
    group adds events every few seconds.
    """
    now = ctx.request.app.state.clock.now()
    return PEOPLE.get(ctx.ws, "people", now, lambda: members.decided(ctx.ws, now))


def _matching(ctx: Ctx, filters: members.Filters):  # type: ignore[no-untyped-def]
    from shequn.analytics.engine import data_days

    frame = MEMO.get(ctx.ws, "directory", lambda: members.directory(ctx.ws))
    frame = members.with_decided(frame, _people(ctx))
    if ctx.user.communities:
        frame = frame.filter(frame["community"].is_in(list(ctx.user.communities)))
    span = MEMO.get(ctx.ws, "days", lambda: data_days(ctx.ws))
    today = span[1] + timedelta(days=1) if span else ctx.request.app.state.clock.now().date()
    tagged = members.holding_tag(ctx.ws, filters.tag) if filters.tag else None
    return members.select_members(frame, filters, tagged, today, ctx.ws.settings.zone)


@router.get("/members")
def member_list(ctx: Annotated[Ctx, Depends(need("read"))]) -> Response:
    """Query: community, q, tag, channel, joined_from, joined_to, activity, bought, page."""
    filters = _filters(ctx)
    found = _matching(ctx, filters)
    start = (filters.page - 1) * members.PAGE_SIZE
    rows = members.shown(found.slice(start, members.PAGE_SIZE), ctx.ws.settings.zone)
    channels = sorted(c for c in found["channel"].unique().to_list() if c)
    return page(
        ctx,
        "members.html",
        filters=filters,
        rows=rows,
        total=found.height,
        pages=max(1, -(-found.height // members.PAGE_SIZE)),
        channels=channels,
        tiers=[t.name for t in ctx.ws.settings.tiers],
        states=STATES,
        communities=communities(ctx),
    )


@router.get("/members.{fmt}")
def member_export(ctx: Annotated[Ctx, Depends(need("export"))], fmt: str) -> Response:
    """The whole filtered list (every page) as json, csv or xlsx."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    found = _matching(ctx, _filters(ctx))
    return rows_response(
        members.shown(found, ctx.ws.settings.zone), members.COLUMNS, fmt, "members"
    )


@router.get("/member/{key:path}")
def member_page(ctx: Annotated[Ctx, Depends(need("read"))], key: str) -> Response:
    from shequn.web.member_profile import profile

    found = profile(ctx.ws, key)
    seen = {a["key"] for a in found.accounts}
    if ctx.user.communities and not any(ctx.user.sees(t["community"]) for t in found.timeline):
        raise Forbidden(f"{key} is outside the communities of {ctx.user.name}")
    people = _people(ctx).filter(pl.col("person") == found.person)
    standing = people.row(0, named=True) if people.height else dict.fromkeys(members.DECIDED)
    return page(ctx, "member.html", member=found, others=sorted(seen - {key}), decided=standing)


@router.post("/members/tag")
def bulk_tag(
    ctx: Annotated[Ctx, Depends(need("operate"))],
    tag: Annotated[str, Form()],
    community: Annotated[str, Form()],
    keys: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads a fresh list
    remove: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/members",
) -> Response:
    if not ctx.user.sees(community):
        raise Forbidden(f"{community} is outside the communities of {ctx.user.name}")
    with ctx.acting():
        tag_members(
            ctx.ws,
            keys,
            tag,
            community=community,
            remove=bool(remove),
            clock=ctx.request.app.state.clock,
        )
    return RedirectResponse(back if back.startswith("/members") else "/members", status_code=303)


@router.post("/members/merge")
def merge_members(
    ctx: Annotated[Ctx, Depends(need("operate"))],
    target: Annotated[str, Form()],
    other: Annotated[str, Form()],
) -> Response:
    with ctx.acting():
        merge(ctx.ws, target.strip(), [other.strip()], clock=ctx.request.app.state.clock)
    return RedirectResponse(f"/member/{target.strip()}", status_code=303)
