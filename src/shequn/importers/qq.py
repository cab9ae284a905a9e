"""QQ message manager (消息管理器) text export.

The file starts with ``消息记录（此消息记录为文本格式，不支持重新导入）``; each chat is a
section ``消息分组:…`` / ``消息对象:<群名>`` between rules of ``=``; each message is a
header line ``YYYY-MM-DD H:MM:SS 昵称(QQ号)`` (or ``昵称<email>``, or an empty nickname),
its content lines, and a blank line. Joins and leaves are lines of the system senders.
Times are local (``ctx.timezone``) and messages have no ids, so ids come from content.
The file is streamed line by line: memory does not grow with its size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from shequn.domain.events import Event
from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key, content_id
from shequn.importers.source import Source
from shequn.importers.text import head_text, open_text

TITLE = "消息记录（此消息记录为文本格式，不支持重新导入）"
_HEADER = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2}) (?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?: ?(?P<half>AM|PM|上午|下午))? (?P<who>.*?)"
    r"(?:\((?P<qq>\d+)\)|<(?P<email>[^<>\s]+)>)\s*$"
)
# A line that starts like a header but that _HEADER rejects is a damaged header, not
# message text: importing it as text would silently glue two messages together.
_LOOSE_HEADER = re.compile(
    r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{1,2}(?::\d{1,2})?\s.*"
    r"(?:\(\d+\)|<[^<>\s]+>)\s*$"
)
_RULE = re.compile(r"^={16,}\s*$")
_LABEL = re.compile(r"^(?P<key>消息分组|消息对象)[:：](?P<value>.*)$")
_SECTION_HINT = re.compile(r"^消息对象[:：]", re.MULTILINE)
_TITLE_TAG = re.compile(r"^【[^】]*】")  # group title/level shown before the nickname
_NAME_WITH_QQ = re.compile(r"^(?P<name>.*?)\((?P<qq>\d{5,})\)$")
_MENTION = re.compile(r"(?:^|(?<=\s))@([^\s@]+)")
_EVERYONE = frozenset({"全体成员", "所有人", "all"})
SYSTEM_QQ = frozenset({"10000", "1000000"})
_MEDIA = {"[图片]": "image", "[表情]": "sticker", "[语音]": "voice", "[视频]": "video"}

_INVITED = re.compile(r"^(?P<by>.+?)\s*邀请\s*(?P<who>.+?)\s*加入了?本群$")
_JOINED = re.compile(r"^(?P<who>.+?)\s*加入了?本群$")
_REMOVED = re.compile(
    r"^(?P<who>.+?)\s*被\s*(?:(?:群主|管理员)\s*)?(?P<by>.*?)\s*(?:移出|踢出)了?(?:本群|群聊)$"
)
_LEFT = re.compile(r"^(?P<who>.+?)\s*(?:退出|离开)了?(?:本群|群聊)$")


@dataclass
class _Message:
    line: int
    ts: datetime
    qq: str  # QQ number or email; "" never happens (the header requires one)
    name: str
    community: str
    body: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The content lines, without the blank lines that separate messages."""
        end = len(self.body)
        while end and not self.body[end - 1].strip():
            end -= 1
        return "\n".join(self.body[:end])


@dataclass
class _State:
    """What the file has shown so far: nicknames with numbers, repeated contents."""

    numbers: dict[str, str] = field(default_factory=dict)
    # Names keyed by name because their number was not seen yet (linked at the end).
    unlinked: set[str] = field(default_factory=set)
    # Repeats are counted within one second only: exports run in time order, and a
    # file-long table of every text would grow as large as the file.
    seen: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    second: str = ""

    def key(self, name: str) -> tuple[str, str]:
        """(member key, display name) for a name in a system line."""
        name = name.strip().strip("\"'“”")
        found = _NAME_WITH_QQ.match(name)
        if found:
            return f"qq:{found.group('qq')}", found.group("name").strip()
        name = _TITLE_TAG.sub("", name).strip()
        if name in self.numbers:
            return self.numbers[name], name
        self.unlinked.add(name)
        return f"qq:name:{name}", name

    def link(self, ctx: ImportContext) -> None:
        """Alias each name-keyed member to the number the name posted with later on."""
        for name in sorted(self.unlinked):
            if name in self.numbers:
                ctx.alias(f"qq:name:{name}", self.numbers[name])

    def source_id(self, community: str, ts: datetime, sender: str, text: str) -> str:
        second = ts.isoformat()
        if second != self.second:
            self.seen.clear()
            self.second = second
        mark = (community, second, sender, text)
        occurrence = self.seen.get(mark, 0)
        self.seen[mark] = occurrence + 1
        return content_id(*mark, occurrence)


def parse_header(found: re.Match[str], ctx: ImportContext, where: str, line: int) -> datetime:
    """The local time of a header line, in ``ctx.timezone``."""
    hour = int(found.group("h"))
    half = found.group("half")
    if half in ("PM", "下午") and hour < 12:
        hour += 12
    elif half in ("AM", "上午") and hour == 12:
        hour = 0
    try:
        return datetime(
            int(found.group("y")),
            int(found.group("mo")),
            int(found.group("d")),
            hour,
            int(found.group("mi")),
            int(found.group("s")),
            tzinfo=ctx.timezone,
        )
    except ValueError as exc:
        raise _bad_header(where, line, str(exc)) from None


def _bad_header(where: str, line: int, why: str) -> InputError:
    return InputError(
        f"a message header with an impossible date or time ({why})",
        path=where,
        line=line,
        hint="headers read 'YYYY-MM-DD H:MM:SS 昵称(QQ号)'; correct that line or export again",
    )


class QQImporter:
    name = "qq"
    description = "QQ message manager text export (消息记录 .txt, UTF-8 or GBK)"

    def sniff(self, source: Source) -> bool:
        text = head_text(source)
        if text is None:
            return False
        first = text.lstrip().split("\n", 1)[0].strip()
        return first == TITLE or (_SECTION_HINT.search(text) is not None and "=" * 32 in text)

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        for name in source.names():
            where = source.where(name)
            with (
                source.open_binary(name) as raw,
                open_text(raw, where) as (text, consumed),
            ):
                lines, state, found = _Lines(text, consumed, ctx), _State(), False
                for message in self._messages(lines, where, ctx, name):
                    found = True
                    yield from _events(message, state)
                lines.report()
                state.link(ctx)
            if not found and lines.nonblank:
                raise InputError(
                    "no message header found",
                    path=where,
                    hint="messages start with a line 'YYYY-MM-DD H:MM:SS 昵称(QQ号)'; "
                    "export the chat from QQ's message manager as .txt",
                )

    def _messages(
        self, lines: _Lines, where: str, ctx: ImportContext, file_name: str
    ) -> Iterator[_Message]:
        """The messages of a file in order; section rules and labels end a message."""
        stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        community = community_key(ctx, "qq", stem)
        current: _Message | None = None
        for number, line, prev, following in lines.window():
            # Cheap first-character tests keep the regexes off most content lines.
            first = line[:1]
            header = _HEADER.match(line) if first.isdigit() else None
            if header is None and not (first in "=消" and _is_structure(line, prev, following)):
                if first.isdigit() and _LOOSE_HEADER.match(line):
                    raise _bad_header(where, number, "not YYYY-MM-DD H:MM:SS")
                if current is not None:
                    current.body.append(line)
                continue
            if current is not None:
                yield current
            current = None
            if header is not None:
                current = self._start(header, community, ctx, where, number)
            elif (label := _LABEL.match(line)) and label.group("key") == "消息对象":
                community = community_key(ctx, "qq", label.group("value").strip())
        if current is not None:
            yield current

    def _start(
        self, found: re.Match[str], community: str, ctx: ImportContext, where: str, line: int
    ) -> _Message:
        ts = parse_header(found, ctx, where, line)
        who = found.group("who").strip()
        if who.startswith("【"):
            who = _TITLE_TAG.sub("", who).strip()
        return _Message(line, ts, found.group("qq") or found.group("email"), who, community)


class _Lines:
    """The lines of a text stream, reporting the bytes read as they go."""

    def __init__(self, text: TextIO, consumed: Callable[[], int], ctx: ImportContext) -> None:
        self.text, self.consumed, self.ctx = text, consumed, ctx
        self.reported = 0
        self.nonblank = False  # whether any line holds more than whitespace

    def window(self) -> Iterator[tuple[int, str, str, str]]:
        """(line number, line, previous line, next line), one line ahead of the reader.

        open_text's stream has newline="": it ends lines at CR LF, CR and LF alike (QQ
        files mix them; a CR LF split between two reads stays one ending) and keeps
        the endings, which are cut off here.
        """
        lines = (line.rstrip("\r\n") for line in self.text)
        line = next(lines, None)
        line = line.lstrip("\ufeff") if line is not None else None
        prev, number = "", 1
        while line is not None:
            following = next(lines, None)
            if not self.nonblank and line.strip():
                self.nonblank = True
            yield number, line, prev, following or ""
            if number % 4096 == 0:
                self.report()
            prev, line, number = line, following, number + 1

    def report(self) -> None:
        """Tell ctx.progress the bytes read since the last report."""
        done = self.consumed()
        if done > self.reported:
            self.ctx.progress(done - self.reported)
            self.reported = done


def _is_structure(line: str, prev: str, following: str) -> bool:
    """The title, the rules and the labels around a section's name (not message text)."""
    if _RULE.match(line):
        return bool(_LABEL.match(following) or _LABEL.match(prev))
    if _LABEL.match(line):
        return bool(_RULE.match(prev))
    return line.strip() == TITLE


def _events(message: _Message, state: _State) -> Iterator[Event]:
    text = message.text
    if message.qq in SYSTEM_QQ:
        yield from _system_events(message, text, state)
        return
    member = f"qq:{message.qq}"
    if message.name:
        state.numbers[message.name] = member
    meta: dict[str, object] = {"name": message.name} if message.name else {}
    if "@" in text:
        named = dict.fromkeys(n for n in _MENTION.findall(text) if n not in _EVERYONE)
        if named:
            meta["mentions"] = [state.key(name)[0] for name in named]
    if text[:1] == "[" and text.strip() in _MEDIA:
        meta["media"] = _MEDIA[text.strip()]
    yield Event(
        ts=message.ts,
        community=message.community,
        type="message",
        member=member,
        text=text,
        source_id=state.source_id(message.community, message.ts, member, text),
        meta=meta or None,
    )


def _system_events(message: _Message, text: str, state: _State) -> Iterator[Event]:
    """Joins and leaves announced by QQ's system senders; other notices are skipped."""
    line = text.strip().split("\n", 1)[0].strip().rstrip("。.!！ ")
    base = state.source_id(message.community, message.ts, f"qq:{message.qq}", text)
    changes: list[tuple[str, str, str]] = []  # (type, who, by whom)
    removed = False
    if found := _INVITED.match(line):
        changes = [("join", who, found["by"]) for who in re.split(r"[、,，]", found["who"])]
    elif found := _REMOVED.match(line):
        changes, removed = [("leave", found["who"], found["by"])], True
    elif found := _LEFT.match(line):
        changes = [("leave", found["who"], "")]
    elif found := _JOINED.match(line):
        changes = [("join", found["who"], "")]
    for index, (kind, who, by) in enumerate(changes):
        member, name = state.key(who)
        meta: dict[str, object] = {"name": name}
        inviter = ""
        if by.strip():
            by_key, by_name = state.key(by)
            if kind == "join":
                inviter, meta["inviter_name"] = by_key, by_name
            else:
                meta["removed_by"] = by_key
        if removed:
            meta["removed"] = True
        yield Event(
            ts=message.ts,
            community=message.community,
            type=kind,
            member=member,
            inviter=inviter,
            source_id=base if index == 0 else f"{base}:{index}",
            meta=meta,
        )


IMPORTER = QQImporter()
