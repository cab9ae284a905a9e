"""Who may do what: roles, the one permission dependency every route takes, CSRF.

A route declares its permission with `Depends(need("read"))` and receives a `Ctx`
(the workspace, the signed-in user, the CSRF token, the language). Writes (POST) also
check the CSRF token bound to the session: a form field `csrf` or the `X-CSRF-Token`
header (HTMX sends it from `hx-headers` on <body>).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from fastapi import Request

from shequn.services import audit
from shequn.services.users import Session, User, session_of
from shequn.workspace import Workspace

COOKIE = "shequn_session"
LOGIN_CSRF_COOKIE = "shequn_login_csrf"

# What each permission allows, by role (issue 13: owner everything; operator their
# communities' tasks, members and SOP; analyst reads everything and exports; viewer sees
# the dashboards).
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"owner", "operator", "analyst", "viewer"}),
    "read": frozenset({"owner", "operator", "analyst"}),
    "export": frozenset({"owner", "analyst"}),
    "operate": frozenset({"owner", "operator"}),
    "review": frozenset({"owner", "operator", "analyst"}),
    "import": frozenset({"owner", "operator"}),
    "admin": frozenset({"owner"}),
}


class NotSignedIn(Exception):
    """No live session: the app answers with a redirect to the sign-in page."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this (or the CSRF token is wrong)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ctx:
    """What a route knows about the request beyond its parameters."""

    ws: Workspace
    user: User
    csrf: str
    lang: str
    request: Request

    def acting(self) -> AbstractContextManager[None]:
        """Attribute the audit rows of the writes inside the block to the signed-in user."""
        return audit.acting_as(self.user.name)

    def can(self, permission: str) -> bool:
        return self.user.role in PERMISSIONS[permission]

    def visible(self, communities: list[str]) -> list[str]:
        """The communities of a list that the user's scope covers."""
        return [c for c in communities if self.user.sees(c)]


def current_session(request: Request) -> Session | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    ws: Workspace = request.app.state.ws
    return session_of(ws, token, request.app.state.clock)


def need(permission: str) -> Callable[[Request], object]:
    """The dependency that signs the request in and checks the role (and CSRF on POST)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def check(request: Request) -> Ctx:
        session = current_session(request)
        if session is None:
            raise NotSignedIn
        if session.user.role not in PERMISSIONS[permission]:
            raise Forbidden(f"the role {session.user.role} may not {permission}")
        if request.method not in ("GET", "HEAD"):
            await check_csrf(request, session.csrf)
        ws: Workspace = request.app.state.ws
        lang = request.query_params.get("lang") or session.user.lang or ws.settings.language
        return Ctx(ws, session.user, session.csrf, lang, request)

    check.permission = permission  # type: ignore[attr-defined]
    return check


async def check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form is stale or was not sent by this console (CSRF check)")
