"""`shequn activities ...`: the activities of `activities/*.yaml`, their plans and results."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.workspace import Workspace

activities_app = typer.Typer(help="Activities: list, plan, results, calendar, comparison.")


def _num(value: float | None, fmt: str = "{:,.2f}") -> str:
    return "–" if value is None else fmt.format(value)


def _money(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


@activities_app.command("list")
def activities_list(workspace: WorkspaceOpt = None) -> None:
    """Every activity by start time: community, kind, window, owner, goal, status.

    Example: `shequn activities list`
    """
    from shequn.activities.listing import activities

    ws = Workspace.open(workspace)
    table = Table("name", "title", "community", "kind", "start", "end", "owner", "goal", "status")
    for item in activities(ws):
        a = item.activity
        table.add_row(
            a.name, a.title, a.community, a.kind, item.start.strftime("%Y-%m-%d %H:%M"),
            item.end.strftime("%Y-%m-%d %H:%M"), a.owner, f"{a.goal.metric} ≥ {a.goal.target:g}",
            item.status,
        )  # fmt: skip
    console.print(table)


@activities_app.command("calendar")
def activities_calendar(workspace: WorkspaceOpt = None) -> None:
    """Upcoming and running activities, by local day.

    Example: `shequn activities calendar`
    """
    from shequn.activities.listing import activities

    ws = Workspace.open(workspace)
    shown = [i for i in activities(ws) if i.status != "ended"]
    if not shown:
        console.print("no upcoming activity (add one in activities/)")
    for item in shown:
        a = item.activity
        console.print(
            f"{item.start:%Y-%m-%d %a %H:%M}–{item.end:%H:%M}  {a.title} "
            f"({a.community}, {a.kind}, {a.owner}) [{item.status}]"
        )


@activities_app.command("show")
def activities_show(
    name: Annotated[str, typer.Argument(help="The activity's name.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """One activity: its declaration, budget and promotion plan (local times).

    Example: `shequn activities show talk`
    """
    from shequn.activities.listing import get
    from shequn.activities.plan import points, private

    ws = Workspace.open(workspace)
    a = get(ws, name)
    start, end = (t.astimezone(ws.settings.zone) for t in a.window(ws.settings.zone))
    console.print(f"{a.title} ({a.name}): {a.kind} in {a.community}, owner {a.owner}")
    console.print(
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}; goal {a.goal.metric} ≥ {a.goal.target:g}"
    )
    budget = Table("item", "planned", "actual")
    for c in a.budget:
        budget.add_row(c.item, f"{c.planned:,}", "–" if c.actual is None else f"{c.actual:,}")
    budget.add_row(
        "total",
        f"{a.planned_cost:,}",
        _money(a.actual_cost),
    )
    console.print(budget)
    plan = Table("when", "point", "to", "text")
    for point, at, text in points(a, ws.settings.zone):
        to = "each member signed up (send_private)" if private(point) else "the group"
        plan.add_row(f"{at:%Y-%m-%d %H:%M}", point, to, text)
    console.print(plan)


@activities_app.command("report")
def activities_report(
    name: Annotated[str, typer.Argument(help="The activity's name.")],
    follow_up: Annotated[
        bool, typer.Option("--follow-up", help="Queue a task for the owner per low score.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Results: sign-ups against the goal, attendance, feedback, cost, effect and ROI.

    Example: `shequn activities report talk --follow-up`
    """
    from shequn.activities.listing import report
    from shequn.services.activities import follow_up_low_scores

    ws = Workspace.open(workspace)
    r = report(ws, name)
    a, e = r.activity, r.effect
    goal = a.goal
    met = r.goal_value is not None and r.goal_value >= goal.target
    lines = [
        f"goal: {goal.metric} {_num(r.goal_value, '{:,.4g}')} against {goal.target:g} "
        f"({'met' if met else 'not met'})",
        f"sign-ups {r.signups}, attended {r.attendees}, no-shows {r.no_shows}, "
        f"attendance rate {_num(r.attendance_rate, '{:.1%}')}",
        f"feedback: {len(r.scores)} scores, average {_num(r.average, '{:.1f}')}, "
        f"NPS {_num(r.nps, '{:+.0f}')}; "
        f"keywords: {', '.join(f'{w} ({n})' for w, n in r.keywords) or '–'}",
        f"low scores to follow up: {len(r.low)}",
        f"during: {r.messages} messages, {r.orders} orders, GMV {r.gmv:,.2f}",
        f"cost: planned {a.planned_cost:,}, actual {_money(a.actual_cost)}, "
        f"per attendee {_num(r.cost_per_attendee)}",
        f"effect ({e.participants} participants against {e.matched} similar members, 14 days "
        f"before/after): messages {e.did['messages']:+.2f}, orders {e.did['orders']:+.2f}, "
        f"GMV {e.did['gmv']:+,.2f} per participant",
        f"attributed GMV {e.attributed_gmv:,.2f}; ROI {_num(e.roi, '{:+.0%}')} "
        f"(95% bootstrap {_num(e.roi_low, '{:+.0%}')} … {_num(e.roi_high, '{:+.0%}')})",
    ]  # fmt: skip
    for line in lines:
        console.print(line)
    if follow_up:
        console.print(f"queued {follow_up_low_scores(ws, name)} follow-up task(s) for {a.owner}")


@activities_app.command("compare")
def activities_compare(
    kind: Annotated[
        str, typer.Argument(help="sharing, meetup, discussion, checkin, lottery, sale")
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Ended activities of one kind across communities: which format works where.

    Example: `shequn activities compare sharing`
    """
    from shequn.activities.listing import compare

    ws = Workspace.open(workspace)
    table = Table("community", "activity", "sign-ups", "attendance", "NPS", "cost/attendee", "ROI")
    for r in sorted(compare(ws, kind), key=lambda r: (r.activity.community, r.activity.start)):
        table.add_row(
            r.activity.community, r.activity.name, str(r.signups),
            _num(r.attendance_rate, "{:.0%}"), _num(r.nps, "{:+.0f}"),
            _num(r.cost_per_attendee), _num(r.effect.roi, "{:+.0%}"),
        )  # fmt: skip
    console.print(table)
