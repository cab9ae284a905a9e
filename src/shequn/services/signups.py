"""Sign-ups through a link of the console: the link, its member, the sign-up itself.

A link signs up one member for one activity (`shequn.activities.links`: a token signed
with the secret in `$SHEQUN_LINK_SECRET`). Rather than a public form where anyone could
type anyone's platform id, the operator hands each member their own link (privately,
or the bot does); holding it allows exactly that sign-up. The sign-up is the same
record as `报名` in the group (`shequn.bot.signup`): the canonical `activity_signup`
with the key `activity_signup|NAME|MEMBER`, so a member signed up both ways counts
once and the bot, replaying its events, knows them.
"""

from __future__ import annotations

import os
from typing import Literal

from sqlalchemy import func, select

from shequn.activities import links
from shequn.activities.listing import get
from shequn.activities.model import Activity
from shequn.bot.decision import SOURCE, Record
from shequn.bot.signup import SIGNUP, signup_key
from shequn.clock import Clock, to_micros
from shequn.errors import InputError
from shequn.services.bot import bot_row
from shequn.store import dialect
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace

SECRET_ENV = "SHEQUN_LINK_SECRET"
MIN_SECRET = 16
Status = Literal["open", "signed_up", "already", "closed"]


def secret() -> bytes:
    """The key that signs the links, from the environment.

    Raises:
        InputError: the variable is not set or too short to be a secret.
    """
    value = os.environ.get(SECRET_ENV, "")
    if len(value) < MIN_SECRET:
        raise InputError(
            f"${SECRET_ENV} is not set (or shorter than {MIN_SECRET} characters): "
            "sign-up links are off",
            hint=f"export {SECRET_ENV}=$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))') and restart the console",
        )
    return value.encode()


def link_path(ws: Workspace, activity: str, member: str) -> str:
    """The path of `member`'s sign-up link for `activity` (`/signup/NAME/TOKEN`).

    Raises:
        InputError: no such activity, a member that is not a member key, no secret.
    """
    member = member.strip()
    if ":" not in member or member.startswith(":") or member.endswith(":"):
        raise InputError(
            f"{member!r} is not a member key",
            field="member",
            hint="write the platform and the id, as shequn members shows it: wx:alice",
        )
    found = get(ws, activity)
    return f"/signup/{found.name}/{links.token(secret(), found.name, member)}"


def member_of(ws: Workspace, activity: str, token: str) -> tuple[Activity, str]:
    """The activity and the member a link is for.

    Raises:
        InputError: no such activity, a token not made for it, no secret.
    """
    found = get(ws, activity)
    return found, links.member_of(secret(), found.name, token)


def _key(activity: Activity, member: str) -> str:
    return f"{SIGNUP}|{signup_key(activity.name, member)}"


def status(ws: Workspace, activity: Activity, member: str, clock: Clock) -> Status:
    """Where the member stands: signed up already, the window closed, or open."""
    query = select(events.c.id).where(
        events.c.source == SOURCE, events.c.source_id == _key(activity, member)
    )
    with read_transaction(ws.engine) as conn:
        if conn.scalar(query) is not None:
            return "already"
    return "closed" if clock.now() >= activity.window(ws.settings.zone)[1] else "open"


def sign_up(ws: Workspace, activity: Activity, member: str, clock: Clock) -> Status:
    """Record the member's sign-up (once); what happened."""
    found = status(ws, activity, member, clock)
    if found != "open":
        return found
    record = Record(SIGNUP, member, meta={"activity": activity.name, "via": "link"})
    row = bot_row(
        activity.community, record, signup_key(activity.name, member), to_micros(clock.now())
    )
    with write_transaction(ws.engine) as conn:
        dialect.lock_appends(conn)
        dialect.insert_ignore(conn, events, [row])
    return "signed_up"


def count(ws: Workspace, activity: Activity) -> int:
    """Members signed up for the activity (every source: command, link, import)."""
    query = select(func.count(func.distinct(events.c.member))).where(
        events.c.community == activity.community,
        events.c.type == SIGNUP,
        events.c.content_id == activity.name,
    )
    with read_transaction(ws.engine) as conn:
        return int(conn.scalar(query) or 0)
