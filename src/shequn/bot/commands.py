"""Commands in Chinese and English, declared once each (`COMMANDS`).

`/checkin` and `签到` are one command; a slash command may carry a bot name
(`/checkin@shequn_bot`, Telegram's form). Operator commands (`/warn`, `/mute`,
`/unmute`, `/ban`, `/pardon`) need an operator: a member key the settings name
(`bot.operators`, an operator's `contact`) or a platform admin (the adapter marks the
event's `meta.admin` or `meta.role`). The member acted on is named after the command
or is the author of the message replied to.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shequn.bot import signup
from shequn.bot.decision import Action, Decision, Mute, OperatorTask, Record, Send
from shequn.bot.points import award, checkin_day, week_of
from shequn.bot.setup import Setup
from shequn.bot.state import BotState
from shequn.bot.texts import duration, say
from shequn.bot.welcome import name_of
from shequn.domain.bot import ADMIN_ROLES, seconds_of
from shequn.domain.events import Event

DEFAULT_MUTE = 600


@dataclass(frozen=True)
class Call:
    """One command as typed, with what it needs to answer."""

    event: Event
    state: BotState
    setup: Setup
    now: datetime
    args: tuple[str, ...]

    @property
    def lang(self) -> str:
        return self.setup.language

    @property
    def name(self) -> str:
        return name_of(self.event)

    def reply(self, text: str, *records: Record, actions: tuple[Action, ...] = ()) -> Decision:
        send = Send(text, reply_to=self.event.message_id)
        return Decision(self.setup.community, self.event.source_id, (*actions, send), records)

    def target(self) -> str:
        """The member acted on: the first argument as a member key, or the replied-to author."""
        if self.args:
            who = self.args[0].lstrip("@") if self.args[0].startswith("@@") else self.args[0]
            platform = self.event.member.split(":", 1)[0]
            return who if who.startswith(f"{platform}:") else f"{platform}:{who}"
        if self.event.reply_to:
            return self.state.group(self.setup.community).authors.get(self.event.reply_to, "")
        return ""


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]  # the first is the English one shown in /help
    run: Callable[[Call], Decision]
    operator: bool = False


def _help(call: Call) -> Decision:
    text = say("help", call.lang)
    if _is_operator(call):
        text += "\n" + say("operator_help", call.lang)
    return call.reply(text)


def _rules(call: Call) -> Decision:
    rules = call.setup.config.rules
    return call.reply(say("rules", call.lang, rules=rules) if rules else say("no_rules", call.lang))


def _faq(call: Call) -> Decision:
    index = call.setup.faq
    if index is None:
        return call.reply(say("faq_topics", call.lang, topics="-"))
    if call.args:
        match = index.match(" ".join(call.args))
        threshold = call.setup.config.faq.threshold if call.setup.config.faq else 1.0
        if match.entry and match.confidence >= threshold:
            meta = {"entry": match.entry.id, "confidence": match.confidence, "replied": True}
            question = " ".join(call.args)[:200]
            return call.reply(
                match.entry.answer,
                Record("faq_answered", call.event.member, text=question, meta=meta),
            )
        return call.reply(say("faq_none", call.lang))
    topics = " · ".join(e.questions[0] for e in index.entries[:10])
    return call.reply(say("faq_topics", call.lang, topics=topics))


def _checkin(call: Call) -> Decision:
    points = call.setup.config.points
    if points is None:
        return Decision(call.setup.community, call.event.source_id)
    mine = call.state.member(call.setup.community, call.event.member)
    today = checkin_day(call.now, call.setup.zone)
    if mine.checkin_day == today:
        return call.reply(say("already", call.lang, name=call.name))
    streak = mine.streak + 1 if mine.checkin_day == today - 1 else 1
    earned = points.checkin + min(streak - 1, points.streak_cap) * points.streak_bonus
    total = call.state.totals.get(call.event.member, 0) + earned
    records = (
        Record("checked_in", call.event.member, amount=streak, meta={"day": today}),
        *award(call.state, call.setup, call.event.member, earned, "checkin"),
    )
    text = say("checked_in", call.lang, name=call.name, streak=streak, points=earned, total=total)
    return call.reply(text, *records)


def _points(call: Call) -> Decision:
    total = call.state.totals.get(call.event.member, 0)
    tier = call.setup.tier_at(total)
    level = say("level", call.lang, level=tier) if tier else ""
    return call.reply(say("points", call.lang, name=call.name, total=total, level=level))


def ranking(state: BotState, setup: Setup, scores: dict[str, int], size: int) -> str:
    """Lines "1. name  120" of the best `size` scores."""
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    names = {m: state.member(setup.community, m).name or m.split(":", 1)[-1] for m, _ in best}
    return "\n".join(f"{i}. {names[m]}  {p}" for i, (m, p) in enumerate(best, 1))


def _rank(call: Call) -> Decision:
    scores = {
        m: s.points
        for (c, m), s in call.state.members.items()
        if c == call.setup.community and s.points
    }
    if not scores:
        return call.reply(say("empty_rank", call.lang))
    return call.reply(say("rank", call.lang, lines=ranking(call.state, call.setup, scores, 10)))


def _appeal(call: Call) -> Decision:
    reason = " ".join(call.args)[:500]
    task = OperatorTask(
        title=f"Appeal / 申诉: {call.name}",
        content=f"{call.event.member}: {reason or '-'}\n"
        "decide: /pardon MEMBER in the group (or mark this task done to refuse)",
        member=call.event.member,
        owner=call.setup.owner,
    )
    record = Record("appeal_filed", call.event.member, text=reason)
    return call.reply(say("appeal", call.lang), record, actions=(task,))


def _operator_step(action: str) -> Callable[[Call], Decision]:
    def run(call: Call) -> Decision:
        from shequn.bot.core import ladder_actions

        target = call.target()
        if not target:
            return call.reply(say("who", call.lang, command=f"/{action}"))
        seconds = 0
        if action == "mute":
            seconds = (
                seconds_of(call.args[1])
                if len(call.args) > 1 and _duration(call.args[1])
                else DEFAULT_MUTE
            )
        name = call.state.member(call.setup.community, target).name or target.split(":", 1)[-1]
        actions, notice = ladder_actions(call.setup, target, name, action, seconds, "operator")
        meta = {"by": call.event.member}
        kind = {"warn": "warned", "mute": "muted", "ban": "banned"}[action]
        records = [Record(kind, target, text="operator", amount=seconds or None, meta=meta)]
        if action == "warn":
            strike = {
                "rule": "operator",
                "evidence": "",
                "step": "warn",
                "dry_run": False,
                "by": call.event.member,
            }
            records.insert(0, Record("violation", target, text="operator", meta=strike))
        return call.reply(notice, *records, actions=tuple(actions))

    return run


def _duration(text: str) -> bool:
    try:
        seconds_of(text)
    except ValueError:
        return False
    return True


def _unmute(call: Call) -> Decision:
    return _release(call, pardon=False)


def _pardon(call: Call) -> Decision:
    return _release(call, pardon=True)


def _release(call: Call, *, pardon: bool) -> Decision:
    target = call.target()
    command = "/pardon" if pardon else "/unmute"
    if not target:
        return call.reply(say("who", call.lang, command=command))
    mine = call.state.member(call.setup.community, target)
    name = mine.name or target.split(":", 1)[-1]
    meta = {"by": call.event.member}
    records = [Record("pardoned", target, meta=meta)] if pardon else []
    actions: tuple[Action, ...] = ()
    if mine.muted_until is not None or not pardon:
        actions = (Mute(target, 0),)
        records.append(Record("unmuted", target, meta=meta))
    text = say("pardoned" if pardon else "unmuted", call.lang, name=name)
    return call.reply(text, *records, actions=actions)


COMMANDS: tuple[Command, ...] = (
    Command(("/help", "帮助", "/帮助"), _help),
    Command(("/rules", "群规", "/群规"), _rules),
    Command(("/faq", "/问答"), _faq),
    Command(("/checkin", "签到", "/签到", "打卡"), _checkin),
    Command(("/points", "积分", "/积分"), _points),
    Command(("/rank", "排行", "/排行", "排行榜"), _rank),
    Command(("/appeal", "申诉", "/申诉"), _appeal),
    Command(("/signup", "报名", "/报名"), signup.run),
    Command(("/warn", "/警告"), _operator_step("warn"), operator=True),
    Command(("/mute", "/禁言"), _operator_step("mute"), operator=True),
    Command(("/unmute", "/解除禁言"), _unmute, operator=True),
    Command(("/ban", "/封禁"), _operator_step("ban"), operator=True),
    Command(("/pardon", "/赦免"), _pardon, operator=True),
)
_BY_NAME = {name: command for command in COMMANDS for name in command.names}
MAX_COMMAND = 2000  # a command is short: longer messages are never parsed as one


def parse(text: str) -> tuple[Command, tuple[str, ...]] | None:
    """The command a message is, and its arguments; None for ordinary messages."""
    if len(text) > MAX_COMMAND:
        return None
    words = unicodedata.normalize("NFKC", text).strip().split()
    if not words:
        return None
    head = words[0].casefold().split("@", 1)[0] if words[0].startswith("/") else words[0]
    command = _BY_NAME.get(head)
    return (command, tuple(words[1:])) if command else None


def _is_operator(call: Call) -> bool:
    meta = call.event.meta or {}
    return (
        call.event.member in call.setup.operators
        or bool(meta.get("admin"))
        or str(meta.get("role", "")) in ADMIN_ROLES
    )


def handle(event: Event, state: BotState, setup: Setup, now: datetime) -> Decision | None:
    """The command's decision, or None when the message is no command."""
    found = parse(event.text)
    if found is None:
        return None
    command, args = found
    call = Call(event, state, setup, now, args)
    if command.operator and not _is_operator(call):
        return call.reply(say("not_operator", call.lang))
    return command.run(call)


def leaderboard(state: BotState, setup: Setup, now: datetime) -> tuple[Send, Record] | None:
    """The weekly leaderboard post, when its local weekday and hour have come this week."""
    points = setup.config.points
    if points is None:
        return None
    local = now.astimezone(setup.zone)
    week = week_of(now, setup.zone)
    group = state.group(setup.community)
    if local.weekday() != points.leaderboard_weekday or local.hour < points.leaderboard_hour:
        return None
    if group.leaderboard_week == week or not group.week_points:
        return None
    lines = ranking(state, setup, group.week_points, points.leaderboard_size)
    text = say("leaderboard", setup.language, lines=lines)
    record = Record(
        "leaderboard_posted",
        text=text[:500],
        key=f"leaderboard|{setup.community}|{week}",
        meta={"week": week},
    )
    return Send(text), record


__all__ = ["COMMANDS", "duration", "handle", "leaderboard", "parse"]
