"""DiscordChatExporter exports: one channel per JSON file (and its CSV variant).

The JSON has ``guild``, ``channel`` and ``messages`` at the top. Messages are decoded
with msgspec into typed structs and become columns in one loop, like Telegram's.

- Member key ``discord:<author id>``; display name = nickname, else name. Bots are
  no members: their messages are ``bot_message`` events with no member (meta
  ``{"bot": "discord:<id>"}``); their joins, leaves and reactions are skipped.
- Community: ``<guild name> #<channel name>``. source_id ``<channel id>:<message id>``;
  reactions ``<channel id>:<message id>:r:<user id>:<emoji id or name>``.
- Types: ``Default``, ``Reply`` and slash/context-menu command replies (``20``, ``23``
  as DiscordChatExporter writes unknown kinds) are messages; ``GuildMemberJoin`` is a
  join of the author; ``RecipientAdd`` a join of the mentioned user invited by the
  author; ``RecipientRemove`` a leave of the mentioned user (removed by the author
  unless it is themself). Pins, threads, calls, renames and other notices are skipped.
- Reactions: each listed user is a reaction event at the message's time (the export
  gives no reaction time); the part of ``count`` without users stays in the message's
  meta ``{"reactions": {emoji: count}}``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import PurePosixPath
from typing import NoReturn

import msgspec
import polars as pl

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key
from shequn.importers.discord.csv_export import CSV_HEADER, looks_like_csv, read_csv
from shequn.importers.discord.timestamps import parse_times
from shequn.importers.source import Source
from shequn.importers.telegram.importer import json_syntax_error, looks_like_telegram

_META = msgspec.json.Encoder(order="sorted")
_KEYS = (re.compile(rb'"guild"\s*:\s*\{'), re.compile(rb'"channel"\s*:\s*\{'))
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_AT = re.compile(r" - at `\$\.?(.*)`$")
EXPORT_HINT = "export the channel with DiscordChatExporter, format JSON (or CSV)"

MESSAGE_KINDS = frozenset(
    {"Default", "Reply", "20", "23", "ChatInputCommand", "ContextMenuCommand"}
)


class User(msgspec.Struct, gc=False):
    id: str = ""
    name: str = ""
    nickname: str | None = None
    is_bot: bool = msgspec.field(default=False, name="isBot")

    @property
    def display(self) -> str:
        return self.nickname or self.name


class Emoji(msgspec.Struct, gc=False):
    id: str | None = None
    name: str = ""


class Reaction(msgspec.Struct, gc=False):
    emoji: Emoji | None = None
    count: int = 0
    users: list[User] = []


class Reference(msgspec.Struct, gc=False):
    message_id: str | None = msgspec.field(default=None, name="messageId")


class Named(msgspec.Struct, gc=False):
    """An attachment or a sticker: only whether there is one matters."""

    id: str | None = None


class Message(msgspec.Struct, gc=False):
    id: str = ""
    type: str = "Default"
    timestamp: str | None = None
    content: str = ""
    author: User | None = None
    attachments: list[Named] = []
    stickers: list[Named] = []
    reactions: list[Reaction] = []
    mentions: list[User] = []
    reference: Reference | None = None


class Guild(msgspec.Struct, gc=False):
    id: str = ""
    name: str = ""


class Channel(msgspec.Struct, gc=False):
    id: str = ""
    name: str = ""
    category: str | None = None


class Export(msgspec.Struct, gc=False):
    guild: Guild | None = None
    channel: Channel | None = None
    messages: list[Message] | None = None


_DECODER = msgspec.json.Decoder(Export)


def looks_like_json(head: bytes) -> bool:
    """True if the start of a file looks like a DiscordChatExporter JSON export."""
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    return (
        head.startswith(b"{")
        and all(key.search(head) for key in _KEYS)
        and bool(_MESSAGES.search(head))
    )


class DiscordImporter:
    name = "discord"
    description = f"DiscordChatExporter export, JSON or CSV ({CSV_HEADER})"

    def sniff(self, source: Source) -> bool:
        return any(self._kind(source, name) for name in source.names())

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        names = source.names()
        if source.is_container:
            names = [name for name in names if self._kind(source, name)]
            if not names:
                raise InputError(
                    "no DiscordChatExporter JSON or CSV file found",
                    path=str(source.path),
                    hint=EXPORT_HINT,
                )
        for name in names:
            where = source.where(name)
            # A file named with --format discord is read even if it does not look right,
            # so that the error says what is wrong with it.
            kind = self._kind(source, name) or PurePosixPath(name).suffix.lower().lstrip(".")
            if kind == "csv":
                yield from read_csv(source.read_bytes(name), name, where, ctx)
            else:
                yield from _read_json(source.read_bytes(name), where, ctx)
            ctx.progress(source.size(name))

    def _kind(self, source: Source, name: str) -> str | None:
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in (".json", ".csv", ""):
            return None
        head = source.head(name)
        if looks_like_json(head):
            return "json"
        return "csv" if looks_like_csv(head) else None


def _read_json(data: bytes, where: str, ctx: ImportContext) -> Iterator[pl.DataFrame]:
    """One channel's JSON export as one frame; clear errors for broken or other JSON."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        export = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        found = _AT.search(str(exc))
        raise InputError(
            "does not match the DiscordChatExporter JSON format: "
            + (str(exc)[: found.start()] if found else str(exc)),
            path=where,
            field=found.group(1) if found else "",
            hint=_shape_hint(data),
        ) from None
    except msgspec.DecodeError as exc:
        raise json_syntax_error(exc, data, where, EXPORT_HINT) from None
    if export.messages is None or export.channel is None:
        raise InputError(
            'no "channel" or no "messages" at the top level: this is not a '
            "DiscordChatExporter JSON export",
            path=where,
            hint=_shape_hint(data),
        )
    guild, channel = export.guild or Guild(), export.channel
    label = f"{guild.name} #{channel.name}" if guild.name else f"#{channel.name}"
    builder = _Builder(
        community=community_key(ctx, "discord", label),
        prefix=channel.id or f"name:{label}",
        where=where,
        data=data,
    )
    frame = builder.build(export.messages, ctx.timezone)
    if frame.height:
        yield frame


class _Builder:
    """One channel's messages to events, column by column."""

    def __init__(self, community: str, prefix: str, where: str, data: bytes) -> None:
        self.community = community
        self.prefix = prefix
        self.where = where
        self.data = data
        self.columns: dict[str, list] = {name: [] for name in _COLUMNS}

    def build(self, messages: list[Message], zone: tzinfo) -> pl.DataFrame:
        for index, message in enumerate(messages):
            author = message.author
            if author is None or not author.id:
                if message.type in MESSAGE_KINDS or message.type.startswith("Recipient"):
                    self._fail(message, index, "no author id", "author.id")
                continue
            if message.timestamp is None:
                self._fail(message, index, "no timestamp", "timestamp")
            if message.type in MESSAGE_KINDS:
                self._message(message, index, author)
            else:
                self._membership(message, index, author)
        frame = pl.DataFrame(self.columns, schema=_COLUMNS)
        ts = parse_times(frame["_when"], zone)
        bad = ts.is_null()
        if bad.any():
            index = int(frame["_index"][int(bad.arg_true()[0])])
            problem = f"timestamp {messages[index].timestamp!r} is not ISO 8601"
            self._fail(messages[index], index, problem, "timestamp")
        return (
            frame.with_columns(ts=ts, community=pl.lit(self.community))
            .drop("_when", "_index")
            .sort("ts", maintain_order=True)
        )

    def _add(self, message: Message, index: int, **values: str | None) -> None:
        """One event of message number `index`, at the message's time."""
        row: dict[str, object] = {**values, "_when": message.timestamp, "_index": index}
        for name, column in self.columns.items():
            column.append(row.get(name))

    def _message(self, m: Message, index: int, author: User) -> None:
        # A bot's message is kept, but no member's (docs/events.md, `bot_message`).
        meta: dict = {"bot": f"discord:{author.id}"} if author.is_bot else {}
        if m.mentions:
            meta["mentions"] = [f"discord:{user.id}" for user in m.mentions]
        if m.attachments or m.stickers:
            meta["media"] = "attachment" if m.attachments else "sticker"
        unattributed = {
            (r.emoji or Emoji()).name: r.count - len(r.users)
            for r in m.reactions
            if r.count > len(r.users)
        }
        if unattributed:
            meta["reactions"] = unattributed
        reply = m.reference.message_id if m.reference and m.type == "Reply" else None
        self._add(
            m,
            index,
            type="bot_message" if author.is_bot else "message",
            member=None if author.is_bot else f"discord:{author.id}",
            member_name=author.display,
            message_id=m.id,
            reply_to=reply,
            text=m.content,
            source_id=f"{self.prefix}:{m.id}",
            meta=_META.encode(meta).decode() if meta else None,
        )
        for reaction in m.reactions:
            for user in reaction.users:
                if not user.is_bot:  # bots are no members
                    self._reaction(m, index, user, reaction.emoji or Emoji())

    def _reaction(self, m: Message, index: int, user: User, emoji: Emoji) -> None:
        meta = {"emoji": emoji.name}
        self._add(
            m,
            index,
            type="reaction",
            member=f"discord:{user.id}",
            member_name=user.display,
            reply_to=m.id,
            source_id=f"{self.prefix}:{m.id}:r:{user.id}:{emoji.id or emoji.name}",
            meta=_META.encode(meta).decode(),
        )

    def _membership(self, m: Message, index: int, author: User) -> None:
        """Joins and leaves; other system notices (pins, threads, calls) are skipped."""
        target = m.mentions[0] if m.mentions else None
        sid = f"{self.prefix}:{m.id}"
        if m.type == "GuildMemberJoin" and not author.is_bot:
            self._add(m, index, **_who(author), type="join", source_id=sid)
        elif m.type == "RecipientAdd" and target is not None and not target.is_bot:
            inviter = {"inviter": f"discord:{author.id}", "inviter_name": author.display}
            self._add(m, index, **_who(target), **inviter, type="join", source_id=sid)
        elif m.type == "RecipientRemove" and not (target or author).is_bot:
            gone = target or author
            removed = {"removed_by": f"discord:{author.id}"} if gone.id != author.id else {}
            encoded = _META.encode(removed).decode() if removed else None
            self._add(m, index, **_who(gone), type="leave", source_id=sid, meta=encoded)

    def _fail(self, m: Message, index: int, problem: str, field: str) -> NoReturn:
        """Raise an InputError naming the message's line and field."""
        found = re.search(rb'"id"\s*:\s*"%s"' % re.escape(m.id.encode()), self.data)
        raise InputError(
            f"message {m.id or '#' + str(index)}: {problem}",
            path=self.where,
            line=self.data.count(b"\n", 0, found.start()) + 1 if found and m.id else None,
            field=f"messages[{index}].{field}",
            hint=EXPORT_HINT,
        )


def _shape_hint(data: bytes) -> str:
    if looks_like_telegram(data[:65536]):
        return "this looks like a Telegram Desktop export: import it with --format telegram"
    return EXPORT_HINT


def _who(user: User) -> dict[str, str]:
    return {"member": f"discord:{user.id}", "member_name": user.display}


_COLUMNS: dict[str, pl.DataType] = {
    "_when": pl.String(),
    "_index": pl.Int64(),
    **{
        name: pl.String()
        for name in (
            "type",
            "member",
            "member_name",
            "channel",
            "inviter",
            "inviter_name",
            "message_id",
            "reply_to",
            "text",
            "source_id",
            "meta",
        )
    },
}

IMPORTER = DiscordImporter()
