"""SOP: playbooks and their validation, the 7-day plan, the outbox by state; tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.services.tasks import complete, list_tasks
from shequn.web.auth import Ctx, Forbidden, need
from shequn.web.queries import outbox_counts, outbox_rows
from shequn.web.render import FORMATS, page, rows_response

router = APIRouter()
STATES = ("pending", "retry", "sent", "dead", "missed")
TASK_VIEWS = ("mine", "team", "overdue")
TASK_COLUMNS = ("id", "owner", "title", "community", "target", "due", "content")


def _playbooks(ctx: Ctx) -> list[dict[str, object]]:
    """Each playbook file with its problems (file, line and fix), as `shequn sop validate`."""
    from shequn.sop.content import check_playbook, library_for
    from shequn.sop.loader import scan

    loaded, problems = scan(ctx.ws.root / "playbooks")
    library = library_for(ctx.ws.root)
    out: list[dict[str, object]] = []
    for item in loaded:
        found = check_playbook(item.playbook, item.path, item.source, library)
        out.append(
            {
                "name": item.playbook.name,
                "path": item.path,
                "steps": len(item.playbook.steps),
                "problems": [str(p) for p in found],
            }
        )
    for problem in problems:
        out.append({"name": "-", "path": problem.path, "steps": 0, "problems": [str(problem)]})
    return out


@router.get("/sop")
def sop_page(ctx: Annotated[Ctx, Depends(need("read"))], state: str = "dead") -> Response:
    if state not in STATES:
        raise InputError(f"unknown state {state!r}", field="state", hint=", ".join(STATES))
    scope = ctx.user.communities[0] if len(ctx.user.communities) == 1 else None
    rows = [r for r in outbox_rows(ctx.ws, state, scope) if ctx.user.sees(r["community"])]
    return page(
        ctx,
        "sop.html",
        playbooks=_playbooks(ctx),
        state=state,
        states=STATES,
        counts=outbox_counts(ctx.ws, scope),
        rows=rows,
    )


@router.post("/sop/outbox/{row_id}/{verb}")
def outbox_action(
    ctx: Annotated[Ctx, Depends(need("operate"))], row_id: int, verb: str
) -> Response:
    """Retry or cancel a dead outbox row."""
    from shequn.services.outbox_admin import cancel_dead, retry_dead

    act = {"retry": retry_dead, "cancel": cancel_dead}.get(verb)
    if act is None:
        raise InputError(f"unknown action {verb!r}", field="action", hint="retry or cancel")
    rows = {r["id"]: r for r in outbox_rows(ctx.ws, "dead", None, limit=100_000)}
    if row_id in rows and not ctx.user.sees(rows[row_id]["community"]):
        raise Forbidden(f"row {row_id} is outside the communities of {ctx.user.name}")
    with ctx.acting():
        act(ctx.ws, row_id, ctx.request.app.state.clock)
    return RedirectResponse("/sop?state=dead", status_code=303)


@router.get("/sop/plan")
def plan_page(ctx: Annotated[Ctx, Depends(need("read"))], days: int = 7) -> Response:
    from shequn.services.sop_plan import plan

    if not 1 <= days <= 31:
        raise InputError(f"{days} days", field="days", hint="plan 1 to 31 days ahead")
    result = plan(ctx.ws, ctx.request.app.state.clock, days=days)
    zone = ctx.ws.settings.zone
    from shequn.clock import from_micros

    actions = [
        {**a.as_dict(), "at": from_micros(a.when).astimezone(zone).strftime("%Y-%m-%d %a %H:%M")}
        for a in result.actions
        if ctx.user.sees(a.community)
    ]
    return page(
        ctx, "plan.html", actions=actions, days=days, rejected=[str(p) for p in result.rejected]
    )


def _tasks(ctx: Ctx, view: str) -> list[dict[str, object]]:
    if view not in TASK_VIEWS:
        raise InputError(f"unknown view {view!r}", field="view", hint=", ".join(TASK_VIEWS))
    clock = ctx.request.app.state.clock
    found = list_tasks(
        ctx.ws,
        owner=ctx.user.name if view == "mine" else "",
        overdue=view == "overdue",
        clock=clock,
    )
    zone = ctx.ws.settings.zone
    now = clock.now()
    return [
        {
            **t.__dict__,
            "due": t.due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "late": t.due < now,
        }
        for t in found
        if ctx.user.sees(t.community)
    ]


@router.get("/tasks")
def tasks_page(ctx: Annotated[Ctx, Depends(need("read"))], view: str = "team") -> Response:
    return page(
        ctx,
        "tasks.html",
        tasks=_tasks(ctx, view),
        view=view,
        views=TASK_VIEWS,
        done=ctx.request.query_params.get("done", ""),
    )


@router.get("/tasks.{fmt}")
def tasks_export(
    ctx: Annotated[Ctx, Depends(need("read"))], fmt: str, view: str = "team"
) -> Response:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", field="format", hint="use json, csv or xlsx")
    return rows_response(_tasks(ctx, view), TASK_COLUMNS, fmt, "tasks")


@router.post("/tasks/{task_id}/done")
def task_done(
    ctx: Annotated[Ctx, Depends(need("operate"))],
    task_id: int,
    note: Annotated[str, Form()] = "",
    view: Annotated[str, Form()] = "team",
) -> Response:
    visible = {t["id"] for t in _tasks(ctx, "team")}
    if task_id not in visible and ctx.user.communities:
        raise Forbidden(f"task {task_id} is outside the communities of {ctx.user.name}")
    with ctx.acting():
        complete(
            ctx.ws, task_id, by=ctx.user.name, note=note.strip(), clock=ctx.request.app.state.clock
        )
    view = view if view in TASK_VIEWS else "team"
    return RedirectResponse(f"/tasks?view={view}&done={task_id}", status_code=303)
