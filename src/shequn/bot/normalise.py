"""Text as the bot compares it: one canonical form for look-alike spellings.

Spammers dodge word lists with full-width letters (ｗｅｃｈａｔ), zero-width characters
inside a word (微\u200b信), upper case and Cyrillic or Greek letters that look Latin
(саsinо). `normalise` folds all of these to one form; word lists are normalised the
same way, so a list entry matches every spelling of itself.
"""

from __future__ import annotations

import re
import unicodedata

# Latin look-alikes among Cyrillic and Greek letters (after case folding).
HOMOGLYPHS: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ʏ": "y",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v",
}  # fmt: skip
_FOLD = str.maketrans(HOMOGLYPHS)
# Format characters (category Cf: zero-width space/joiners, BOM, bidi marks, soft hyphen)
# and the variation selectors are invisible; they are removed, not replaced.
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]")  # fmt: skip
# Single letters or digits split by one separator each: "w.e.c.h.a.t", "f u c k".
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_][\s.\-_*·,|/]){2,}[^\W_](?![^\W_])")
_SEPARATORS = re.compile(r"[\s.\-_*·,|/]")
# What `squeeze` removes: everything but letters and digits (CJK included).
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), invisible characters removed, case folded,
    homoglyphs mapped to Latin, and spaced-out letters joined ("w e c h a t" → "wechat").
    """
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).casefold().translate(_FOLD)
    if any(c in text for c in " .-_*·,|/"):
        text = _SPACED.sub(lambda m: _SEPARATORS.sub("", m[0]), text)
    return text


def squeeze(text: str) -> str:
    """A normalised text without punctuation, spaces or symbols: "微 信.号" → "微信号"."""
    return _NOT_WORD.sub("", text)
