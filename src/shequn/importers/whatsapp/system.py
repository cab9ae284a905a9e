"""WhatsApp system lines: who joined, who was added, removed or left; the rest is noise.

A system line has no ``Name: `` before its text (``Anna added Ben``), except on iOS
where it may carry one (``Group: ‎You joined using this group's invite link``,
``~ Ben: ~ Ben joined using...``). Lines are few, so they are read here one by one
with Python regexes, after a vectorized filter picked the candidates.

Only English texts are recognised; unknown lines without a sender are skipped as
noise, and messages are unaffected by the phone's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bidirectional marks and isolates WhatsApp puts around names and system texts.
_MARKS_CLASS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_MARKS = re.compile(_MARKS_CLASS)
# What surrounds a display name but is no part of it: "~ " (not a saved contact) and
# narrow no-break spaces on iOS.
_NAME_STRIP = " ~\u202f\u00a0\t"

# iOS rows worth a look in Python: a system phrase, or a text marked by iOS (": \u200e").
SYSTEM_HINT = (
    r": \x{200e}|^\x{200e}| joined using | joined from the community| left$| added | removed "
    r"|^You were added|end-to-end encrypt|created group|created this group| changed "
)
# Android writes system lines without a sender, but a subject or description may hold a
# colon: what comes before it then looks like a sender with one of these phrases.
FREE_TEXT_SENDER = (
    r" (?:created group |changed the subject |changed the group description|changed this group's )"
)

_APOS = "['’]"
_QUOTED = '["“].*["”]'


@dataclass(frozen=True)
class SystemEvent:
    """A join or leave read from a system line; names are display names."""

    type: str
    member: str
    inviter: str = ""
    channel: str = ""
    removed_by: str = ""


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    kind: str
    # A phrase nobody types as a message: trusted even after a "Name: " prefix.
    specific: bool


def _rule(pattern: str, kind: str, specific: bool = False) -> _Rule:
    return _Rule(re.compile(pattern), kind, specific)


_RULES: tuple[_Rule, ...] = (
    _rule(r"^Messages and calls are end-to-end encrypted", "skip", True),
    _rule(r"^Messages to this group are now secured with end-to-end encryption", "skip", True),
    _rule(rf"^(?P<actor>.+?) created group {_QUOTED}$", "skip", True),
    _rule(r"^(?P<actor>.+?) created this group$", "skip", True),
    _rule(
        rf"^(?P<who>.+?) joined using this (?:group|community){_APOS}s invite link$", "link", True
    ),
    _rule(r"^(?P<who>.+?) joined from the community$", "joined", True),
    _rule(r"^(?P<who>You) were added$", "joined", True),
    # Noise first: a subject or description may quote "added" or "left".
    _rule(
        r" changed (?:the subject|this group's|the group description|their phone number|to \+)"
        r"| deleted (?:this group's icon|the group description)| pinned a message"
        r"|security code (?:with .+ )?changed|^Missed (?:voice|video) call"
        r"|^Disappearing messages| turned (?:on|off) disappearing messages"
        r"|(?:is|are|You're) now an admin|^This chat is with a business account",
        "skip",
    ),
    _rule(r"^(?P<actor>.+?) added (?P<who>.+)$", "added"),
    _rule(r"^(?P<actor>.+?) removed (?P<who>.+)$", "removed"),
    _rule(r"^(?P<who>.+?) left$", "left"),
)
# Android writes system lines without a sender; these may hold a colon in free text
# (a subject or description), so they are recognised before looking for "Name: ".
_FREE_TEXT = re.compile(f"^[^:]*?{FREE_TEXT_SENDER}")
_SENDER = re.compile(r"^([^:]*):[ ]?(.*)$", re.DOTALL)
_LIST_SEP = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def normalize_name(raw: str) -> str:
    """A display name without bidi marks, ``~`` and surrounding (narrow) spaces."""
    return _MARKS.sub("", raw).strip(_NAME_STRIP)


def _person(raw: str) -> str:
    """A name in a system text; "you" (the exporting user) is spelled "You" everywhere."""
    name = normalize_name(raw)
    return "You" if name == "you" else name


def name_marks_pattern() -> str:
    """The regex of characters :func:`normalize_name` removes anywhere (for Polars)."""
    return _MARKS_CLASS


def name_strip_chars() -> str:
    """The characters :func:`normalize_name` strips at both ends (for Polars)."""
    return _NAME_STRIP


def _names(listing: str) -> list[str]:
    return [n for n in (_person(p) for p in _LIST_SEP.split(listing)) if n]


def _match(text: str) -> tuple[_Rule, re.Match[str]] | None:
    for rule in _RULES:
        match = rule.pattern.search(text)
        if match:
            return rule, match
    return None


def _events(rule: _Rule, match: re.Match[str]) -> list[SystemEvent]:
    groups = match.groupdict()
    actor = _person(groups.get("actor") or "")
    who = groups.get("who") or ""
    if rule.kind == "link":
        return [SystemEvent("join", _person(who), channel="invite_link")]
    if rule.kind == "joined":
        return [SystemEvent("join", _person(who))]
    if rule.kind == "added":
        return [SystemEvent("join", name, inviter=actor) for name in _names(who)]
    if rule.kind == "removed":
        return [SystemEvent("leave", name, removed_by=actor) for name in _names(who)]
    if rule.kind == "left":
        return [SystemEvent("leave", _person(who))]
    return []


def _subject(match: re.Match[str]) -> str:
    groups = match.groupdict()
    return _person(groups.get("actor") or groups.get("who") or "")


def classify(body: str, chat: str) -> list[SystemEvent] | None:
    """The events of a line's body (after the header), or None if it is a message.

    Args:
        body: ``Name: text`` or a system text, first line only.
        chat: the chat's name; iOS prefixes some system lines with it.

    Returns:
        None for a message; else the joins and leaves (empty for noise to skip).
    """
    sender = _SENDER.match(body)
    if sender is None or _FREE_TEXT.match(_MARKS.sub("", body)):
        found = _match(_MARKS.sub("", body))
        return _events(*found) if found else []
    name, text = normalize_name(sender.group(1)), sender.group(2)
    found = _match(_MARKS.sub("", text))
    if found is None:
        return None
    rule, match = found
    # A "Name: " prefix is trusted when the phrase is unmistakable, iOS marked the text
    # as a system text, the prefix is the group, or it names who the line is about.
    if rule.specific or text.startswith("\u200e") or name in (chat, _subject(match)):
        return _events(rule, match)
    return None
