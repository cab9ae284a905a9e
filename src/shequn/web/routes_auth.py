"""Signing in and out, and the language choice."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.services import users
from shequn.web.auth import COOKIE, LOGIN_CSRF_COOKIE, Ctx, Forbidden, need
from shequn.web.i18n import LANGS
from shequn.web.render import page

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only paths on this site: never "//evil.example" or "https://...".
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next, "", 200)


def _login_page(request: Request, next_: str, error: str, status: int) -> Response:
    token = secrets.token_urlsafe(32)
    lang = request.query_params.get("lang") or request.app.state.ws.settings.language
    response = page(
        None,
        "login.html",
        status=status,
        lang=lang,
        next=_safe_next(next_),
        csrf=token,
        error=error,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    # Double submit: the form's token must match the cookie set with the form.
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, csrf):
        raise Forbidden("the sign-in form is stale: reload the page")
    address = request.client.host if request.client else "unknown"
    try:
        session = users.sign_in(
            request.app.state.ws, name, password, address, request.app.state.clock
        )
    except InputError as exc:
        status = {users.Throttled: 429, users.Disabled: 403}.get(type(exc), 401)
        return _login_page(request, next, f"{exc.message} ({exc.hint})", status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="lax",
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(ctx: Annotated[Ctx, Depends(need("dashboard"))]) -> Response:
    users.sign_out(ctx.ws, ctx.request.cookies[COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/language")
def language(
    ctx: Annotated[Ctx, Depends(need("dashboard"))],
    lang: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}", field="lang", hint="use zh_CN or en")
    users.set_language(ctx.ws, ctx.user, lang, ctx.request.app.state.clock)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/account")
def account(ctx: Annotated[Ctx, Depends(need("dashboard"))]) -> Response:
    """The signed-in user's own settings: the password."""
    return page(ctx, "account.html", changed=ctx.request.query_params.get("changed") == "1")


@router.post("/account/password")
def change_password(
    ctx: Annotated[Ctx, Depends(need("dashboard"))],
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    confirm: Annotated[str, Form()],
) -> Response:
    """Change one's own password; the user's other sessions end, this one stays."""
    from shequn.services.accounts import change_password as change

    if new != confirm:
        raise InputError("the two new passwords differ", field="confirm", hint="type it twice")
    client = ctx.request.client
    with ctx.acting():
        change(
            ctx.ws,
            ctx.user.name,
            current,
            new,
            keep_token=ctx.request.cookies[COOKIE],
            address=client.host if client else "unknown",
            clock=ctx.request.app.state.clock,
        )
    return RedirectResponse("/account?changed=1", status_code=303)
