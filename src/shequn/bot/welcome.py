"""Welcomes, raids and the entry threshold (入群门槛): the decisions about who comes in.

Part of the decision core (`shequn.bot.core`): pure, no IO.
"""

from __future__ import annotations

from datetime import datetime

from shequn.bot.decision import NOTHING, DecideJoin, Decision, Record, Request, Send
from shequn.bot.normalise import normalise
from shequn.bot.setup import Setup, welcome_values
from shequn.bot.state import BotState
from shequn.bot.texts import say
from shequn.domain.events import Event
from shequn.sop.render import RenderError, render


def name_of(event: Event) -> str:
    meta = event.meta or {}
    return str(meta.get("name") or meta.get("display_name") or event.member.split(":", 1)[-1])


# --- welcome and raids -------------------------------------------------------------


def join(event: Event, state: BotState, setup: Setup, at: float) -> Decision:
    config = setup.config
    if config.welcome is None:
        return NOTHING
    group = state.group(setup.community)
    recent = 1 + sum(1 for t in group.joins if at - t < 60)
    if group.raid_until is not None or recent > config.raid.joins_per_minute:
        until = at + config.raid.calm_seconds
        records = [Record("welcomed", event.member, meta={"raid": True, "until": until})]
        if group.raid_until is None:
            key = f"raid|{setup.community}|{int(at)}"
            records.insert(0, Record("raid_started", key=key, meta={"until": until, "key": key}))
        return Decision(setup.community, event.source_id, records=tuple(records))
    text = welcome_text(setup, name_of(event), event.channel)
    private = event.member if config.welcome.private else ""
    return Decision(
        setup.community,
        event.source_id,
        actions=(Send(text, private_to=private),),
        records=(Record("welcomed", event.member, text=text[:200]),),
    )


def welcome_text(setup: Setup, name: str, channel: str) -> str:
    """The welcome, rendered in the sandbox; the member's name is only ever a value."""
    values = welcome_values(name, channel, setup.config.rules, setup.name)
    try:
        return render(setup.welcome, values)
    except RenderError:  # validated at load; a surprise still must not stop the bot
        return say("welcome", setup.language, name=name, rules=setup.config.rules)


# --- the entry threshold -------------------------------------------------------------


def request(request: Request, setup: Setup, at: float) -> Decision:
    entry = setup.config.entry
    if entry is None:
        return NOTHING
    if request.channel and request.channel in entry.trusted_links:
        return _join_decided(setup, request.request_id, request.member, True, "trusted link")
    deadline = at + entry.timeout
    text = say(
        "entry_question",
        setup.language,
        question=entry.question,
        minutes=max(1, entry.timeout // 60),
    )
    meta = {"request_id": request.request_id, "deadline": deadline}
    return Decision(
        setup.community,
        f"request|{request.request_id}",
        actions=(Send(text, private_to=request.member),),
        records=(Record("join_challenged", request.member, meta=meta),),
    )


def answer(event: Event, state: BotState, setup: Setup, _now: datetime) -> Decision | None:
    pending = state.challenges.get(event.member)
    entry = setup.config.entry
    if pending is None or entry is None or pending.community != setup.community:
        return None
    right = normalise(event.text.strip()) in {normalise(a.strip()) for a in entry.answers}
    decided = _join_decided(
        setup, pending.request_id, event.member, right, "" if right else "wrong answer"
    )
    if right:
        return decided
    sorry = Send(say("entry_wrong", setup.language), private_to=event.member)
    return Decision(decided.community, decided.cause, (*decided.actions, sorry), decided.records)


def _join_decided(setup: Setup, request_id: str, member: str, approve: bool, why: str) -> Decision:
    kind = "join_approved" if approve else "join_declined"
    return Decision(
        setup.community,
        f"request|{request_id}|decided",
        actions=(DecideJoin(request_id, member, approve, why),),
        records=(Record(kind, member, text=why, meta={"request_id": request_id}),),
    )
