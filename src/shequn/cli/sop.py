"""`shequn sop ...`: playbooks (SOPs): check, list, copy, plan ahead, replay the past."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console, err
from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.workspace import Workspace

if TYPE_CHECKING:
    import polars as pl

    from shequn.clock import Clock
    from shequn.services.sop_plan import DryRun
    from shequn.services.sop_replay import ReplayResult

sop_app = typer.Typer(help="Playbooks (SOPs): validate, list, start from the built-in library.")


@sop_app.command("validate")
def sop_validate(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Files (default: every playbook).")
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check playbooks; every problem is printed with its file, line and fix.

    Example: `shequn sop validate playbooks/newcomer-7day.yaml`
    """
    from shequn.sop.content import check_playbook, library_for
    from shequn.sop.loader import Loaded, check, scan
    from shequn.sop.template_check import check_workspace, known_for

    library = library_for(workspace)  # content items: content/NAME.md in the workspace
    settings, stored = known_for(workspace)
    problems = []
    loaded: list[Loaded] = []
    if files:
        for path in files:
            source = path.read_text(encoding="utf-8")
            playbook, found = check(source, str(path))
            problems += found
            loaded += [Loaded(playbook, str(path), source)] if playbook else []
        count = len(files)
    else:
        loaded, problems = scan(Workspace.open(workspace).root / "playbooks")
        count = len(loaded) + len({p.path for p in problems if p.path not in _paths(loaded)})
    for item in loaded:
        args = (item.playbook, item.path, item.source, library)
        problems += check_playbook(*args) + check_workspace(*args, settings, stored)
    for problem in problems:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False)
    if problems:
        raise typer.Exit(2)
    console.print(f"{count} playbook(s) valid")


def _paths(loaded: list) -> set[str]:
    return {item.path for item in loaded}


@sop_app.command("list")
def sop_list(workspace: WorkspaceOpt = None) -> None:
    """List the playbooks in force: trigger, communities, steps.

    Example: `shequn sop list`
    """
    from shequn.sop.loader import scan

    loaded, problems = scan(Workspace.open(workspace).root / "playbooks")
    table = Table("name", "trigger", "applies to", "steps", "file")
    for item in loaded:
        pb = item.playbook
        trigger = getattr(pb.trigger, "every", None) or pb.trigger.type
        scope = ", ".join(pb.applies_to.communities + pb.applies_to.templates)
        steps = ", ".join(f"{s.id} {s.at}" for s in pb.steps)
        table.add_row(pb.name, trigger, scope, steps, Path(item.path).name)
    console.print(table)
    for problem in problems:
        err.print(f"[yellow]invalid:[/] {escape(str(problem))}", highlight=False)


@sop_app.command("new")
def sop_new(
    template: Annotated[str, typer.Option("--from", help="A built-in playbook name.")],
    name: Annotated[str, typer.Option(help="File name (default: the template's).")] = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Copy a built-in playbook into playbooks/ to adapt it.

    Example: `shequn sop new --from newcomer-7day`
    """
    library = resources.files("shequn") / "playbooks"
    names = sorted(
        p.name.removesuffix(".yaml") for p in library.iterdir() if p.name.endswith(".yaml")
    )
    if template not in names:
        raise InputError(
            f"no built-in playbook {template!r}",
            field="--from",
            hint=f"use one of {', '.join(names)}",
        )
    ws = Workspace.open(workspace)
    target = ws.root / "playbooks" / f"{name or template}.yaml"
    if target.exists():
        raise InputError("the file exists", path=str(target), hint="pass --name NEW_NAME")
    target.parent.mkdir(exist_ok=True)
    target.write_text((library / f"{template}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"Wrote {target}; edit it, then `shequn sop validate`")


def _clock(value: str | None) -> Clock | None:
    """A frozen clock for --at (an ISO instant with its offset); None: the system clock."""
    from shequn.clock import FrozenClock

    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InputError(
            f"{value!r} is not an instant with its offset",
            field="--at",
            hint="write e.g. 2026-11-20T09:00+08:00",
        )
    return FrozenClock(at)


def _iso(ws: Workspace, us: int) -> str:
    from shequn.clock import from_micros

    return from_micros(us).astimezone(ws.settings.zone).isoformat()


def _rejected(problems: list[InputError]) -> None:
    for problem in problems:
        err.print(f"[yellow]rejected:[/] {escape(str(problem))}", highlight=False)


@sop_app.command("plan")
def sop_plan(
    days: Annotated[int, typer.Option(help="How many days ahead.")] = 7,
    playbook: Annotated[str, typer.Option(help="Only this playbook.")] = "",
    community: Annotated[str, typer.Option("--community", "-c", help="Only this community.")] = "",
    at: Annotated[
        str | None,
        typer.Option(help="Plan as of this instant, e.g. 2026-11-20T09:00+08:00 (default: now)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list with ISO times.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """A dry run: what the engine will send or assign in the next days; sends nothing.

    Steps of triggers that already happened (joins so far and their later steps,
    inactivity that will mature), schedules, and what waits in the outbox. Later
    events cannot be known; step conditions are checked as of now.

    Examples:

        shequn sop plan --days 3 --community book-club

        shequn sop plan --playbook newcomer-7day --json
    """
    from shequn.services.sop_plan import plan

    ws = Workspace.open(workspace)
    result = plan(ws, _clock(at), days=days, playbook=playbook, community=community)
    _rejected(result.rejected)
    if as_json:
        items = [
            {"at": _iso(ws, a.when), **{k: v for k, v in a.as_dict().items() if k != "when"}}
            for a in result.actions
        ]
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=1) + "\n")
        return
    _print_plan(ws, result)


def _print_plan(ws: Workspace, result: DryRun) -> None:
    from shequn.sop.experiments import HOLDOUT, TREATED

    known = "no event yet" if result.based_on is None else _iso(ws, result.based_on)[:16]
    console.print(
        f"Plan {_iso(ws, result.now)[:16]} → {_iso(ws, result.until)[:16]} "
        f"({ws.settings.timezone}), based on events up to {known}: later events cannot be "
        "known, and conditions are checked as of now.",
        highlight=False,
    )
    tables: dict[str, Table] = {}
    for a in result.actions:
        when = datetime.fromisoformat(_iso(ws, a.when))
        day = when.strftime("%Y-%m-%d %a")
        if day not in tables:
            columns = ("time", "status", "playbook", "step", "target", "action", "owner", "text")
            tables[day] = Table(*columns, title=day, title_justify="left", box=box.SIMPLE_HEAD)
            text = tables[day].columns[-1]  # the first line, cut to keep one row per action
            text.no_wrap, text.overflow = True, "ellipsis"
            text.max_width = max(16, min(48, console.width - 95))
        target = a.member_name or a.target
        # A variant's name beside the status; held out is the status (with the reason).
        shown = f"{a.status} ({a.arm})" if a.arm not in (None, HOLDOUT, TREATED) else a.status
        cells = (when.strftime("%H:%M"), shown, a.playbook, a.step, target, a.action, a.owner)
        tables[day].add_row(*cells, a.text[:60])
    for table in tables.values():
        console.print(table)
    status = Counter(a.status for a in result.actions)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
    console.print(f"Total: {len(result.actions)} action(s)" + (f": {parts}" if parts else ""))


@sop_app.command("replay")
def sop_replay(
    from_: Annotated[str, typer.Option("--from", help="First local day, e.g. 2026-10-01.")],
    to: Annotated[str, typer.Option("--to", help="The local day after the last (exclusive).")],
    member: Annotated[str, typer.Option(help="List this member's actions.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Counts and actions as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write every action to this CSV file.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """A backtest: what the playbooks would have done over the history of a period.

    The playbooks in force run over the events of the local days [--from, --to) as if
    the engine had ticked through them; nothing is sent or written.

    Examples:

        shequn sop replay --from 2026-10-01 --to 2026-11-01

        shequn sop replay --from 2026-10-01 --to 2026-10-08 --member wx:alice

        shequn sop replay --from 2026-10-01 --to 2026-11-01 --out actions.csv
    """
    from rich.progress import Progress

    from shequn.services.sop_replay import replay, with_local_times
    from shequn.spreadsheet import safe

    ws = Workspace.open(workspace)
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("replaying", total=max((end - start).days, 0))
        result = replay(ws, start, end, progress=lambda done, _: bar.update(task, completed=done))
    _rejected(result.rejected)
    actions = result.of_member(member) if member else result.actions
    shown = with_local_times(actions, ws.settings.timezone)
    if out is not None:
        safe(with_local_times(result.actions, ws.settings.timezone)).write_csv(out)
    if as_json:
        counts = result.counts().to_dicts()
        body = {"from": str(start), "to": str(end), "counts": counts, "actions": shown.to_dicts()}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return
    _print_replay(ws, result, (member, shown) if member else None, start, end)
    if out is not None:
        console.print(f"Wrote {result.actions.height} action(s) to {out}")


def _print_replay(
    ws: Workspace,
    result: ReplayResult,
    member: tuple[str, pl.DataFrame] | None,
    start: date,
    end: date,
) -> None:
    from shequn.sop.experiments import HOLDOUT

    console.print(
        f"Replay {start} – {end} (excl., {ws.settings.timezone}): what the playbooks in force "
        f"would have done, {result.windows} day(s) evaluated as the engine would have.",
        highlight=False,
    )
    table = Table("playbook", "step", "action", "actions", "members", "held out")
    for row in result.counts().iter_rows():
        table.add_row(*(str(c) for c in row))
    console.print(table)
    if member is not None:
        key, actions = member
        columns = ("due", "playbook", "step", "action", "owner", "community", "experiment", "arm")
        listing = Table(*columns, title=f"{key}: {actions.height} action(s)")
        for row in actions.select(columns).rows():
            arm = f"{row[7]} (not sent)" if row[7] == HOLDOUT else row[7] or ""
            listing.add_row(row[0][:16].replace("T", " "), *row[1:6], row[6] or "", arm)
        console.print(listing)
    held = result.held_out
    total = result.actions.height - held
    console.print(f"Total: {total} action(s)" + (f", {held} held out (not sent)" if held else ""))
