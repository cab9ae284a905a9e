"""Moderation rules: what a message breaks, as data the decision core acts on.

Each rule is a small declared check over the message (`RULES`); the member's history
(flood, new member, repeats across groups) comes from the bot's state. The first rule
broken wins; the ladder (`shequn.domain.bot.Moderation.ladder`) says what it costs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick  # type: ignore[import-not-found]  # a C extension without stubs

from shequn.bot.normalise import normalise, squeeze
from shequn.domain.bot import Moderation, Step
from shequn.errors import InputError

# Messages are scanned whole; only the evidence shown is cut.
EVIDENCE_CHARS = 80
# "hi" in three groups is no advert: only texts this long count as repeated.
REPEAT_MIN_CHARS = 10
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'，。）)]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|cn|net|org|io|me|xyz|top|cc|ly|gg|app|link|club|vip|info|co)"
    r"\b(?:/[^\s<>\"'，。）)]*)?",
    re.IGNORECASE,
)
_INVITE = re.compile(
    r"t\.me/(?:\+|joinchat/)|chat\.whatsapp\.com/|discord\.gg/|discord(?:app)?\.com/invite/"
    r"|matrix\.to/#/[#!]|qm\.qq\.com/|jq\.qq\.com/|weixin\.qq\.com/g/|work\.weixin\.qq\.com/gm/",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"(?<!\d)1[3-9]\d{9}(?!\d)"  # a mainland mobile number
    r"|(?<!\d)\+?\d{2,4}[ -]\d{3,4}[ -]\d{4}(?!\d)"  # 400-800-1234, +86 138 0000 0000
    r"|(?:微信|威信|薇信|v信|vx|wx|wechat|加v|加微)\s*(?:号)?\s*[:：]?\s*[a-z][-_a-z0-9]{5,19}"
    r"|(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*[:：]?\s*\d{5,11}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Violation:
    """A broken rule and the evidence (the matched text, cut to EVIDENCE_CHARS)."""

    rule: str
    evidence: str


class WordList:
    """Banned words (with variants) in one Aho–Corasick automaton.

    Entries are written ``word|variant|variant``; every form is normalised like the
    messages. A Latin word matches at word boundaries only ("ass" is not in "class");
    a word with other letters (Chinese) matches anywhere, also across the spaces and
    symbols spammers put between its characters.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        self._auto = ahocorasick.Automaton()
        self.size = 0
        for entry in entries:
            forms = [normalise(f.strip()) for f in entry.split("|") if f.strip()]
            for form in forms:
                self._auto.add_word(form, (form, forms[0], form.isascii()))
                if not form.isascii() and squeeze(form) != form:
                    self._auto.add_word(squeeze(form), (squeeze(form), forms[0], False))
                self.size += 1
        if self.size:
            self._auto.make_automaton()

    def find(self, text: str) -> str | None:
        """The canonical word of the first banned form in a normalised text, or None."""
        if not self.size:
            return None
        for end, (form, word, latin) in self._auto.iter(text):
            if not latin or _bounded(text, end - len(form) + 1, end + 1):
                return word
        for _end, (_form, word, latin) in self._auto.iter(squeeze(text)):
            if not latin:
                return word
        return None


def _bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def read_words(root: Path, rules: Moderation, where: str) -> list[str]:
    """The banned words of the config and its word files (one entry a line, # comments).

    Raises:
        InputError: a word file is missing or not UTF-8.
    """
    words = list(rules.banned_words)
    for name in rules.banned_word_files:
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError) as exc:
            raise InputError(
                f"banned word file {path} cannot be read ({type(exc).__name__})",
                field=where,
                hint="write a UTF-8 file with one word (or word|variant) a line",
            ) from None
        words += [w for line in text.splitlines() if (w := line.split("#", 1)[0].strip())]
    return words


@dataclass(frozen=True)
class Message:
    """What the rules look at: the normalised text and the member's recent history."""

    text: str  # normalised
    new_member: bool
    recent: int  # this member's messages in the flood window, this one included
    groups_with_same_text: int  # groups where the same text was posted in the repeat window


Check = Callable[[Message, Moderation, WordList], str | None]


def _words(m: Message, _r: Moderation, words: WordList) -> str | None:
    return words.find(m.text)


def _invite(m: Message, rules: Moderation, _w: WordList) -> str | None:
    if rules.invite_links:
        return None
    found = _INVITE.search(m.text)
    return found[0] if found else None


def _link(m: Message, rules: Moderation, _w: WordList) -> str | None:
    if rules.allowed_domains is None and not m.new_member:
        return None
    allowed = () if m.new_member else tuple(rules.allowed_domains or ())
    for found in _URL.finditer(m.text):
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", found[0]).split("/")[0].lower()
        if not any(host == d or host.endswith("." + d) for d in allowed):
            return found[0]
    return None


def _contact(m: Message, rules: Moderation, _w: WordList) -> str | None:
    if rules.contacts:
        return None
    found = _CONTACT.search(m.text)
    return found[0] if found else None


def _repeat(m: Message, rules: Moderation, _w: WordList) -> str | None:
    long_enough = len(m.text) >= REPEAT_MIN_CHARS
    return m.text if long_enough and m.groups_with_same_text >= rules.repeat_groups else None


def _flood(m: Message, rules: Moderation, _w: WordList) -> str | None:
    return f"{m.recent} messages" if m.recent > rules.flood_messages else None


# The rules, in the order they are tried. A new member's link is `new_member_link`.
RULES: tuple[tuple[str, Check], ...] = (
    ("banned_word", _words),
    ("invite_link", _invite),
    ("link", _link),
    ("contact", _contact),
    ("repeated", _repeat),
    ("flood", _flood),
)


def check(message: Message, rules: Moderation, words: WordList) -> Violation | None:
    """The first rule the message breaks, with its evidence; None when it is clean."""
    for name, rule in RULES:
        found = rule(message, rules, words)
        if found:
            if name == "link" and message.new_member and rules.allowed_domains is None:
                name = "new_member_link"
            return Violation(name, found[:EVIDENCE_CHARS])
    return None


def ladder_step(rules: Moderation, strikes: int) -> Step:
    """The step for a member with `strikes` unexpired earlier violations."""
    return rules.ladder[min(strikes, len(rules.ladder) - 1)]
