"""Sign-up links: the operators' page that makes them, and the page a member opens.

The member's page is public (members have no console account): opening it shows the
activity and a button; the sign-up happens on the POST, so a chat app fetching the
link for a preview signs nobody up. The form carries a token that must match a cookie
set with the page (double submit, as the sign-in form does).
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from shequn.activities.listing import Listed, activities
from shequn.errors import InputError
from shequn.services import signups
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.render import page

router = APIRouter()
CSRF_COOKIE = "shequn_signup_csrf"


@router.get("/activities/signups")
def links_page(
    ctx: Annotated[Ctx, Depends(need("operate"))], activity: str = "", member: str = ""
) -> Response:
    """Each activity the user's scope covers, its sign-ups, and a link for one member."""
    clock = ctx.request.app.state.clock
    problem, link = "", ""
    try:
        shown = [a for a in activities(ctx.ws, clock) if ctx.user.sees(a.activity.community)]
    except InputError as exc:
        shown, problem = [], str(exc)
    rows = [(a, signups.count(ctx.ws, a.activity)) for a in shown]
    if activity and member and not problem:
        if activity not in {a.activity.name for a in shown}:
            raise Forbidden(f"no activity {activity!r} in the communities you look after")
        try:
            path = signups.link_path(ctx.ws, activity, member)
            link = str(ctx.request.base_url).rstrip("/") + path
        except InputError as exc:
            problem = str(exc)
    return page(
        ctx,
        "signup_links.html",
        rows=rows,
        chosen=activity,
        member=member,
        link=link,
        problem=problem,
    )


def _member_page(request: Request, name: str, token: str, done: str, status: int) -> Response:
    ws = request.app.state.ws
    lang = ws.settings.language
    try:
        activity, member = signups.member_of(ws, name, token)
    except InputError as exc:
        return page(None, "signup.html", status=404, lang=lang, problem=str(exc))
    state = done or signups.status(ws, activity, member, request.app.state.clock)
    start, end = (t.astimezone(ws.settings.zone) for t in activity.window(ws.settings.zone))
    csrf = secrets.token_urlsafe(32)
    response = page(
        None,
        "signup.html",
        status=status,
        lang=lang,
        problem="",
        item=Listed(activity, start, end, state),
        member=member,
        csrf=csrf,
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/signup")
    return response


@router.get("/signup/{name}/{token}")
def member_page(request: Request, name: str, token: str) -> Response:
    return _member_page(request, name, token, "", 200)


@router.post("/signup/{name}/{token}")
def member_signs_up(
    request: Request, name: str, token: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf):
        raise Forbidden("the sign-up form is stale: open the link again (CSRF check)")
    ws = request.app.state.ws
    try:
        activity, member = signups.member_of(ws, name, token)
    except InputError:
        return _member_page(request, name, token, "", 404)
    done = signups.sign_up(ws, activity, member, request.app.state.clock)
    return _member_page(request, name, token, done, 200)
