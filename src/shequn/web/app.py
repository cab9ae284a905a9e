"""`create_app(workspace)`: the console's FastAPI application."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from shequn.clock import Clock, SystemClock
from shequn.errors import ShequnError
from shequn.web.auth import Forbidden, NotSignedIn, current_session
from shequn.web.i18n import translator
from shequn.web.render import page
from shequn.web.upload_limit import UploadLimit
from shequn.workspace import Workspace

STATIC = Path(__file__).with_name("static")
ECHARTS = Path(__file__).parent.parent / "reports" / "vendor"

# No inline script or style anywhere: charts read JSON blocks from a static script.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def routers() -> list[APIRouter]:
    """Every router of the console (the route-walk test reads the routes from here)."""
    from shequn.web import (
        routes_activities,
        routes_admin,
        routes_auth,
        routes_communities,
        routes_dashboard,
        routes_imports,
        routes_leaders,
        routes_members,
        routes_replay,
        routes_reviews,
        routes_signup,
        routes_sop,
    )

    pages = (routes_auth, routes_dashboard, routes_leaders, routes_members)
    work = (routes_replay, routes_sop, routes_reviews, routes_signup, routes_imports)
    # After routes_signup: its /activities/signups must match before /activities/{name}.
    return [m.router for m in (*pages, *work, routes_communities, routes_admin, routes_activities)]


def create_app(ws: Workspace, clock: Clock | None = None) -> FastAPI:
    """The console for one workspace (its store is migrated on first use)."""
    app = FastAPI(title="shequn", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ws = ws
    app.state.clock = clock or SystemClock()
    # ECharts is vendored once, for the reports; the console serves the same file.
    app.mount("/echarts", StaticFiles(directory=ECHARTS, check_dir=False), name="echarts")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in routers():
        app.include_router(router)

    app.add_middleware(UploadLimit, ws=ws)

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/static"):
            response.headers["Cache-Control"] = "public, max-age=3600"
        else:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(NotSignedIn)
    async def _sign_in(request: Request, _exc: NotSignedIn) -> Response:
        target = "/login?next=" + quote(
            request.url.path + ("?" + request.url.query if request.url.query else ""), safe=""
        )
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error_page(request, 403, exc.reason, "")

    @app.exception_handler(ShequnError)
    async def _bad_input(request: Request, exc: ShequnError) -> Response:
        return _error_page(request, 400, exc.message, exc.hint)

    return app


def _error_page(request: Request, status: int, message: str, hint: str) -> Response:
    session = current_session(request)
    ws: Workspace = request.app.state.ws
    lang = (session.user.lang if session else None) or ws.settings.language
    _ = translator(lang)
    title = _("Not allowed") if status == 403 else _("Cannot do that")
    return page(
        None,
        "error.html",
        status=status,
        lang=lang,
        title=title,
        message=message,
        hint=hint,
        user=session.user if session else None,
    )
