"""Every text of the console's templates has its Chinese translation."""

from __future__ import annotations

import re

from shequn.web.i18n import translator
from shequn.web.render import TEMPLATES

CALL = re.compile(r"""_\((["'])(.+?)\1\)""")


def test_every_template_text_is_translated() -> None:
    zh = translator("zh_CN")
    texts = {
        m.group(2) for path in TEMPLATES.glob("*.html") for m in CALL.finditer(path.read_text())
    }
    assert len(texts) > 80
    missing = sorted(t for t in texts if zh(t) == t and t != "SOP")
    assert missing == []


def test_english_is_the_source_text() -> None:
    assert translator("en")("Dashboard") == "Dashboard"
    assert translator("zh_CN")("Dashboard") == "数据看板"
