"""Members: the filtered list (also .json, .csv, .xlsx), a member's page, bulk tag, merge."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Annotated

import polars as pl
from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.members.states import STATES
from shequn.periods import HistoryEnd, history_ended
from shequn.services.member_tags import tag_members
from shequn.services.members import merge
from shequn.web import members
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.background import Found, Kept, Refreshing
from shequn.web.cache import version
from shequn.web.jobs import Job
from shequn.web.render import FORMATS, page, rows_response
from shequn.web.routes_dashboard import BUILDS, MEMO, communities

router = APIRouter()
# Not recomputed at every new event: deciding them reads every person's history and
# trains the churn model (seconds at 300k events, tens of seconds at a million
# members), and a live group adds events every few seconds.
# Kept for now and two days asked about (`at`): each is tens of MB at a million members.
PEOPLE: Refreshing[pl.DataFrame] = Refreshing("profiles", timedelta(minutes=15), size=3)
# The directory joined with the kept profiles, newest join first: recomputed in the
# background after new events (seconds at a million members), the previous one served.
LISTED: Refreshing[pl.DataFrame] = Refreshing("directory", size=3)


@dataclass(frozen=True)
class _Listing:
    """The Members page's rows before filtering, and how fresh they are."""

    frame: pl.DataFrame
    people: Kept[pl.DataFrame]  # the profiles in it
    refreshing: bool
    error: str  # why the last refresh failed


def _filters(ctx: Ctx) -> members.Filters:
    params = ctx.request.query_params
    values = {f.name: params.get(f.name, "") for f in fields(members.Filters) if f.name != "page"}
    from shequn.periods import parse_day

    for name in ("joined_from", "joined_to", "at"):
        if values[name]:
            parse_day(values[name], name)
    page_text = params.get("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        raise InputError(f"page {page_text!r}", field="page", hint="a page number from 1")
    _check_decided(values)
    if values["community"] and not ctx.user.sees(values["community"]):
        raise Forbidden(f"{values['community']} is outside the communities of {ctx.user.name}")
    filters = members.Filters(**values, page=int(page_text))
    today = ctx.request.app.state.clock.now().astimezone(ctx.ws.settings.zone).date()
    if filters.day is not None and filters.day > today:
        # Profiles of a later day would move the kept figures ahead of the clock.
        raise InputError(f"at {filters.at} is after today", field="at", hint=f"up to {today}")
    return filters


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


def _people(ctx: Ctx, day: date | None) -> Found[pl.DataFrame]:
    """Every person's tier, state and churn risk, now or as of the start of `day` (kept
    per day, refreshed in the background once PEOPLE.ttl old or after the settings
    changed)."""
    now = ctx.request.app.state.clock.now()
    settings = version(ctx.ws)[1]
    zone = ctx.ws.settings.zone

    def decided(at: datetime) -> pl.DataFrame:
        when = at if day is None else datetime.combine(day, time(), zone)
        return members.decided(ctx.ws, when)

    return PEOPLE.get(ctx.ws, ctx.user.name, now, settings, decided, day)


def _listing(ctx: Ctx, day: date | None) -> _Listing | Job:
    """The directory with the profiles (now, or as of `day`), or the job computing the
    first of either."""
    people = _people(ctx, day)
    if people.kept is None:
        assert people.job is not None
        return people.job
    kept = people.kept
    listed = LISTED.get(
        ctx.ws,
        ctx.user.name,
        ctx.request.app.state.clock.now(),
        (version(ctx.ws)[0], kept.at, kept.version),
        lambda _at: members.with_decided(members.directory(ctx.ws, day), kept.value),
        day,
    )
    if listed.kept is None:
        assert listed.job is not None
        return listed.job
    failed = [f.job.error for f in (people, listed) if f.job and not f.running and f.job.error]
    return _Listing(
        listed.kept.value, kept, people.running or listed.running, failed[0] if failed else ""
    )


def _matching(ctx: Ctx, filters: members.Filters, frame: pl.DataFrame) -> pl.DataFrame:
    from shequn.analytics.engine import data_days

    if ctx.user.communities:
        frame = frame.filter(frame["community"].is_in(list(ctx.user.communities)))
    span = MEMO.get(ctx.ws, "days", lambda: data_days(ctx.ws))
    today = span[1] + timedelta(days=1) if span else ctx.request.app.state.clock.now().date()
    if filters.day is not None:  # "active" is the 30 days before the day asked about
        today = min(today, filters.day)
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
    day = filters.day
    listing = _listing(ctx, day)
    if isinstance(listing, Job):
        return page(ctx, "profiles.html", job=listing)
    found = _matching(ctx, filters, listing.frame)
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
        decided_at=listing.people.at.astimezone(ctx.ws.settings.zone).strftime("%Y-%m-%d %H:%M"),
        decided_minutes=int(listing.people.age(now).total_seconds() // 60),
        refreshing=listing.refreshing,
        refresh_error=listing.error,
        # As of a chosen day, the history's end is no news.
        history=HistoryEnd(None) if day else history_note(ctx, now),
    )


def history_note(ctx: Ctx, now: datetime) -> HistoryEnd:
    """The note of a page as of `now`, from the copy's last day with events."""
    from shequn.analytics.engine import data_days

    span = MEMO.get(ctx.ws, "days", lambda: data_days(ctx.ws))
    today = now.astimezone(ctx.ws.settings.zone).date()
    return history_ended(span[1] if span else None, today)


@router.get("/members/profiles/{job}")
def profiles_progress(ctx: Annotated[Ctx, Depends(need("read"))], job: str) -> Response:
    """The profiles' computation (polled by HTMX); once it is done (or gone with a
    restart) the page reloads itself."""
    found = PEOPLE.job(job) or LISTED.job(job)
    if found is None or (found.finished and not found.error):
        return Response(headers={"HX-Refresh": "true"}, media_type="text/html")
    return page(ctx, "_computing.html", job=found)


@router.get("/members.{fmt}")
def member_export(ctx: Annotated[Ctx, Depends(need("export"))], fmt: str) -> Response:
    """The whole filtered list (every page) as json, csv or xlsx; 503 (retry later)
    until the profiles are first computed."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    filters = _filters(ctx)
    listing = _listing(ctx, filters.day)
    if isinstance(listing, Job):
        return Response(
            "The members' tier, state and churn risk are being computed: retry in a minute.\n",
            status_code=503,
            headers={"Retry-After": "30"},
            media_type="text/plain",
        )
    found = _matching(ctx, filters, listing.frame)
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
    kept = _people(ctx, None).kept
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
