"""The decision core: `decide(event, state, setup, now) -> Decision`. Pure: no IO.

It reads the state and the community's compiled setup and says what to do and what to
record; it never changes the state (the runner folds the event and the records in
afterwards with `shequn.bot.state`). Messages go through, in order: a pending join
question, moderation, a command, the FAQ, and message points.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from shequn.bot import commands, welcome
from shequn.bot.decision import (
    NOTHING,
    Action,
    Ban,
    DecideJoin,
    Decision,
    Delete,
    Mute,
    OperatorTask,
    Record,
    Remove,
    Request,
    Send,
    Tick,
)
from shequn.bot.moderation import Message, check, ladder_step
from shequn.bot.normalise import normalise
from shequn.bot.points import award
from shequn.bot.setup import Setup
from shequn.bot.state import BotState, apply_record, observe, text_key
from shequn.bot.texts import duration, say
from shequn.bot.welcome import name_of
from shequn.domain.events import Event

LADDER_RECORD = {"warn": "warned", "mute": "muted", "remove": "removed", "ban": "banned"}
_QUESTION = re.compile(
    r"[?？]|吗|呢|怎么|什么|哪|几|多少|能不能|可以|如何|是否|有没有"
    r"|\b(?:how|what|when|where|why|which|who|can|could|is|are|do|does|any)\b",
    re.IGNORECASE,
)


def decide(event: Event | Request | Tick, state: BotState, setup: Setup, now: datetime) -> Decision:
    """What the bot does about one event in `setup`'s community (see the module doc)."""
    at = now.timestamp()
    if isinstance(event, Tick):
        return _tick(state, setup, now)
    if isinstance(event, Request):
        return welcome.request(event, setup, at)
    if event.member in setup.me:
        return NOTHING
    if event.type == "join":
        return welcome.join(event, state, setup, at)
    if event.type == "activity_attend" and setup.config.points:
        found = award(state, setup, event.member, setup.config.points.attendance, "attendance")
        return Decision(setup.community, event.source_id, records=tuple(found))
    if event.type == "message":
        return _message(event, state, setup, now)
    return NOTHING


def step(event: Event | Request | Tick, state: BotState, setup: Setup, now: datetime) -> Decision:
    """Decide, then fold the event and the decision into the state (what the runner does)."""
    decision = decide(event, state, setup, now)
    at = now.timestamp()
    if isinstance(event, Event):
        meta = event.meta or {}
        name = str(meta.get("name") or meta.get("display_name") or "")
        text = normalise(event.text) if event.text else ""
        facts = {"message_id": event.message_id, "text": text, "name": name}
        observe(state, setup.community, event.type, event.member, at, **facts)
    for r in decision.records:
        apply_record(state, setup.community, r.type, r.member, r.amount, r.meta, at)
    return decision


def _message(event: Event, state: BotState, setup: Setup, now: datetime) -> Decision:
    at = now.timestamp()
    # Moderation before commands: "/faq <an ad>" is an ad all the same.
    for handler in (welcome.answer, _moderate, commands.handle, _faq):
        found = handler(event, state, setup, now)
        if found is not None:
            return found
    return Decision(
        setup.community, event.source_id, records=tuple(_message_points(event, state, setup, at))
    )


def exempt(event: Event, setup: Setup) -> bool:
    """Trusted members, operators and members with an exempt platform role."""
    meta = event.meta or {}
    rules = setup.config.moderation
    roles = set(rules.exempt_roles) if rules else set()
    return (
        event.member in setup.config.trusted
        or event.member in setup.operators
        or bool(meta.get("admin"))
        or str(meta.get("role", "")) in roles
    )


# --- moderation ------------------------------------------------------------------------


def _moderate(event: Event, state: BotState, setup: Setup, now: datetime) -> Decision | None:
    rules = setup.config.moderation
    if rules is None or exempt(event, setup):
        return None
    at = now.timestamp()
    mine = state.member(setup.community, event.member)
    text = normalise(event.text)
    posts = state.posts.get(text_key(text), ())
    message = Message(
        text=text,
        new_member=mine.joined is not None and at - mine.joined < rules.new_member_hours * 3600,
        recent=1 + sum(1 for t in mine.recent if at - t < rules.flood_window),
        groups_with_same_text=len(
            {setup.community, *(c for c, t in posts if at - t < rules.repeat_window)}
        ),
    )
    violation = check(message, rules, setup.words)
    if violation is None:
        return None
    strikes = sum(1 for t in mine.strikes if at - t < rules.expire)
    rung = ladder_step(rules, strikes)
    meta: dict[str, Any] = {
        "rule": violation.rule,
        "evidence": violation.evidence,
        "step": rung.action,
        "seconds": rung.duration,
        "strikes": strikes + 1,
        "dry_run": setup.config.dry_run,
        "message_id": event.message_id,
    }
    records = [Record("violation", event.member, text=violation.rule, meta=meta)]
    if setup.config.dry_run:
        return Decision(setup.community, event.source_id, records=tuple(records))
    actions: list[Action] = [Delete(event.message_id)] if rules.delete and event.message_id else []
    more, notice = ladder_actions(
        setup, event.member, name_of(event), rung.action, rung.duration, violation.rule
    )
    records.append(
        Record(
            LADDER_RECORD[rung.action],
            event.member,
            text=violation.rule,
            amount=rung.duration or None,
            meta={"by": "bot"},
        )
    )
    return Decision(
        setup.community, event.source_id, (*actions, *more, Send(notice)), tuple(records)
    )


def ladder_actions(
    setup: Setup, member: str, name: str, action: str, seconds: int, rule: str
) -> tuple[list[Action], str]:
    """The platform actions of one ladder step and the notice that tells the group."""
    lang = setup.language
    if action == "mute":
        return [Mute(member, seconds)], say(
            "muted", lang, name=name, rule=rule, duration=duration(seconds, lang)
        )
    if action == "remove":
        return [Remove(member)], say("removed", lang, name=name)
    if action == "ban":
        return [Ban(member)], say("banned", lang, name=name)
    return [], say("warned", lang, name=name, rule=rule)


# --- FAQ -------------------------------------------------------------------------------


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text[:300]))


def _faq(event: Event, state: BotState, setup: Setup, now: datetime) -> Decision | None:
    config = setup.config.faq
    text = event.text.strip()
    if setup.faq is None or config is None or len(text) < config.min_chars:
        return None
    match = setup.faq.match(text, config.tags)
    asked = is_question(text)
    cause = event.source_id
    if match.entry is not None and match.confidence >= config.threshold:
        last = state.group(setup.community).faq_last.get(match.entry.id)
        replied = last is None or now.timestamp() - last >= config.cooldown
        meta = {"entry": match.entry.id, "confidence": match.confidence, "replied": replied}
        record = Record("faq_answered", event.member, text=text[:200], meta=meta)
        reply = (Send(match.entry.answer, reply_to=event.message_id),) if replied else ()
        return Decision(
            setup.community,
            cause,
            reply,
            (record, *_message_points(event, state, setup, now.timestamp())),
        )
    if not asked:
        return None
    best = match.entry.id if match.entry else ""
    meta = {"best": best, "confidence": match.confidence}
    task = OperatorTask(
        title=f"FAQ: {text[:60]}",
        content=f"{name_of(event)}: {text[:500]}\n(best: {best or '-'}, {match.confidence:.2f})",
        member=event.member,
        owner=setup.owner,
    )
    records = (Record("faq_unanswered", event.member, text=text[:200], meta=meta),)
    return Decision(
        setup.community,
        cause,
        (task,),
        (*records, *_message_points(event, state, setup, now.timestamp())),
    )


# --- points ------------------------------------------------------------------------------


def _message_points(event: Event, state: BotState, setup: Setup, at: float) -> list[Record]:
    points = setup.config.points
    if points is None:
        return []
    out: list[Record] = []
    mine = state.member(setup.community, event.member)
    if points.message and at - mine.last_message_points >= points.message_cooldown:
        out += award(state, setup, event.member, points.message, "message")
    author = state.group(setup.community).authors.get(event.reply_to) if event.reply_to else None
    if points.reply_received and author and author != event.member and author not in setup.me:
        out += award(state, setup, author, points.reply_received, "reply_received")
    return out


# --- time passing ------------------------------------------------------------------------


def _tick(state: BotState, setup: Setup, now: datetime) -> Decision:
    at = now.timestamp()
    actions: list[Action] = []
    records: list[Record] = []
    for (community, member), mine in state.members.items():
        if community == setup.community and mine.muted_until is not None and mine.muted_until <= at:
            key = f"unmute|{community}|{member}|{int(mine.muted_until)}"
            actions.append(Mute(member, 0))
            records.append(Record("unmuted", member, key=key, meta={"by": "ladder"}))
    for member, pending in state.challenges.items():
        if pending.community == setup.community and pending.deadline <= at:
            actions.append(DecideJoin(pending.request_id, member, False, "timeout"))
            records.append(
                Record(
                    "join_declined",
                    member,
                    text="timeout",
                    key=f"request|{pending.request_id}|timeout",
                    meta={"request_id": pending.request_id},
                )
            )
    group = state.group(setup.community)
    if group.raid_until is not None and group.raid_until <= at:
        text = say("raid_welcome", setup.language, count=group.raid_joins, rules=setup.config.rules)
        actions.append(Send(text))
        records.append(
            Record(
                "raid_welcome",
                text=text[:200],
                amount=group.raid_joins,
                key=f"{group.raid_key}|welcome",
            )
        )
    found = commands.leaderboard(state, setup, now)
    if found is not None:
        actions.append(found[0])
        records.append(found[1])
    return Decision(setup.community, f"tick|{int(at)}", tuple(actions), tuple(records))


__all__ = ["decide", "ladder_actions", "step"]
