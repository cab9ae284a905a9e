"""The console's languages: English source strings, Chinese from a Babel catalogue.

`locale/zh_CN/LC_MESSAGES/messages.po` is read with Babel at first use (no compile step);
metric labels come from the metric registry, not from here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locale")
LANGS = ("zh_CN", "en")


@cache
def _catalogue(lang: str) -> dict[str, str]:
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {m.id: m.string for m in catalog if m.id and m.string and isinstance(m.id, str)}


def translator(lang: str) -> Callable[[str], str]:
    """gettext for a language: the English text when there is no translation."""
    table = _catalogue(lang) if lang in LANGS else {}
    return lambda text: table.get(text, text)
