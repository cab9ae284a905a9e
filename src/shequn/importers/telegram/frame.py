"""One Telegram chat to a frame of events, built column by column.

Messages are the bulk of an export, so they go through one tight loop that appends
to plain lists (one per column) and become a Polars frame in one step; timestamps,
member keys and ids are then computed as vectorised expressions. Service actions and
reactions are rarer and are collected row by row in `Rows`.

Choices, documented here because they shape the data:

- Member key ``telegram:<from_id>`` (``telegram:user123``). Service actions list
  members by display name only; a name is keyed ``telegram:<from_id>`` when exactly one
  user with an id carried that name in this chat (as a sender or an actor, or as the
  exporting user of a full export), else ``telegram:name:<display>``. Members without a
  name (deleted accounts) are skipped.
- ``create_group``: the creator joins, the listed members join with the creator as
  inviter (the creator picked them). ``invite_members`` of oneself (how Telegram shows
  someone joining a public group) is a join without inviter.
- Reactions: each ``recent`` reactor becomes a reaction event (at the reaction's own
  time when given); the part of ``count`` not covered by ``recent`` stays in the
  message's meta ``{"reactions": {emoji: count}}``.
- source_id ``<chat>:<message id>``; events made from a service message's member list
  add ``:<index in the list>``; reactions ``<chat>:<message id>:r:<from_id>:<emoji>``.
  Messages without an id (hand-made files) get ``<chat>:<content hash>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import NoReturn

import polars as pl

from shequn.errors import InputError
from shequn.importers.base import content_id
from shequn.importers.telegram.model import Chat, Entity, Message
from shequn.importers.telegram.services import (
    ACTIONS,
    META,
    Names,
    Rows,
    member_key,
    service_id,
)

_LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"
# What the message loop collects, in the order of its bound appends.
_MESSAGE_COLUMNS = ("_id", "_unix", "_local", "_fid", "member_name", "text", "_reply", "meta", "_j")
_DATE_HINT = (
    "export the chat again with Telegram Desktop (Export chat history, format JSON): "
    "every message carries date and date_unixtime"
)


@dataclass(frozen=True)
class ChatPlace:
    """How to file one chat's events, and how to point at it in an error.

    Attributes:
        community: the community key of the chat.
        prefix: the source_id prefix (the chat id, or ``name:<chat name>``).
        path: the chat's JSON path in the file, e.g. ``chats.list[2].`` (empty for a
            single-chat export).
        where: the file, as shown in errors.
        timezone: the zone of local ``date`` strings.
        locate: the line of a message id in the file (used on the error path only).
        known: (display name, from_id) of people known outside the chat's messages:
            the exporting user of a full export.
    """

    community: str
    prefix: str
    path: str
    where: str
    timezone: tzinfo
    locate: Callable[[int | None], int | None]
    known: tuple[tuple[str, str], ...] = ()

    def fail(self, message: Message, index: int, problem: str, field: str, hint: str) -> NoReturn:
        raise InputError(
            f"message {message.id if message.id is not None else '#' + str(index)}: {problem}",
            path=self.where,
            line=self.locate(message.id),
            field=f"{self.path}messages[{index}].{field}",
            hint=hint,
        )


def flatten(parts: list[str | Entity]) -> tuple[str, list[str]]:
    """Plain text of a formatted text, and who it mentions (member keys or @names)."""
    pieces: list[str] = []
    mentions: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        pieces.append(part.text)
        if part.type == "mention":
            mentions.append(part.text)
        elif part.type == "mention_name":
            uid = part.user_id
            mentions.append(f"telegram:user{uid}" if uid is not None else part.text)
    return "".join(pieces), mentions


def chat_frame(chat: Chat, place: ChatPlace) -> pl.DataFrame:
    """Every event of one chat, sorted by time, in (a subset of) FRAME_SCHEMA."""
    rows = Rows()
    columns, services = _scan(chat.messages, place, rows)
    if services:
        names = Names(columns["member_name"], columns["_fid"], services, place.known)
        for index, message in services:
            handler = ACTIONS.get(message.action or "")
            if handler is not None:
                handler(message, index, service_id(message, place.prefix), names, rows)
    messages = _message_frame(columns, place)
    others = rows.frame()
    parts = [_finish(part, chat, place) for part in (messages, others) if part.height]
    if not parts:
        return pl.DataFrame()
    frame = pl.concat(parts, how="diagonal_relaxed")
    return frame.sort("ts", maintain_order=True).with_columns(community=pl.lit(place.community))


def _scan(
    messages: list[Message], place: ChatPlace, rows: Rows
) -> tuple[dict[str, list], list[tuple[int, Message]]]:
    """The hot loop: message columns as lists; service messages set aside."""
    columns: dict[str, list] = {name: [] for name in _MESSAGE_COLUMNS}
    # Bound appends: this loop runs once per message of a file of hundreds of MB.
    add_id, add_unix, add_local, add_fid, add_name, add_text, add_reply, add_meta, add_j = (
        column.append for column in columns.values()
    )
    services: list[tuple[int, Message]] = []
    encode = META.encode
    for j, m in enumerate(messages):
        if m.type != "message":
            if m.type == "service":
                services.append((j, m))
            continue  # "unsupported" messages carry nothing
        add_id(m.id)
        unix = m.date_unixtime
        add_unix(unix)
        add_local(m.date if unix is None else None)
        fid = m.from_id
        if fid is not None and fid.__class__ is not str:
            fid = f"user{fid}"  # exports before 2020 wrote the bare number
        add_fid(fid)
        add_name(m.from_)
        add_reply(m.reply_to_message_id)
        add_j(j)
        text = m.text
        meta = None
        if text.__class__ is not str:
            text, mentions = flatten(text)
            if mentions:
                meta = {"mentions": mentions}
        add_text(text)
        if m.media_type or m.photo or m.file or m.forwarded_from or m.reactions:
            meta = _extras(m, j, meta or {}, place, rows)
        add_meta(None if meta is None else encode(meta).decode())
    return columns, services


def _extras(m: Message, index: int, meta: dict, place: ChatPlace, rows: Rows) -> dict | None:
    """Media, forward and reactions of a message: meta, plus a reaction event per reactor."""
    media = m.media_type or ("photo" if m.photo else "file" if m.file else None)
    if media:
        meta["media"] = media
    if m.forwarded_from:
        meta["forwarded_from"] = m.forwarded_from
    unattributed: dict[str, int] = {}
    for reaction in m.reactions or ():
        emoji = reaction.emoji or (
            f"custom:{reaction.document_id}" if reaction.document_id else reaction.type
        )
        known = 0
        for recent in reaction.recent if m.id is not None else ():
            who = member_key(recent.from_id, recent.from_)
            if who is None:
                continue
            known += 1
            rows.add(
                m,
                index,
                when=recent.date,
                type="reaction",
                member=who,
                member_name=recent.from_,
                reply_to=str(m.id),
                source_id=f"{place.prefix}:{m.id}:r:{who.removeprefix('telegram:')}:{emoji}",
                meta=META.encode({"emoji": emoji}).decode(),
            )
        if reaction.count > known:
            unattributed[emoji] = unattributed.get(emoji, 0) + reaction.count - known
    if unattributed:
        meta["reactions"] = unattributed
    return meta or None


def _message_frame(columns: dict[str, list], place: ChatPlace) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "_id": pl.Series(columns["_id"], dtype=pl.Int64),
            "_unix": pl.Series(columns["_unix"], dtype=pl.String, strict=False),
            "_local": pl.Series(columns["_local"], dtype=pl.String),
            "_fid": pl.Series(columns["_fid"], dtype=pl.String),
            "member_name": pl.Series(columns["member_name"], dtype=pl.String),
            "text": pl.Series(columns["text"], dtype=pl.String),
            "_reply": pl.Series(columns["_reply"], dtype=pl.Int64),
            "meta": pl.Series(columns["meta"], dtype=pl.String),
            "_j": pl.Series(columns["_j"], dtype=pl.Int64),
        }
    )
    message_id = pl.col("_id").cast(pl.String)
    frame = frame.with_columns(
        type=pl.lit("message"),
        member=pl.when(pl.col("_fid").is_not_null())
        .then(pl.lit("telegram:") + pl.col("_fid"))
        .when(pl.col("member_name") != "")
        .then(pl.lit("telegram:name:") + pl.col("member_name")),
        message_id=message_id,
        reply_to=pl.col("_reply").cast(pl.String),
        source_id=pl.lit(f"{place.prefix}:") + message_id,
    )
    return frame.drop("_id", "_fid", "_reply")


def _finish(frame: pl.DataFrame, chat: Chat, place: ChatPlace) -> pl.DataFrame:
    """Check members, compute UTC timestamps and missing ids; drop helper columns."""
    missing = frame["member"].is_null()
    if missing.any():
        index = int(frame["_j"][int(missing.arg_true()[0])])
        place.fail(
            chat.messages[index],
            index,
            "no sender",
            "from_id",
            "each message needs from_id (or at least from); export the chat again",
        )
    frame = frame.with_columns(ts=_timestamps(frame, chat, place))
    if frame["source_id"].null_count():
        frame = frame.with_columns(source_id=_content_ids(frame, place))
    return frame.drop("_unix", "_local", "_j")


def _timestamps(frame: pl.DataFrame, chat: Chat, place: ChatPlace) -> pl.Series:
    """``date_unixtime`` as UTC, else the local ``date`` read in the import's time zone."""
    unix = frame["_unix"]
    seconds = unix.str.strip_chars().cast(pl.Int64, strict=False)
    bad = seconds.is_null() & unix.is_not_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        index = int(frame["_j"][row])
        problem = f"date_unixtime {unix[row]!r} is not a number"
        place.fail(chat.messages[index], index, problem, "date_unixtime", _DATE_HINT)
    ts = pl.from_epoch(seconds, time_unit="s").dt.replace_time_zone("UTC")
    need = ts.is_null()
    if not need.any():
        return ts.alias("ts")
    local = frame["_local"]
    nowhere = need & local.is_null()
    if nowhere.any():
        index = int(frame["_j"][int(nowhere.arg_true()[0])])
        place.fail(chat.messages[index], index, "no date", "date_unixtime", _DATE_HINT)
    positions = need.arg_true()
    parsed = _local_times(local.gather(positions), place.timezone)
    unreadable = parsed.is_null()
    if unreadable.any():
        row = int(positions[int(unreadable.arg_true()[0])])
        index = int(frame["_j"][row])
        place.fail(
            chat.messages[index],
            index,
            f"date {local[row]!r} is not an ISO date and time",
            "date",
            "dates look like 2024-05-01T21:30:00; " + _DATE_HINT,
        )
    return ts.scatter(positions, parsed).alias("ts")


def _local_times(values: pl.Series, zone: tzinfo) -> pl.Series:
    """Local times without offset to UTC; null where unreadable."""
    key = getattr(zone, "key", None)
    if key:
        # Vectorised for named zones; times that do not exist (DST gap) fall to Python.
        parsed = (
            values.str.to_datetime(_LOCAL_FORMAT, strict=False)
            .dt.replace_time_zone(key, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
        if not (parsed.is_null() & values.is_not_null()).any():
            return parsed
    fixed: list[datetime | None] = []
    for raw in values.to_list():
        try:
            local = datetime.fromisoformat(raw.strip())
        except (AttributeError, ValueError):
            fixed.append(None)
            continue
        fixed.append((local if local.tzinfo else local.replace(tzinfo=zone)).astimezone(UTC))
    return pl.Series(fixed, dtype=pl.Datetime("us", "UTC"))


def _content_ids(frame: pl.DataFrame, place: ChatPlace) -> pl.Series:
    """Ids from content for messages without one; repeats are told apart by occurrence."""
    seen: Counter[tuple] = Counter()
    ids: list[str] = []
    for sid, ts, member, text in zip(
        frame["source_id"], frame["ts"], frame["member"], frame["text"], strict=True
    ):
        if sid is None:
            key = (ts.isoformat(), member, text)
            sid = f"{place.prefix}:{content_id(*key, seen[key])}"
            seen[key] += 1
        ids.append(sid)
    return pl.Series("source_id", ids, dtype=pl.String)
