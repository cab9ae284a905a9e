"""`shequn faq ...` and `shequn moderation check`: try the group bot before going live.

They read the same configuration as the live bot (`shequn.bot.setup.load`) and, for a
member, the same state (replayed from the store).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Annotated

import typer
from rich.table import Table

from shequn.cli.options import WorkspaceOpt
from shequn.cli.output import console
from shequn.errors import InputError
from shequn.periods import parse_day
from shequn.workspace import Workspace

faq_app = typer.Typer(help="The bot's FAQ library: test a question, report, mark answers wrong.")
moderation_app = typer.Typer(help="The bot's moderation rules: check a text before going live.")
CommunityOpt = Annotated[
    str, typer.Option("--community", "-c", help="The community (default: the only one with a bot).")
]


def _setup(ws: Workspace, community: str):  # type: ignore[no-untyped-def]
    from shequn.bot.setup import load

    setups = load(ws.root, ws.settings, only=community)
    if community and community not in setups:
        raise InputError(
            f"community {community!r} has no bot",
            field="--community",
            hint="add a [communities.bot] table (or a [bot_templates.NAME] for its template)",
        )
    if not setups:
        raise InputError(
            "no community has a bot", hint="see docs/bot.md for the [communities.bot] table"
        )
    if len(setups) > 1:
        raise InputError(
            f"several communities have a bot: {', '.join(setups)}",
            field="--community",
            hint="name one with --community KEY",
        )
    return next(iter(setups.values()))


@faq_app.command("test")
def faq_test(
    question: Annotated[str, typer.Argument(help="The question, as a member would ask it.")],
    community: CommunityOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Show the FAQ entry a question matches, its confidence, and whether the bot answers.

    Example: `shequn faq test "晚上几点关门？"`
    """
    from shequn.bot.core import is_question

    setup = _setup(Workspace.open(workspace), community)
    if setup.faq is None or setup.config.faq is None:
        raise InputError(
            f"{setup.community}: the FAQ is off or faq/ holds no entries",
            hint="write faq/*.yaml (docs/bot.md) and keep the [communities.bot.faq] table",
        )
    threshold = setup.config.faq.threshold
    match = setup.faq.match(question, setup.config.faq.tags)
    if match.entry is None:
        console.print("no entry shares a word with this question")
    else:
        console.print(f"entry:      {match.entry.id}")
        console.print(f"variant:    {match.variant}")
        console.print(f"confidence: {match.confidence:.3f} (threshold {threshold:g})")
    if match.entry is not None and match.confidence >= threshold:
        console.print(f"answers:    yes\n{match.entry.answer}")
    elif is_question(question):
        console.print(f"answers:    no; an operator task goes to {setup.owner}")
    else:
        console.print("answers:    no; not a question, so no operator task either")


def _window(ws: Workspace, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    zone = ws.settings.zone
    last = parse_day(end, "--to") if end else date.today() + timedelta(days=1)
    first = parse_day(start, "--from") if start else last - timedelta(days=30)
    return datetime.combine(first, time(), zone), datetime.combine(last, time(), zone)


FromOpt = Annotated[
    str | None, typer.Option("--from", help="First local day (default: 30 days back).")
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="The day after the last (default: tomorrow).")
]


@faq_app.command("report")
def faq_report(
    from_: FromOpt = None,
    to: ToOpt = None,
    community: CommunityOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """Questions asked, answered, marked wrong, and the unanswered ones to write next.

    Example: `shequn faq report --from 2026-11-01`
    """
    from shequn.bot.report import faq_report as build

    ws = Workspace.open(workspace)
    report = build(ws, *_window(ws, from_, to), community)
    console.print(
        f"asked {report.asked} · answered {report.answered} · marked wrong {report.wrong}"
    )
    entries = Table("entry", "answered", "wrong", title="answers by entry")
    for line in report.entries:
        entries.add_row(line.entry, str(line.answered), str(line.wrong))
    console.print(entries)
    gaps = Table("times", "question", title="unanswered: the entries to write next")
    for question, times in report.unanswered:
        gaps.add_row(str(times), question)
    console.print(gaps)
    recent = Table("id", "entry", "question", title="last answers (shequn faq wrong ID)")
    for event_id, entry, question in report.recent:
        recent.add_row(str(event_id), entry, question)
    console.print(recent)


@faq_app.command("wrong")
def faq_wrong(
    answer_id: Annotated[int, typer.Argument(help="The answer's id (see `shequn faq report`).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Mark an automatic answer wrong (it counts in the FAQ quality report).

    Example: `shequn faq wrong 1042`
    """
    from shequn.services.bot_report import mark_wrong

    entry = mark_wrong(Workspace.open(workspace), answer_id)
    console.print(f"answer {answer_id} ({entry}) marked wrong")


@moderation_app.command("check")
def moderation_check(
    text: Annotated[str, typer.Argument(help="The message to check.")],
    member: Annotated[
        str, typer.Option("--member", help="A member key: their warnings and join time count.")
    ] = "",
    community: CommunityOpt = "",
    workspace: WorkspaceOpt = None,
) -> None:
    """The verdict on a message: the rule it breaks, the evidence and the ladder step.

    Example: `shequn moderation check "加微信 abc12345" --member matrix:@bob:example.org`
    """
    from shequn.bot.core import decide
    from shequn.clock import SystemClock
    from shequn.domain.events import Event
    from shequn.services.bot import load_state

    ws = Workspace.open(workspace)
    setup = _setup(ws, community)
    clock = SystemClock()
    state = load_state(ws, clock) if member else None
    who = member or "check:someone"
    event = Event(
        clock.now(),
        setup.community,
        "message",
        who,
        text=text,
        message_id="check",
        source_id="check",
    )
    live = replace(setup, config=setup.config.model_copy(update={"dry_run": True}))
    from shequn.bot.state import BotState

    decision = decide(event, state or BotState(), live, clock.now())
    found = [r for r in decision.records if r.type == "violation"]
    if not found:
        console.print("verdict: allowed")
        return
    meta = found[0].meta
    step = meta["step"] + (f" {meta['seconds']} s" if meta["seconds"] else "")
    console.print(f"verdict:  violation ({'dry run' if setup.config.dry_run else 'live'})")
    console.print(f"rule:     {meta['rule']}")
    console.print(f"evidence: {meta['evidence']}")
    console.print(f"step:     {step} (warning {meta['strikes']} of the ladder)")


def print_figures(ws: Workspace, start: date, end: date, scopes: list[str]) -> None:
    """The bot's table under `shequn metrics` (nothing when the bot did nothing)."""
    from shequn.bot.report import ROWS, figures, shown

    zone = ws.settings.zone
    found = figures(ws, datetime.combine(start, time(), zone), datetime.combine(end, time(), zone))
    if not any(f.counts for f in found.values()):
        return
    scopes_shown = [s for s in scopes if s in found]
    table = Table("机器人 bot", *scopes_shown)
    for row in ROWS:
        cells = [shown(found[s].value(row.name)) for s in scopes_shown]
        table.add_row(f"{row.label} {row.english}", *cells)
    console.print(table)
