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
    r"| was added$| was removed$| turned (?:on|off) |^This group has over | requested to join"
)
# Android writes system lines without a sender, but a subject or description may hold a
# colon: what comes before it then looks like a sender with one of these phrases.
_APOS = "['’]"  # Android writes a straight apostrophe, iOS a curly one
FREE_TEXT_SENDER = (
    rf" (?:created group |changed the subject |changed the group description"
    rf"|changed this group{_APOS}s |changed the group name )"
)
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
    # Group settings nobody types as a message (iOS writes them after a "Name: ").
    _rule(
        rf" turned (?:on|off) admin approval to join this group| changed this group{_APOS}s "
        rf"settings|^This group has over \d+ members| (?:reset|revoked) this group{_APOS}s "
        r"invite link| requested to join\.?$",
        "skip",
        True,
    ),
    # Noise first: a subject or description may quote "added" or "left".
    _rule(
        rf" changed (?:the subject|this group{_APOS}s|the group description|the group name"
        r"|their phone number|to \+)"
        rf"| deleted (?:this group{_APOS}s icon|the group description)| pinned a message"
        r"|security code (?:with .+ )?changed|^Missed (?:voice|video) call"
        r"|^Disappearing messages| turned (?:on|off) disappearing messages"
        r"|(?:is|are|You're) (?:now|no longer) an admin|^This chat is with a business account",
        "skip",
    ),
    _rule(r"^(?P<who>.+?) was added$", "joined"),
    _rule(r"^(?P<who>.+?) was removed$", "left"),
    _rule(r"^(?P<actor>.+?) added (?P<who>.+)$", "added"),
    _rule(r"^(?P<actor>.+?) removed (?P<who>.+)$", "removed"),
    _rule(r"^(?P<who>.+?) left$", "left"),
)
# Android writes system lines without a sender; these may hold a colon in free text
# (a subject or description), so they are recognised before looking for "Name: ".
_FREE_TEXT = re.compile(f"^[^:]*?{FREE_TEXT_SENDER}")
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


def _events(rule: _Rule, match: re.Match[str], chat: str = "") -> list[SystemEvent]:
    groups = match.groupdict()
    actor = _person(_unprefixed(groups.get("actor") or "", chat))
    who = _unprefixed(groups.get("who") or "", chat)
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


def split_sender(body: str, long_names: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """``(sender, text)`` of a body, or None if it names no sender.

    The sender ends at the first ``": "`` (so ``Amy:)`` and ``Psalm 23:1`` stay whole),
    or at a later one when what comes before it is a name known to hold ``": "``
    (``Li Wei: Team Lead``; the longest such name wins). Without ``": "`` a body
    ending in ``:`` is a sender whose text starts on the next line, and any other
    colon ends the sender (``Name:.``).
    """
    cut = body.find(": ")
    if cut < 0:
        if body.endswith(":"):
            return body[:-1], ""
        cut = body.find(":")
        return None if cut < 0 else (body[:cut], body[cut + 1 :])
    if long_names:
        later = body.find(": ", cut + 2)
        while later >= 0:
            if normalize_name(body[:later]) in long_names:
                cut = later
            later = body.find(": ", later + 2)
    return body[:cut], body[cut + 2 :]


def _unprefixed(who: str, chat: str) -> str:
    """A name without the ``Name: `` iOS may put before a system text that lost its mark
    (``~ Ben: ~ Ben joined...``, ``Group: You joined...``)."""
    cut = who.find(": ")
    while cut >= 0:
        head, rest = normalize_name(who[:cut]), who[cut + 2 :]
        if head in (chat, normalize_name(rest)):
            return rest
        cut = who.find(": ", cut + 2)
    return who


def system_names(body: str, chat: str) -> list[str]:
    """The names a system line certainly holds (for names that contain ``": "``).

    Trusted: a phrase nobody types (joined using the invite link...) on the whole body,
    or any system phrase after the mark iOS puts before system texts.
    """
    marked = body.find(": \u200e")
    text = _MARKS.sub("", body[marked + 3 :] if marked >= 0 else body)
    found = _match(text)
    if found is None or not (found[0].specific or marked >= 0):
        return []
    events = _events(*found, chat)
    return [n for e in events for n in (e.member, e.inviter, e.removed_by) if n]


def classify(
    body: str, chat: str, long_names: frozenset[str] = frozenset()
) -> list[SystemEvent] | None:
    """The events of a line's body (after the header), or None if it is a message.

    Args:
        body: ``Name: text`` or a system text, first line only.
        chat: the chat's name; iOS prefixes some system lines with it.
        long_names: display names known to hold ``": "`` (see `split_sender`).

    Returns:
        None for a message; else the joins and leaves (empty for noise to skip).
    """
    plain = _MARKS.sub("", body)
    sender = split_sender(body, long_names)
    whole = _match(plain)
    # The whole body is the system text when no sender is certain: no "Name: " at all
    # (Android's "Amy:) joined..."), free text, or a subject whose name holds ": ".
    if (
        sender is None
        or (whole and ": " not in body)
        or _FREE_TEXT.match(plain)
        or _about_long_name(whole, long_names, chat)
    ):
        return _events(*whole, chat) if whole else []
    name, text = normalize_name(sender[0]), sender[1]
    found = _match(_MARKS.sub("", text))
    if found is None:
        return None
    rule, match = found
    # A "Name: " prefix is trusted when the phrase is unmistakable, iOS marked the text
    # as a system text, the prefix is the group, or it names who the line is about.
    if rule.specific or text.startswith("\u200e") or name in (chat, _subject(match)):
        return _events(rule, match, chat)
    return None


def _about_long_name(
    found: tuple[_Rule, re.Match[str]] | None, long_names: frozenset[str], chat: str
) -> bool:
    """A whole body that is a system line about a name holding ``": "`` (Android writes
    ``~ Li Wei: Team Lead joined using...`` with no sender before it)."""
    if found is None or not long_names:
        return False
    subject = _person(_unprefixed(_MARKS.sub("", _subject(found[1])), chat))
    return ": " in subject and subject in long_names
