"""Sign-up by bot command: `报名` / `/signup` [activity name or title].

The activities of a community are declared in `activities/*.yaml` (`shequn.activities`);
the bot's setup carries those of its community. Sign-ups are open until an activity's
end. The command records the canonical `activity_signup` event (the activity's name in
`content_id`) with one key per activity and member, `activity_signup|NAME|MEMBER`, so a
member signs up once however often they type it; the state remembers who signed up so
the reply says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shequn.activities.model import Activity
from shequn.bot.decision import Decision, Record
from shequn.bot.texts import say

if TYPE_CHECKING:
    from shequn.bot.commands import Call

SIGNUP = "activity_signup"


def signup_key(activity: str, member: str) -> str:
    """The one key of a member's sign-up for an activity (bot and console alike)."""
    return f"{activity}|{member}"


def _ends(activity: Activity, call: Call) -> tuple[datetime, datetime]:
    return activity.window(call.setup.zone)


def _chosen(call: Call) -> Activity | str:
    """The activity the command names (or the only open one), or the reply explaining why not."""
    mine = call.setup.activities
    open_ = [a for a in mine if call.now < _ends(a, call)[1]]
    names = "、".join(f"{a.title}（{a.name}）" for a in open_) or "-"
    if call.args:
        wanted = " ".join(call.args).casefold()
        found = [a for a in mine if wanted in (a.name.casefold(), a.title.casefold())]
        if not found:
            return say("signup_unknown", call.lang, wanted=" ".join(call.args), names=names)
        return found[0]
    if not open_:
        return say("signup_none", call.lang)
    if len(open_) > 1:
        return say("signup_which", call.lang, names=names)
    return open_[0]


def run(call: Call) -> Decision:
    """Sign the member up for the activity named (or the community's only open one)."""
    chosen = _chosen(call)
    if isinstance(chosen, str):
        return call.reply(chosen)
    start, end = (t.astimezone(call.setup.zone) for t in _ends(chosen, call))
    if call.now >= end:
        return call.reply(say("signup_closed", call.lang, title=chosen.title))
    member = call.event.member
    when = start.strftime("%m-%d %H:%M")
    if (chosen.name, member) in call.state.signups:
        return call.reply(say("signup_already", call.lang, name=call.name, title=chosen.title))
    record = Record(
        SIGNUP,
        member,
        key=signup_key(chosen.name, member),
        meta={"activity": chosen.name, "via": "bot"},
    )
    text = say("signed_up", call.lang, name=call.name, title=chosen.title, start=when)
    return call.reply(text, record)
