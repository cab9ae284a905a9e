"""WhatsApp chat exports: a ``.txt``, or the ``.zip`` (or unzipped folder) WhatsApp writes.

Android writes ``WhatsApp Chat with X.txt``, iOS a zip holding ``_chat.txt``. Lines
look like ``20/06/2019, 15:58 - Name: text`` (Android, in many locale variants) or
``[20/06/2019, 15:58:47] Name: text`` (iOS); see whatsapp.header. Messages become
``message`` events whose ids are hashes of their content (whatsapp.ids); system lines
become joins (``X added Y``, invite links) and leaves (``left``, ``removed``).

Big files are read in chunks of whole messages (``chunk_bytes``), each parsed
column-wise with Polars (whatsapp.parse) and yielded as one frame.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

import polars as pl

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key
from shequn.importers.source import Source
from shequn.importers.whatsapp.header import HINT_FORMATS, HeaderShape, detect_shape, match_header
from shequn.importers.whatsapp.names import KnownNames
from shequn.importers.whatsapp.parse import PLATFORM, ChatParser, lines_of
from shequn.importers.whatsapp.system import normalize_name

CHUNK_BYTES = 64 << 20
_HEAD_BYTES = 16 * 1024
# Export file names: Android names the file after the chat (in the phone's language),
# iOS writes _chat.txt into a zip named after the chat.
_CHAT_PREFIX = (
    r"(?:WhatsApp Chat with|WhatsApp Chat -|WhatsApp-Chat mit|Chat de WhatsApp con"
    r"|Conversa do WhatsApp com|Discussion WhatsApp avec|WhatsApp-chat met)"
)
_CHAT_FILE = re.compile(rf"(?:^|/)(?:_chat|{_CHAT_PREFIX}.*)\.txt$", re.IGNORECASE)
_CHAT_NAME = re.compile(rf"^{_CHAT_PREFIX}\s+(.+)$", re.IGNORECASE)


def chat_files(source: Source) -> list[str]:
    """The chat text files of a source: the file itself, or the export's .txt in a zip."""
    names = source.names()
    if not source.is_container:
        return names
    chats = [n for n in names if _CHAT_FILE.search(n)]
    if chats:
        return chats
    texts = [n for n in names if n.lower().endswith(".txt")]
    return texts if len(texts) == 1 else []


def chat_name(source: Source, name: str) -> str:
    """The chat's name: X from ``WhatsApp Chat with X.txt`` (or the zip's name), else the stem."""
    stem = PurePosixPath(name).stem
    if stem.lower() == "_chat":
        path = source.path
        if path.name == PurePosixPath(name).name:
            stem = path.parent.name  # an unzipped _chat.txt: its folder is named after the chat
        else:
            stem = path.name if path.is_dir() else path.stem
    match = _CHAT_NAME.match(stem.strip())
    return match.group(1).strip() if match else stem


def _head_text(head: bytes) -> str:
    """The start of a file as text, for detection (undecodable bytes replaced)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "replace")
    return head.decode("utf-8", "replace").lstrip("\ufeff")


def _first_line(head: bytes) -> str:
    return next((line for line in _head_text(head).splitlines() if line.strip()), "")


class WhatsAppImporter:
    """Reads WhatsApp exports; see the module docstring."""

    name = "whatsapp"
    description = "WhatsApp chat export (.txt, or the .zip WhatsApp writes), Android or iOS"

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.chunk_bytes = chunk_bytes

    def sniff(self, source: Source) -> bool:
        try:
            files = chat_files(source)
            return (
                bool(files) and match_header(_first_line(source.head(files[0], 4096))) is not None
            )
        except (OSError, ValueError, KeyError):
            return False

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        files = chat_files(source)
        if not files:
            raise InputError(
                "no WhatsApp chat file in this folder or zip",
                path=str(source.path),
                hint="import the .txt WhatsApp exported, or the zip holding _chat.txt",
            )
        for name in files:
            yield from self._read_file(source, name, ctx)

    def _read_file(self, source: Source, name: str, ctx: ImportContext) -> Iterator[Item]:
        where = source.where(name)
        shape = self._shape(source, name, where)
        chat = chat_name(source, name)
        parser = ChatParser(shape, community_key(ctx, PLATFORM, chat), chat, ctx.timezone, where)
        # First pass: the day/month order and the names only the whole file tells. A file
        # of one chunk (most are) is kept, not read again.
        names, kept, read = KnownNames(chat), [], [0]
        for number, chunk in enumerate(self._chunks(source, name, shape, read.append)):
            lines, is_header, _ = chunk
            parser.learn_order(lines, is_header)
            names.learn(lines.filter(is_header).str.splitn(shape.close, 2).struct.field("field_1"))
            kept = [chunk] if number == 0 else []
        parser.long_names = frozenset(names.long_names)
        if kept:
            ctx.progress(sum(read))
        for lines, is_header, first_line in kept or self._chunks(source, name, shape, ctx.progress):
            frame = parser.parse(lines, is_header, first_line)
            if frame.height:
                yield frame
        me = ctx.me or names.exporter()
        if me:  # the exporter is "You" in system lines
            ctx.alias(f"{PLATFORM}:You", f"{PLATFORM}:{normalize_name(me)}")

    def _chunks(
        self, source: Source, name: str, shape: HeaderShape, progress: Callable[[int], None]
    ) -> Iterator[tuple[pl.Series, pl.Series, int]]:
        """The file's lines in chunks of whole messages: lines, which are headers, and the
        number of the first line."""
        where = source.where(name)
        pending, first_line = b"", 1
        for block, final in self._blocks(source, name, progress):
            data = pending + block if pending else block
            pending = b""
            if not final:
                cut = data.rfind(b"\n") + 1
                data, pending = data[:cut], data[cut:]
            if not data:
                continue
            lines, is_header, starts = lines_of(data, shape, where, first_line)
            if not final:
                # Hold the last message back: its continuation lines may be in the next block.
                heads = is_header.arg_true()
                last = int(heads[-1]) if len(heads) else 0
                if last == 0:
                    pending = data + pending
                    continue
                lines, is_header = lines[:last], is_header[:last]
                pending = data[int(starts[last]) :] + pending
            yield lines, is_header, first_line
            first_line += len(lines)

    def _shape(self, source: Source, name: str, where: str) -> HeaderShape:
        shape = detect_shape(_head_text(source.head(name, _HEAD_BYTES)))
        if shape is None:
            raise InputError(
                "no WhatsApp message header (date, time and name) in the first lines",
                path=where,
                line=1,
                hint=HINT_FORMATS,
            )
        return shape

    def _blocks(
        self, source: Source, name: str, progress: Callable[[int], None]
    ) -> Iterator[tuple[bytes, bool]]:
        """The file's bytes as UTF-8 in blocks, each with whether it is the last."""
        with source.open_binary(name) as fh:
            block = fh.read(self.chunk_bytes)
            progress(len(block))
            if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                # Rare (re-saved by an editor): read it whole and go on in UTF-8.
                rest = fh.read()
                progress(len(rest))
                yield _from_utf16(block + rest, source.where(name)), True
                return
            block = block.removeprefix(codecs.BOM_UTF8)
            while True:
                # Read one block ahead, so the last block is known to be the last.
                following = fh.read(self.chunk_bytes)
                progress(len(following))
                yield block, not following
                if not following:
                    return
                block = following


def _from_utf16(data: bytes, where: str) -> bytes:
    try:
        return data.decode("utf-16").encode()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the UTF-16 text is damaged at byte {exc.start}",
            path=where,
            hint="export the chat again from WhatsApp (it writes UTF-8)",
        ) from None


IMPORTER = WhatsAppImporter()
