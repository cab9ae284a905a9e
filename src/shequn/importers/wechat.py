"""WeChat chats exported as CSV by MemoTrace (留痕) and tools copying its layout.

Header ``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,
Remark,NickName,Sender``: one row per message, ``CreateTime`` in epoch seconds,
``Sender`` the sender's wxid. Joins and removals are system rows (Type 10000) whose
text names people by display name; the names are matched to wxids seen in the file.

``localId`` and a numeric ``TalkerId`` are row numbers of the exporting device's
database, so ids come from content (chat, time, sender, text, occurrence) instead.

The file is streamed twice: a first pass keeps only who is who (names and wxids, so a
join can name someone who speaks later), the second yields the events.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shequn.domain.events import Event
from shequn.errors import InputError
from shequn.importers.base import ImportContext, Item, community_key, content_id
from shequn.importers.csv_fields import numbered_rows
from shequn.importers.source import Source
from shequn.importers.text import head_text, open_text

HEADER = (
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
)
REQUIRED = ("Type", "IsSender", "CreateTime", "StrContent", "NickName", "Sender")
SYSTEM_TYPES = frozenset({10000, 10002})
# Calls, friend requests and sync notices: not someone speaking in the chat.
_SKIPPED_TYPES = frozenset({37, 40, 50, 51, 9999})
_MEDIA = {3: "image", 34: "voice", 42: "card", 43: "video", 47: "sticker", 48: "location"}
_APP_MEDIA = {5: "link", 6: "file", 19: "chat_history", 33: "mini_program", 36: "mini_program"}
_APP_MEDIA |= {57: "quote", 2000: "transfer", 2001: "red_packet"}
_SELF = "你"
_EVERYONE = frozenset({"所有人", "全体成员"})
_MENTION = re.compile(r"(?:^|(?<=[\s\u2005]))@([^@\s\u2005]+)")
_GROUP_PREFIX = re.compile(r"^([A-Za-z0-9_\-]{3,}):\n(.*)$", re.DOTALL)

_Q = r"[\"“]([^\"”]+)[\"”]"
# (pattern, event type, who, by whom, channel). "who"/"by" name regex groups, joined
# by "+"; "你" is the exporting user, as is a group that did not take part.
_SYSTEM_RULES: tuple[tuple[re.Pattern[str], str, str, str, str], ...] = (
    (re.compile(rf"^你邀请{_Q}加入了群聊"), "join", "1", _SELF, ""),
    (re.compile(rf"^{_Q}邀请你和{_Q}加入了群聊"), "join", "你+2", "1", ""),
    (re.compile(rf"^{_Q}邀请你加入了群聊"), "join", _SELF, "1", ""),
    (re.compile(rf"^{_Q}邀请{_Q}加入了群聊"), "join", "2", "1", ""),
    (re.compile(rf"^{_Q}通过扫描你分享的二维码加入群聊"), "join", "1", _SELF, "qr_code"),
    (re.compile(rf"^{_Q}通过扫描{_Q}分享的二维码加入群聊"), "join", "1", "2", "qr_code"),
    (re.compile(rf"^{_Q}通过{_Q}的邀请二维码加入群聊"), "join", "1", "2", "qr_code"),
    (re.compile(rf"^(?:你|{_Q})通过扫描二维码加入群聊"), "join", "1", "", "qr_code"),
    (re.compile(rf"^{_Q}加入了群聊"), "join", "1", "", ""),
    (re.compile(rf"^你将{_Q}移出了群聊"), "leave", "1", _SELF, ""),
    (re.compile(rf"^{_Q}将{_Q}移出了群聊"), "leave", "2", "1", ""),
    (re.compile(rf"^你被{_Q}移出(?:了)?群聊"), "leave", _SELF, "1", ""),
    (re.compile(rf"^{_Q}退出了群聊"), "leave", "1", "", ""),
)


@dataclass
class _People:
    """Who the file shows: display names with their wxids, and the exporting user."""

    wxids: dict[str, set[str]] = field(default_factory=dict)
    self_wxid: str = ""
    self_name: str = ""

    @property
    def self_key(self) -> str:
        return f"wechat:{self.self_wxid}" if self.self_wxid else "wechat:self"

    def add(self, name: str, wxid: str) -> None:
        if name and wxid:
            self.wxids.setdefault(name, set()).add(wxid)

    def key(self, name: str, extra: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(member key, display name) for a name in a system line. A name two people
        share is left as a name: guessing would merge two members."""
        name = name.strip()
        if name == _SELF:
            return self.self_key, self.self_name
        if extra and name in extra:
            return f"wechat:{extra[name]}", name
        wxids = self.wxids.get(name, set())
        if len(wxids) == 1:
            return f"wechat:{next(iter(wxids))}", name
        return f"wechat:name:{name}", name


@dataclass
class _File:
    """One CSV being read: its columns and what is shared by its rows."""

    where: str
    columns: dict[str, int]
    stem: str
    people: _People
    # Repeats are counted within one second only (rows run in time order), so the
    # table stays small however long the chat is.
    seen: dict[tuple[str, ...], int] = field(default_factory=dict)
    second: int = -1
    chats: dict[str, tuple[str, str]] = field(default_factory=dict)

    def chat(self, talker: str, ctx: ImportContext) -> tuple[str, str]:
        """(chat id or "", community) of a TalkerId. A numeric TalkerId is a row number
        on one device, so the file (or --community) then names the chat."""
        if talker not in self.chats:
            chat = talker if talker and not talker.isdigit() else ""
            self.chats[talker] = chat, community_key(ctx, "wechat", chat or self.stem)
        return self.chats[talker]

    def source_id(self, chat: str, epoch: int, sender: str, content: str) -> str:
        if epoch != self.second:
            self.seen.clear()
            self.second = epoch
        mark = (chat, str(epoch), sender, content)
        occurrence = self.seen.get(mark, 0)
        self.seen[mark] = occurrence + 1
        return content_id(*mark, occurrence)

    def learn(self, row: list[str]) -> None:
        """Note who sent a message row: its names with its wxid, and the exporting user."""
        if self.cell(row, "Type") in ("10000", "10002"):
            return
        wxid = self.cell(row, "Sender")
        nick, remark = self.cell(row, "NickName"), self.cell(row, "Remark")
        if self.cell(row, "IsSender") in ("1", "true", "True"):
            self.people.self_wxid = self.people.self_wxid or wxid
            self.people.self_name = self.people.self_name or nick or remark
        self.people.add(nick, wxid)
        self.people.add(remark, wxid)

    def cell(self, row: list[str], name: str) -> str:
        index = self.columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def raw(self, row: list[str], name: str) -> str:
        index = self.columns.get(name)
        return row[index] if index is not None and index < len(row) else ""


class WeChatImporter:
    name = "wechat"
    description = "WeChat chat CSV from MemoTrace / 留痕 (localId,TalkerId,Type,...)"

    def sniff(self, source: Source) -> bool:
        first = head_text(source, 4096)
        if first is None:
            return False
        columns = {c.strip().strip('"') for c in first.split("\n", 1)[0].split(",")}
        return "StrContent" in columns and len(columns & set(HEADER)) >= 4

    def read(self, source: Source, ctx: ImportContext) -> Iterator[Item]:
        for name in source.names():
            file = self._open(source, name)
            with (
                source.open_binary(name) as raw,
                open_text(raw, file.where) as (text, consumed),
            ):
                rows = numbered_rows(text, file.where)  # cells up to 64 MiB (forwarded XML)
                next(rows, None)
                reported = 0
                for count, (line, row) in enumerate(rows, start=1):
                    if any(cell.strip() for cell in row):
                        self._check_width(row, file, line)
                        yield from _row_events(row, line, file, ctx)
                    if count % 20_000 == 0:
                        ctx.progress(consumed() - reported)
                        reported = consumed()
                ctx.progress(consumed() - reported)

    def _open(self, source: Source, name: str) -> _File:
        """Check the header and learn the people of a file: a first pass over it that
        keeps only names and wxids, so its memory grows with the members, not the rows."""
        where = source.where(name)
        with source.open_binary(name) as raw, open_text(raw, where) as (text, _):
            rows = numbered_rows(text, where)
            header = [h.strip().lstrip("\ufeff") for h in next(rows, (1, []))[1]]
            for column in REQUIRED:
                if column not in header:
                    raise InputError(
                        f"column {column!r} is missing",
                        path=where,
                        line=1,
                        field=column,
                        hint="a MemoTrace (留痕) CSV starts with the header " + ",".join(HEADER),
                    )
            stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0].removesuffix("_utf8")
            file = _File(where, {h: i for i, h in enumerate(header)}, stem, _People())
            for _, row in rows:
                file.learn(row)
        return file

    def _check_width(self, row: list[str], file: _File, line: int) -> None:
        if len(row) != len(file.columns):
            raise InputError(
                f"{len(row)} fields where the header has {len(file.columns)}",
                path=file.where,
                line=line,
                hint="the row is cut, or a quote in it is never closed; export the chat again",
            )


def _int(file: _File, row: list[str], column: str, line: int) -> int | None:
    value = file.cell(row, column)
    if not value:
        return None
    try:
        return int(value) if value.isdigit() else int(float(value))
    except (ValueError, OverflowError):
        raise InputError(
            f"{value!r} is not a number",
            path=file.where,
            line=line,
            field=column,
            hint=f"{column} holds a whole number; export the chat again",
        ) from None


def _row_time(file: _File, row: list[str], line: int, ctx: ImportContext) -> datetime:
    """CreateTime (epoch seconds; milliseconds are recognised), else the local StrTime."""
    epoch = _int(file, row, "CreateTime", line)
    if epoch is not None and abs(epoch) < 10**14:
        return datetime.fromtimestamp(epoch / 1000 if epoch > 10**11 else epoch, UTC)
    if epoch is not None:
        raise InputError(
            f"CreateTime {epoch} is not a time",
            path=file.where,
            line=line,
            field="CreateTime",
            hint="CreateTime holds epoch seconds, e.g. 1700000000",
        )
    local = file.cell(row, "StrTime")
    try:
        return datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ctx.timezone)
    except ValueError:
        raise InputError(
            "no time: CreateTime is empty and StrTime is not 'YYYY-MM-DD HH:MM:SS'",
            path=file.where,
            line=line,
            field="CreateTime",
            hint="CreateTime holds epoch seconds, e.g. 1700000000",
        ) from None


def _row_events(row: list[str], line: int, file: _File, ctx: ImportContext) -> Iterator[Event]:
    kind = _int(file, row, "Type", line)
    if kind is None or kind in _SKIPPED_TYPES:
        return
    ts = _row_time(file, row, line, ctx)
    chat, community = file.chat(file.cell(row, "TalkerId"), ctx)
    content = file.raw(row, "StrContent")
    epoch = int(ts.timestamp())
    sid = file.source_id(chat or community, epoch, file.raw(row, "Sender"), content)
    if kind in SYSTEM_TYPES:
        yield from _system_events(content, ts, community, sid, file.people)
        return
    member, name, text = _sender(row, line, file, chat, content)
    meta: dict[str, Any] = {"name": name} if name else {}
    media = _media(kind, _int(file, row, "SubType", line))
    if media:
        meta["media"] = media
    if kind != 1 and text.lstrip().startswith("<"):
        text = ""  # the XML of a picture, file or link card, not words anyone wrote
    named = [n for n in dict.fromkeys(_MENTION.findall(text)) if n not in _EVERYONE]
    if named:  # WeChat ends a mention with U+2005
        meta["mentions"] = [file.people.key(n)[0] for n in named]
    yield Event(
        ts=ts,
        community=community,
        type="message",
        member=member,
        text=text,
        source_id=sid,
        meta=meta or None,
    )


def _media(kind: int, subtype: int | None) -> str | None:
    """What a non-text message carries (Type 49 is an app message: link, file...)."""
    if kind == 1:
        return None
    if kind == 49:
        return _APP_MEDIA.get(subtype or 0, "app")
    return _MEDIA.get(kind, f"type_{kind}")


def _sender(
    row: list[str], line: int, file: _File, chat: str, content: str
) -> tuple[str, str, str]:
    """(member key, display name, text) of a message row."""
    wxid, nick = file.cell(row, "Sender"), file.cell(row, "NickName")
    name = nick or file.cell(row, "Remark")
    if wxid:
        return f"wechat:{wxid}", name, content
    if file.cell(row, "IsSender") in ("1", "true", "True"):
        return file.people.self_key, name or file.people.self_name, content
    # Some exporters leave the sender in the text of group messages: "wxid_x:\ntext".
    prefixed = _GROUP_PREFIX.match(content) if chat.endswith("@chatroom") else None
    if prefixed:
        return f"wechat:{prefixed.group(1)}", name, prefixed.group(2)
    if nick:
        return f"wechat:name:{nick}", name, content
    if chat and not chat.endswith("@chatroom"):
        return f"wechat:{chat}", name, content  # a one-to-one chat: the other person
    raise InputError(
        "a message without a sender: Sender and NickName are empty",
        path=file.where,
        line=line,
        field="Sender",
        hint="export the chat again with MemoTrace (留痕), which fills Sender with the wxid",
    )


def _template(content: str) -> tuple[str, dict[str, str]]:
    """A ``<sysmsg type="sysmsgtemplate">`` notice as plain text, with the wxids it
    gives for the names in it."""
    try:
        root = ET.fromstring(content.strip())
    except ET.ParseError:
        return "", {}
    text = root.findtext(".//content_template/template") or ""
    wxids: dict[str, str] = {}
    for link in root.iter("link"):
        names = []
        for member in link.iter("member"):
            nick = (member.findtext("nickname") or "").strip()
            wxid = (member.findtext("username") or "").strip()
            if nick:
                names.append(nick)
                if wxid:
                    wxids[nick] = wxid
        text = text.replace(f"${link.get('name', '')}$", "、".join(names))
    return text, wxids


def _system_events(
    content: str, ts: datetime, community: str, sid: str, people: _People
) -> Iterator[Event]:
    """Joins and removals; every other notice (recalls, renames, pats) is skipped."""
    text, wxids = content.strip(), {}
    if text.startswith("<sysmsg") and "sysmsgtemplate" in text:
        text, wxids = _template(text)
    for pattern, kind, who_spec, by_spec, channel in _SYSTEM_RULES:
        found = pattern.match(text)
        if found is None:
            continue
        by_key, by_name = people.key(_names(found, by_spec)[0], wxids) if by_spec else ("", "")
        for index, who in enumerate(_names(found, who_spec)):
            member, name = people.key(who, wxids)
            meta: dict[str, Any] = {"name": name}
            if kind == "leave" and by_key:
                meta["removed_by"], meta["removed"] = by_key, True
            elif by_key:
                meta["inviter_name"] = by_name
            yield Event(
                ts=ts,
                community=community,
                type=kind,
                member=member,
                inviter=by_key if kind == "join" else "",
                channel=channel,
                source_id=sid if index == 0 else f"{sid}:{index}",
                meta=meta,
            )
        return


def _names(found: re.Match[str], spec: str) -> list[str]:
    names: list[str] = []
    for part in spec.split("+"):
        value = _SELF if part == _SELF else found.group(int(part))
        names.extend(n for n in (value or _SELF).split("、") if n.strip())
    return names


IMPORTER = WeChatImporter()
