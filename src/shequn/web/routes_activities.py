"""Activities: the calendar-like list (also .json, .csv, .xlsx), one activity with its
plan and results, and editing `activities/*.yaml` (validated as the loader does).

Reading goes through `shequn.activities.listing` and `plan` (what `shequn activities
list|show|report` print); writing through `shequn.services.activity_files`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from shequn.activities.listing import Listed, activities, report
from shequn.activities.plan import points, private
from shequn.errors import InputError
from shequn.services import activity_files, signups
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.render import FORMATS, page, rows_response

router = APIRouter()
COLUMNS = (
    "name", "title", "community", "kind", "start", "end", "status", "owner",
    "signups", "goal_metric", "goal_target",
)  # fmt: skip


def _listed(ctx: Ctx) -> list[Listed]:
    """The activities of the communities the user sees, by start time."""
    found = activities(ctx.ws, ctx.request.app.state.clock)
    return [a for a in found if ctx.user.sees(a.activity.community)]


def _rows(ctx: Ctx, listed: list[Listed]) -> list[dict[str, Any]]:
    return [
        {
            "name": a.activity.name,
            "title": a.activity.title,
            "community": a.activity.community,
            "kind": a.activity.kind,
            "start": a.start,
            "end": a.end,
            "status": a.status,
            "owner": a.activity.owner,
            "signups": signups.count(ctx.ws, a.activity),
            "goal_metric": a.activity.goal.metric,
            "goal_target": a.activity.goal.target,
        }
        for a in listed
    ]


@router.get("/activities")
def activity_list(ctx: Annotated[Ctx, Depends(need("read"))]) -> Response:
    """Upcoming and running activities first (soonest first), then the ended ones."""
    problem = ""
    try:
        listed = _listed(ctx)
    except InputError as exc:
        listed, problem = [], str(exc)
    rows = _rows(ctx, listed)
    coming = [r for r in rows if r["status"] != "ended"]
    past = [r for r in reversed(rows) if r["status"] == "ended"]
    return page(ctx, "activities.html", coming=coming, past=past, problem=problem)


@router.get("/activities.{fmt}")
def activity_export(ctx: Annotated[Ctx, Depends(need("read"))], fmt: str) -> Response:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    return rows_response(_rows(ctx, _listed(ctx)), COLUMNS, fmt, "activities")


def _editor(
    ctx: Ctx, name: str, file: str, source: str, problems: list[InputError], status: int = 200
) -> Response:
    """The YAML form: a new file (`name` empty) or the activity `name`'s file."""
    return page(
        ctx,
        "activity_edit.html",
        status=status,
        name=name,
        file=file,
        source=source,
        problems=problems,
    )


@router.get("/activities/new")
def new_form(ctx: Annotated[Ctx, Depends(need("operate"))]) -> Response:
    return _editor(ctx, "", "", "", [])


@router.post("/activities/new")
def create(
    ctx: Annotated[Ctx, Depends(need("operate"))],
    file: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
) -> Response:
    """A new file `activities/<file>.yaml` (the name must be new)."""
    try:
        path = activity_files.new_file(ctx.ws, file.strip())
    except InputError as exc:
        return _editor(ctx, "", file, source, [exc], 400)
    return _saved_or_errors(ctx, "", path, source, file)


@router.get("/activities/{name}")
def activity_page(ctx: Annotated[Ctx, Depends(need("read"))], name: str) -> Response:
    """The activity's declaration, promotion plan and results (`activities report`)."""
    results = report(ctx.ws, name)
    a = results.activity
    if not ctx.user.sees(a.community):
        raise Forbidden(f"{a.community} is outside the communities of {ctx.user.name}")
    zone = ctx.ws.settings.zone
    start, end = (t.astimezone(zone) for t in a.window(zone))
    plan = [(at, point, private(point), text) for point, at, text in points(a, zone)]
    met = results.goal_value is not None and results.goal_value >= a.goal.target
    return page(
        ctx,
        "activity.html",
        a=a,
        r=results,
        start=start,
        end=end,
        plan=plan,
        met=met,
        saved=ctx.request.query_params.get("saved", ""),
    )


def _editable(ctx: Ctx, name: str) -> activity_files.ActivityFile:
    found = activity_files.find(ctx.ws, name)
    if found.activity is None or not ctx.user.sees(found.activity.community):
        raise Forbidden(f"{name} is outside the communities of {ctx.user.name}")
    return found


@router.get("/activities/{name}/edit")
def edit_form(ctx: Annotated[Ctx, Depends(need("operate"))], name: str) -> Response:
    found = _editable(ctx, name)
    return _editor(ctx, name, found.file, found.source, [])


@router.post("/activities/{name}/edit")
def edit(
    ctx: Annotated[Ctx, Depends(need("operate"))],
    name: str,
    source: Annotated[str, Form()] = "",
) -> Response:
    found = _editable(ctx, name)
    return _saved_or_errors(ctx, name, found.file, source, found.file)


def _saved_or_errors(ctx: Ctx, name: str, path: str, source: str, shown: str) -> Response:
    with ctx.acting():
        saved, problems = activity_files.save(
            ctx.ws, path, source, ctx.user.sees, ctx.request.app.state.clock
        )
    if saved is None:
        return _editor(ctx, name, shown, source, problems, 400)
    return RedirectResponse(f"/activities/{saved.name}?saved=1", status_code=303)
