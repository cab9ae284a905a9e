"""Telegram Desktop's JSON export (``result.json``): one chat, or a whole account.

A single-chat export has ``name``, ``type``, ``id`` and ``messages`` at the top level;
a full export has ``chats.list`` and ``left_chats.list`` of such chats. The file is
decoded with msgspec into typed structs (see telegram.model); in a full export each
chat stays raw until its turn, so only one chat's messages are in memory as objects
at a time. telegram.frame turns a chat into events column by column.

In a full export only group chats are imported (private groups and supergroups,
public supergroups, and chats whose type is not given); personal chats, bots, saved
messages and channels are skipped and logged.
"""

from __future__ import annotations

import codecs
import gc
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

import msgspec

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key
from shequn.importers.source import Source
from shequn.importers.telegram.frame import ChatPlace, chat_frame
from shequn.importers.telegram.model import (
    CHAT_DECODER,
    EXPORT_DECODER,
    HEAD_DECODER,
    Chat,
    ChatHead,
    Export,
)

log = logging.getLogger(__name__)

GROUP_TYPES = frozenset({"private_group", "private_supergroup", "public_supergroup"})

# Keys only a Telegram export has near its top; `"type": "message"` alone is not
# enough (the canonical JSON Lines has it), so it also needs a `messages` array.
_TELEGRAM_KEYS = re.compile(
    rb'"(?:personal_information|frequent_contacts|date_unixtime|left_chats)"\s*:'
    rb'|"chats"\s*:\s*\{'
)
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_MESSAGE_TYPE = re.compile(rb'"type"\s*:\s*"(?:message|service)"')
_DISCORD = re.compile(rb'"guild"\s*:\s*\{')
# The canonical JSON Lines starts each line with `{"ts": ...`; no Telegram export does.
_JSON_LINES = re.compile(rb'^\{\s*"ts"\s*:')
_BYTE = re.compile(r"\(byte (\d+)\)")
_AT = re.compile(r" - at `\$\.?(.*)`$")

EXPORT_HINT = (
    "export with Telegram Desktop: chat menu ⋮ → Export chat history, or Settings → "
    'Advanced → Export Telegram data, with the format "Machine-readable JSON"'
)


@dataclass(frozen=True)
class _Entry:
    """A chat of the file: where it is, its head, and its raw bytes (full exports)."""

    path: str
    head: ChatHead
    raw: msgspec.Raw | None = None
    chat: Chat | None = None


def looks_like_telegram(head: bytes) -> bool:
    """True if the start of a file looks like a Telegram Desktop result.json."""
    head = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not head.startswith(b"{") or _DISCORD.search(head) or _JSON_LINES.match(head):
        return False
    if _TELEGRAM_KEYS.search(head):
        return True
    return bool(_MESSAGES.search(head) and _MESSAGE_TYPE.search(head))


class TelegramImporter:
    name = "telegram"
    description = "Telegram Desktop export (result.json, one chat or the whole account)"

    def sniff(self, source: Source) -> bool:
        return any(looks_like_telegram(source.head(name)) for name in _candidates(source))

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        names = _candidates(source)
        if source.is_container:
            names = [name for name in names if looks_like_telegram(source.head(name))]
            if not names:
                raise InputError(
                    "no Telegram Desktop result.json found",
                    path=str(source.path),
                    hint=EXPORT_HINT,
                )
        for name in names:
            yield from self._read_file(source, name, ctx)

    def _read_file(self, source: Source, name: str, ctx: ImportContext) -> Iterator[Item]:
        where = source.where(name)
        data = source.read_bytes(name)
        size = len(data)
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        with _gc_paused():
            export = decode_export(data, where)
        entries = _select(_entries(export, where), ctx, where)
        known = _exporter(export)
        done = 0
        for entry in entries:
            place = ChatPlace(
                community=community_key(ctx, "telegram", _chat_label(entry.head)),
                prefix=_chat_prefix(entry.head),
                path=entry.path,
                where=where,
                timezone=ctx.timezone,
                locate=_locator(data, entry.raw),
                known=known,
            )
            with _gc_paused():
                chat = entry.chat if entry.chat is not None else _decode_chat(entry, where)
                frame = chat_frame(chat, place)
            del chat
            if entry.raw is not None:
                ctx.progress(len(entry.raw))
                done += len(entry.raw)
            if frame.height:
                yield frame
        ctx.progress(size - done)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of objects.

    Decoding allocates an object per message, entity and string; none form cycles, but
    each allocation burst makes the collector rescan the ones already built (measured:
    5-10% of a 100 MB import). Never held across a ``yield``.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _candidates(source: Source) -> list[str]:
    """The files to look at: the file itself, or every result.json of a folder or zip."""
    if not source.is_container:
        return source.names()
    return [n for n in source.names() if PurePosixPath(n).name.lower() == "result.json"]


def decode_export(data: bytes, where: str) -> Export:
    """The file as an Export; a clear error for broken JSON or another shape."""
    try:
        export = EXPORT_DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise _shape_error(exc, data, where, "") from None
    except msgspec.DecodeError as exc:
        raise json_syntax_error(exc, data, where, EXPORT_HINT) from None
    if export.messages is None and export.chats is None and export.left_chats is None:
        raise InputError(
            'no "messages" and no "chats" at the top level: this is not a Telegram '
            "Desktop result.json",
            path=where,
            hint=_shape_hint(data),
        )
    return export


def _entries(export: Export, where: str) -> list[_Entry]:
    if export.messages is not None:
        head = ChatHead(name=export.name, type=export.type, id=export.id)
        chat = Chat(name=export.name, type=export.type, id=export.id, messages=export.messages)
        return [_Entry("", head, chat=chat)]
    entries = []
    for key, chats in (("chats", export.chats), ("left_chats", export.left_chats)):
        for i, raw in enumerate(chats.items if chats is not None else ()):
            path = f"{key}.list[{i}]."
            try:
                head = HEAD_DECODER.decode(raw)
            except msgspec.ValidationError as exc:
                raise _shape_error(exc, raw, where, path) from None
            entries.append(_Entry(path, head, raw=raw))
    return entries


def _select(entries: list[_Entry], ctx: ImportContext, where: str) -> list[_Entry]:
    """The group chats to import; one community only when --community is given."""
    if len(entries) == 1 and entries[0].raw is None:
        return entries  # a single-chat export: the user chose this chat
    chosen = []
    for entry in entries:
        if not entry.head.type or entry.head.type in GROUP_TYPES:
            chosen.append(entry)
        else:
            log.info("skipping %s chat %r of %s", entry.head.type, entry.head.name, where)
    if not chosen:
        raise InputError(
            f"no group chat in this export ({len(entries)} chats, none a group)",
            path=where,
            hint="export a group with Telegram Desktop, or tick the groups when exporting "
            "the account's data",
        )
    if ctx.community and len(chosen) > 1:
        raise InputError(
            f"this export holds {len(chosen)} group chats but --community names one",
            path=where,
            field="--community",
            hint="omit --community to file each chat under its own name, "
            "or export one chat (chat menu ⋮ → Export chat history)",
        )
    return chosen


def _decode_chat(entry: _Entry, where: str) -> Chat:
    try:
        return CHAT_DECODER.decode(entry.raw)
    except msgspec.ValidationError as exc:
        raise _shape_error(exc, entry.raw, where, entry.path) from None


def _exporter(export: Export) -> tuple[tuple[str, str], ...]:
    """The exporting user's (name, from_id): they often invite people, by name."""
    person = export.personal_information
    if person is None or person.user_id is None or not person.display_name:
        return ()
    return ((person.display_name, f"user{person.user_id}"),)


def _chat_label(head: ChatHead) -> str:
    if head.name:
        return head.name
    return f"telegram-{head.id}" if head.id is not None else ""


def _chat_prefix(head: ChatHead) -> str:
    return str(head.id) if head.id is not None else f"name:{head.name or ''}"


def _locator(data: bytes, raw: msgspec.Raw | None) -> Callable[[int | None], int | None]:
    """Finds the line of a message id in the file; only called to report an error."""

    def locate(message_id: int | None) -> int | None:
        if message_id is None:
            return None
        start = max(data.find(bytes(raw)), 0) if raw is not None else 0
        found = re.compile(rb'"id"\s*:\s*%d\s*[,}]' % message_id).search(data, start)
        return data.count(b"\n", 0, found.start()) + 1 if found else None

    return locate


def json_syntax_error(
    exc: msgspec.DecodeError, data: bytes, where: str, how_to_export: str
) -> InputError:
    """An InputError for JSON that stops early or is malformed, naming line and column."""
    text = str(exc)
    found = _BYTE.search(text)
    position = int(found.group(1)) if found else len(data)
    line = data.count(b"\n", 0, position) + 1
    column = position - (data.rfind(b"\n", 0, position) + 1) + 1
    if found is None:
        return InputError(
            f"the JSON stops in the middle (at byte {position}, column {column}): "
            "the file is cut short",
            path=where,
            line=line,
            hint="copy the file again, or export again and let the export finish "
            f"({how_to_export})",
        )
    reason = text.split(":", 1)[-1].split(" (byte")[0].strip()
    return InputError(
        f"not valid JSON at byte {position}, column {column}: {reason}",
        path=where,
        line=line,
        hint=f"the file is damaged or not JSON; export it again ({how_to_export})",
    )


def _shape_error(
    exc: msgspec.ValidationError, data: bytes | msgspec.Raw, where: str, path: str
) -> InputError:
    text = str(exc)
    found = _AT.search(text)
    detail = text[: found.start()] if found else text
    field = path + found.group(1) if found else path.rstrip(".")
    return InputError(
        f"does not match the Telegram Desktop export format: {detail}",
        path=where,
        field=field,
        hint=_shape_hint(bytes(data[:65536]) if path == "" else b""),
    )


def _shape_hint(head: bytes) -> str:
    if _DISCORD.search(head[:65536]):
        return "this looks like a DiscordChatExporter file: import it with --format discord"
    return EXPORT_HINT


IMPORTER = TelegramImporter()
