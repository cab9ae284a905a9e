"""WeChat's system lines: who joined or was removed, and by whom.

The lines name people by display name (or, in a ``sysmsgtemplate`` notice, with their
wxids); `People` matches the names to wxids seen in the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shequn.domain.events import Event

SELF = "你"

_Q = r"[\"“]([^\"”]+)[\"”]"
# (pattern, event type, who, by whom, channel). "who"/"by" name regex groups, joined
# by "+"; "你" is the exporting user, as is a group that did not take part.
_SYSTEM_RULES: tuple[tuple[re.Pattern[str], str, str, str, str], ...] = (
    (re.compile(rf"^你邀请{_Q}加入了群聊"), "join", "1", SELF, ""),
    (re.compile(rf"^{_Q}邀请你和{_Q}加入了群聊"), "join", "你+2", "1", ""),
    (re.compile(rf"^{_Q}邀请你加入了群聊"), "join", SELF, "1", ""),
    (re.compile(rf"^{_Q}邀请{_Q}加入了群聊"), "join", "2", "1", ""),
    (re.compile(rf"^{_Q}通过扫描你分享的二维码加入群聊"), "join", "1", SELF, "qr_code"),
    (re.compile(rf"^{_Q}通过扫描{_Q}分享的二维码加入群聊"), "join", "1", "2", "qr_code"),
    (re.compile(rf"^{_Q}通过{_Q}的邀请二维码加入群聊"), "join", "1", "2", "qr_code"),
    (re.compile(rf"^(?:你|{_Q})通过扫描二维码加入群聊"), "join", "1", "", "qr_code"),
    (re.compile(rf"^{_Q}加入了群聊"), "join", "1", "", ""),
    (re.compile(rf"^你将{_Q}移出了群聊"), "leave", "1", SELF, ""),
    (re.compile(rf"^{_Q}将{_Q}移出了群聊"), "leave", "2", "1", ""),
    (re.compile(rf"^你被{_Q}移出(?:了)?群聊"), "leave", SELF, "1", ""),
    (re.compile(rf"^{_Q}退出了群聊"), "leave", "1", "", ""),
)


@dataclass
class People:
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
        if name == SELF:
            return self.self_key, self.self_name
        if extra and name in extra:
            return f"wechat:{extra[name]}", name
        wxids = self.wxids.get(name, set())
        if len(wxids) == 1:
            return f"wechat:{next(iter(wxids))}", name
        return f"wechat:name:{name}", name


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


def system_events(
    content: str, ts: datetime, community: str, sid: str, people: People
) -> Iterator[Event]:
    """Joins and removals; every other notice (recalls, renames, pats) is skipped."""
    text, wxids = content.strip(), dict[str, str]()
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
        value = SELF if part == SELF else found.group(int(part))
        names.extend(n for n in (value or SELF).split("、") if n.strip())
    return names
