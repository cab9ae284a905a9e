"""Slack workspace export: a zip or folder of ``channels.json``, ``users.json`` and one
``<channel>/YYYY-MM-DD.json`` list of messages per channel and day.

Each channel (public, private from ``groups.json``, group DM from ``mpims.json``) is its
own community. Slack's ``ts`` is both the time and the message id within a channel, so
ids are ``<channel id>:<ts>`` and stay the same in every later export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

import msgspec

from shequn.domain.events import Event
from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key
from shequn.importers.source import Source

_LISTS = ("channels.json", "groups.json", "mpims.json")
_DAY_FILE = re.compile(r"^(?P<folder>[^/]+)/\d{4}-\d{2}-\d{2}\.json$")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_TS = re.compile(r"^(\d{1,11})(?:\.(\d{1,6}))?$")  # 11 digits: until the year 5138

_JOINS = frozenset({"channel_join", "group_join"})
_LEAVES = frozenset({"channel_leave", "group_leave"})
# Subtypes that are someone speaking; every other subtype (topic, purpose, rename,
# pins, archive, huddles...) is channel housekeeping and is skipped.
_SPOKEN = frozenset(
    {"", "bot_message", "file_share", "thread_broadcast", "reply_broadcast", "me_message"}
)
_BOT_SUBTYPES = frozenset({"bot_message", "slackbot_response"})
_SPOKEN |= _BOT_SUBTYPES


@dataclass(frozen=True)
class _Channel:
    id: str
    name: str


@dataclass(frozen=True)
class _Day:
    """What the messages of one day file share."""

    channel: _Channel
    community: str
    users: Mapping[str, dict[str, Any]]
    where: str


def _root(names: list[str]) -> str | None:
    """The folder ("" or "x/") holding channels.json/users.json, at most one level down."""
    roots = sorted(
        (n.count("/"), n[: -len(PurePosixPath(n).name)])
        for n in names
        if PurePosixPath(n).name in ("channels.json", "users.json") and n.count("/") <= 1
    )
    return roots[0][1] if roots else None


def _load_json(source: Source, name: str) -> Any:
    data = source.read_bytes(name).removeprefix(b"\xef\xbb\xbf")
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        found = re.search(r"\(byte (\d+)\)", str(exc))
        offset = int(found.group(1)) if found else len(data)
        raise InputError(
            f"not valid JSON ({exc})",
            path=source.where(name),
            line=data.count(b"\n", 0, offset) + 1,
            hint="the file is damaged: export the workspace again, or repair the JSON there",
        ) from None


def _load_list(source: Source, name: str) -> list[Any]:
    data = _load_json(source, name)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(
            "expected a JSON list of objects",
            path=source.where(name),
            hint="this is not a file of a Slack export; export the workspace again",
        )
    return data


def _user_name(user: Mapping[str, Any]) -> str:
    profile = user.get("profile") or {}
    for value in (
        profile.get("display_name"),
        user.get("real_name"),
        profile.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def parse_ts(raw: object, where: str, field: str) -> datetime:
    """Slack's ``"1700000000.000200"`` (epoch seconds, microseconds) as a UTC datetime."""
    found = _TS.match(raw) if isinstance(raw, str) else None
    if found is None:
        raise InputError(
            f"timestamp {raw!r} is not Slack's epoch seconds",
            path=where,
            field=field,
            hint='a Slack ts looks like "1700000000.000200"; export the workspace again',
        )
    micros = int((found.group(2) or "0").ljust(6, "0"))
    return datetime.fromtimestamp(int(found.group(1)), UTC) + timedelta(microseconds=micros)


class SlackImporter:
    name = "slack"
    description = "Slack workspace export (zip or folder with channels.json, users.json)"

    def sniff(self, source: Source) -> bool:
        return source.is_container and _root(source.names()) is not None

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        names = source.names()
        root = _root(names)
        if root is None:
            raise InputError(
                "no channels.json or users.json: this is not a Slack export",
                path=str(source.path),
                hint="import the zip Slack's 'Export data' gives you, or the folder it unzips to",
            )
        users = self._users(source, root, names, ctx)
        channels = self._channels(source, root, names, ctx)
        days: dict[str, list[str]] = {}
        private = self._direct_messages(source, root, names)
        for name in names:
            found = _DAY_FILE.match(name[len(root) :]) if name.startswith(root) else None
            if found and found.group("folder") not in private:
                days.setdefault(found.group("folder"), []).append(name)
        if ctx.community and len(days) > 1:
            listed = ", ".join("#" + folder for folder in list(days)[:5])
            listed += ", ..." if len(days) > 5 else ""
            raise InputError(
                f"this export holds {len(days)} channels ({listed}); --community would "
                "merge them into one community",
                path=str(source.path),
                field="--community",
                hint="omit --community so each channel becomes its own community, "
                "or export a single channel",
            )
        for folder, files in days.items():
            channel = channels.get(folder) or _Channel(id=folder, name=folder)
            community = community_key(ctx, "slack", "#" + channel.name)
            for name in files:
                day = _Day(channel, community, users, source.where(name))
                for index, message in enumerate(_load_list(source, name)):
                    yield from _message_events(message, index, day)
                ctx.progress(source.size(name))

    def _users(
        self, source: Source, root: str, names: list[str], ctx: ImportContext
    ) -> dict[str, dict[str, Any]]:
        # Without users.json the import still works: members keep their ids, and names
        # come from the user_profile some messages carry.
        name = root + "users.json"
        if name not in names:
            return {}
        users = {u["id"]: u for u in _load_list(source, name) if isinstance(u.get("id"), str)}
        ctx.progress(source.size(name))
        return users

    def _direct_messages(self, source: Source, root: str, names: list[str]) -> set[str]:
        """Folders of one-to-one DMs (named by their id in dms.json): not communities."""
        name = root + "dms.json"
        if name not in names:
            return set()
        return {e["id"] for e in _load_list(source, name) if isinstance(e.get("id"), str)}

    def _channels(
        self, source: Source, root: str, names: list[str], ctx: ImportContext
    ) -> dict[str, _Channel]:
        """Channels by the folder their day files are in (the channel's name)."""
        found: dict[str, _Channel] = {}
        for list_name in _LISTS:
            name = root + list_name
            if name not in names:
                continue
            for entry in _load_list(source, name):
                cid, cname = entry.get("id"), entry.get("name")
                if isinstance(cid, str) and isinstance(cname, str):
                    found[cname] = _Channel(cid, cname)
            ctx.progress(source.size(name))
        return found


def _message_events(message: dict[str, Any], index: int, day: _Day) -> Iterator[Event]:
    """The events of one message of a day file: nothing, a join/leave, or a message
    followed by its reactions."""
    if not isinstance(message, dict) or message.get("type", "message") != "message":
        return
    ts_raw = message.get("ts")
    ts = parse_ts(ts_raw, day.where, f"[{index}].ts")
    subtype = message.get("subtype") or ""
    user = message.get("user") if isinstance(message.get("user"), str) else ""
    sid = f"{day.channel.id}:{ts_raw}"
    if subtype in _JOINS or subtype in _LEAVES:
        if not user or day.users.get(user, {}).get("is_bot"):
            return  # bots come and go, but are not members
        yield _membership(message, subtype in _JOINS, user, ts, sid, day)
        return
    if subtype not in _SPOKEN:
        return
    author = user or message.get("bot_id") or ""
    if not isinstance(author, str) or not author:
        return  # nobody to attribute it to (e.g. a deleted parent's tombstone)
    bot = _is_bot(message, subtype, author, day)
    meta = _message_meta(message, author, day)
    if bot:
        meta["bot"] = f"slack:{author}"  # who posted it; bots are not members
    yield Event(
        ts=ts,
        community=day.community,
        type="bot_message" if bot else "message",
        member="" if bot else f"slack:{author}",
        message_id=ts_raw,
        reply_to=_thread_parent(message, ts_raw),
        text=_text(message),
        source_id=sid,
        meta=meta,
    )
    yield from _reactions(message, index, ts, ts_raw, day)


def _is_bot(message: Mapping[str, Any], subtype: str, author: str, day: _Day) -> bool:
    """A bot or integration: Slack's bot subtypes, a ``bot_id``, or a bot user."""
    return (
        subtype in _BOT_SUBTYPES
        or bool(message.get("bot_id"))
        or bool(day.users.get(author, {}).get("is_bot"))
    )


def _membership(
    message: dict[str, Any], joined: bool, user: str, ts: datetime, sid: str, day: _Day
) -> Event:
    meta: dict[str, Any] = {"name": _name_of(user, message, day)}
    inviter = message.get("inviter") if joined else None
    if isinstance(inviter, str) and inviter:
        meta["inviter_name"] = _name_of(inviter, {}, day)
    return Event(
        ts=ts,
        community=day.community,
        type="join" if joined else "leave",
        member=f"slack:{user}",
        inviter=f"slack:{inviter}" if isinstance(inviter, str) and inviter else "",
        source_id=sid,
        meta=meta,
    )


def _text(message: Mapping[str, Any]) -> str:
    """The text, else the attachments' fallback texts (integrations often post only those)."""
    text = message.get("text")
    if isinstance(text, str) and text:
        return text
    attachments = message.get("attachments")
    if not isinstance(attachments, list):
        return ""
    fallbacks = (a.get("fallback") for a in attachments if isinstance(a, dict))
    return "\n".join(f for f in fallbacks if isinstance(f, str) and f)


def _thread_parent(message: dict[str, Any], ts_raw: str) -> str:
    thread_ts = message.get("thread_ts")
    return thread_ts if isinstance(thread_ts, str) and thread_ts != ts_raw else ""


def _name_of(user: str, message: Mapping[str, Any], day: _Day) -> str:
    if user in day.users:
        return _user_name(day.users[user])
    profile = message.get("user_profile")
    return _user_name({"profile": profile, **profile}) if isinstance(profile, dict) else ""


def _message_meta(message: dict[str, Any], author: str, day: _Day) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    bot_profile = message.get("bot_profile") or {}
    name = _name_of(author, message, day) or message.get("username") or bot_profile.get("name")
    if name:
        meta["name"] = name
    text = _text(message)
    mentions = list(dict.fromkeys(f"slack:{uid}" for uid in _MENTION.findall(text)))
    if mentions:
        meta["mentions"] = mentions
    files = message.get("files")
    if isinstance(files, list) and files:
        first = files[0] if isinstance(files[0], dict) else {}
        kind = str(first.get("mimetype") or "").split("/")[0]
        meta["media"] = kind if kind in ("image", "video", "audio") else "file"
    if isinstance(message.get("reply_count"), int) and message["reply_count"]:
        meta["reply_count"] = message["reply_count"]
    unlisted = _unlisted_reactions(message)
    if unlisted:
        meta["reactions"] = unlisted
    return meta


def _unlisted_reactions(message: dict[str, Any]) -> dict[str, int]:
    """Reactions counted beyond the users Slack lists (it truncates long lists): kept as
    counts on the message, so reaction events plus these counts add up to Slack's."""
    unlisted: dict[str, int] = {}
    for reaction in message.get("reactions") or []:
        if not isinstance(reaction, dict) or not isinstance(reaction.get("count"), int):
            continue
        listed = len(set(u for u in reaction.get("users") or [] if isinstance(u, str)))
        if reaction["count"] > listed and isinstance(reaction.get("name"), str):
            unlisted[reaction["name"]] = reaction["count"] - listed
    return unlisted


def _reactions(
    message: dict[str, Any], index: int, ts: datetime, ts_raw: str, day: _Day
) -> Iterator[Event]:
    """One reaction event per listed user. Slack gives no time for a reaction, so it
    carries its message's time; users beyond the listed ones are never invented."""
    reactions = message.get("reactions") or []
    if not isinstance(reactions, list):
        raise InputError(
            "reactions is not a list",
            path=day.where,
            field=f"[{index}].reactions",
            hint="the file is damaged: export the workspace again",
        )
    for reaction in reactions:
        emoji = reaction.get("name") if isinstance(reaction, dict) else None
        if not isinstance(emoji, str):
            raise InputError(
                "a reaction without a name",
                path=day.where,
                field=f"[{index}].reactions",
                hint='each reaction is {"name": ..., "users": [...], "count": ...}',
            )
        users = reaction.get("users") or []
        for user in dict.fromkeys(u for u in users if isinstance(u, str)):
            if day.users.get(user, {}).get("is_bot"):
                continue  # a bot's reaction is no member's activity
            yield Event(
                ts=ts,
                community=day.community,
                type="reaction",
                member=f"slack:{user}",
                reply_to=ts_raw,
                source_id=f"{day.channel.id}:{ts_raw}:r:{user}:{emoji}",
                meta={"emoji": emoji, "name": _name_of(user, {}, day)},
            )


IMPORTER = SlackImporter()
