"""Settings: console users (owners add them) and the audit log of who changed what."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.services.users import ROLES, add_user, list_users
from shequn.web.auth import Ctx, need
from shequn.web.queries import audit_log
from shequn.web.render import FORMATS, page, rows_response
from shequn.web.routes_dashboard import communities

router = APIRouter()
AUDIT_COLUMNS = ("when", "actor", "action", "detail")


@router.get("/settings/users")
def users_page(ctx: Annotated[Ctx, Depends(need("admin"))]) -> Response:
    return page(
        ctx,
        "users.html",
        users=list_users(ctx.ws),
        roles=ROLES,
        communities=communities(ctx),
        changed=ctx.request.query_params.get("changed", ""),
    )


@router.post("/settings/users")
def users_add(
    ctx: Annotated[Ctx, Depends(need("admin"))],
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
    community: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads a fresh list
) -> Response:
    with ctx.acting():
        add_user(
            ctx.ws,
            name.strip(),
            password,
            role,
            tuple(c for c in community if c),
            ctx.request.app.state.clock,
        )
    return RedirectResponse("/settings/users", status_code=303)


@router.post("/settings/users/{name}/{verb}")
def users_change(
    ctx: Annotated[Ctx, Depends(need("admin"))],
    name: str,
    verb: str,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Disable or enable a user, or reset their password (owners only)."""
    from shequn.services.accounts import reset_password, set_enabled

    clock = ctx.request.app.state.clock
    with ctx.acting():
        if verb in ("disable", "enable"):
            set_enabled(ctx.ws, name, verb == "enable", clock)
        elif verb == "password":
            reset_password(ctx.ws, name, password, clock)
        else:
            raise InputError(
                f"unknown action {verb!r}", field="action", hint="disable, enable or password"
            )
    return RedirectResponse(f"/settings/users?changed={quote(name)}", status_code=303)


@router.get("/settings/audit")
def audit_page(ctx: Annotated[Ctx, Depends(need("admin"))]) -> Response:
    return page(ctx, "audit.html", rows=audit_log(ctx.ws))


@router.get("/settings/audit.{fmt}")
def audit_export(ctx: Annotated[Ctx, Depends(need("admin"))], fmt: str) -> Response:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    return rows_response(audit_log(ctx.ws, limit=100_000), AUDIT_COLUMNS, fmt, "audit")
