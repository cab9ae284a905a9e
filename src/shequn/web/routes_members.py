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
from shequn.web.background import Found, Kept, Refreshing
from shequn.web.cache import Memo, version
from shequn.web.render import FORMATS, page, rows_response
from shequn.web.routes_dashboard import BUILDS, MEMO, communities

router = APIRouter()
# Not recomputed at every new event, as the directory is: deciding them reads every
# person's history and trains the churn model (seconds at 300k events, tens of seconds
# at a million members), and a live group adds events every few seconds.
PEOPLE: Refreshing[pl.DataFrame] = Refreshing("profiles", timedelta(minutes=15))
# The directory with the kept profiles, per version of the log: the newest only (with
# a million members each is hundreds of MB; the dashboard's MEMO keeps 64 answers).
LISTED = Memo(size=1)


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


def _people(ctx: Ctx) -> Found[pl.DataFrame]:
    """Every person's tier, state and churn risk (kept, refreshed in the background
    once PEOPLE.ttl old), and the computation under way or last done."""
    now = ctx.request.app.state.clock.now()
    return PEOPLE.get(ctx.ws, ctx.user.name, now, lambda when: members.decided(ctx.ws, when))


def _matching(ctx: Ctx, filters: members.Filters, kept: Kept[pl.DataFrame]):  # type: ignore[no-untyped-def]
    from shequn.analytics.engine import data_days

    frame = LISTED.get(
        ctx.ws,
        ("listed", kept.at, kept.settings),
        lambda: members.with_decided(members.directory(ctx.ws), kept.value),
    )
    if ctx.user.communities:
        frame = frame.filter(frame["community"].is_in(list(ctx.user.communities)))
    span = MEMO.get(ctx.ws, "days", lambda: data_days(ctx.ws))
    today = span[1] + timedelta(days=1) if span else ctx.request.app.state.clock.now().date()
    tagged = members.holding_tag(ctx.ws, filters.tag) if filters.tag else None
    return members.select_members(frame, filters, tagged, today, ctx.ws.settings.zone)


@router.get("/members")
def member_list(ctx: Annotated[Ctx, Depends(need("read"))]) -> Response:
    """Query: community, q, tag, channel, joined_from, joined_to, activity, bought, page.

    While the copy is far behind the log or the profiles are not computed yet, a page
    that shows the progress and reloads by itself (web/building.py, web/background.py).
    """
    filters = _filters(ctx)
    building = BUILDS.waiting(ctx.ws, ctx.user.name, version(ctx.ws)[0])
    if building is not None:
        return page(ctx, "building.html", job=building, heading="Members")
    people = _people(ctx)
    kept = people.kept
    if kept is None:
        return page(ctx, "profiles.html", job=people.job)
    found = _matching(ctx, filters, kept)
    start = (filters.page - 1) * members.PAGE_SIZE
    rows = members.shown(found.slice(start, members.PAGE_SIZE), ctx.ws.settings.zone)
    channels = sorted(c for c in found["channel"].unique().to_list() if c)
    now = ctx.request.app.state.clock.now()
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
        decided_at=kept.at.astimezone(ctx.ws.settings.zone).strftime("%Y-%m-%d %H:%M"),
        decided_minutes=int(kept.age(now).total_seconds() // 60),
        refreshing=people.running,
        refresh_error=people.job.error if people.job and not people.running else "",
    )


@router.get("/members/profiles/{job}")
def profiles_progress(ctx: Annotated[Ctx, Depends(need("read"))], job: str) -> Response:
    """The profiles' computation (polled by HTMX); once it is done (or gone with a
    restart) the page reloads itself."""
    found = PEOPLE.job(job)
    if found is None or (found.finished and not found.error):
        return Response(headers={"HX-Refresh": "true"}, media_type="text/html")
    return page(ctx, "_profiles.html", job=found)


@router.get("/members.{fmt}")
def member_export(ctx: Annotated[Ctx, Depends(need("export"))], fmt: str) -> Response:
    """The whole filtered list (every page) as json, csv or xlsx; 503 (retry later)
    until the profiles are first computed."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    filters = _filters(ctx)
    kept = _people(ctx).kept
    if kept is None:
        return Response(
            "The members' tier, state and churn risk are being computed: retry in a minute.\n",
            status_code=503,
            headers={"Retry-After": "30"},
            media_type="text/plain",
        )
    found = _matching(ctx, filters, kept)
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
    kept = _people(ctx).kept
    people = kept.value.filter(pl.col("person") == found.person) if kept else None
    standing = people.row(0, named=True) if people is not None and people.height else {}
    return page(
        ctx,
        "member.html",
        member=found,
        others=sorted(seen - {key}),
        decided=dict.fromkeys(members.DECIDED) | standing,
        deciding=kept is None,
    )


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
