"""The review command's options and its docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.cli.review import output_format
from shequn.errors import InputError
from shequn.review.knowledge import PLAYBOOKS, STAGES

DOC = Path(__file__).parents[2] / "docs" / "review.md"


def _format(fmt: str, out: Path | None) -> str:
    renderer = output_format(fmt, out)
    return "terminal" if renderer is None else renderer.name


def test_format_from_option_or_out_suffix() -> None:
    assert _format("terminal", None) == "terminal"
    assert _format("terminal", Path("r.HTML")) == "html"
    assert _format("terminal", Path("r.xlsx")) == "xlsx"
    assert _format("md", Path("r.txt")) == "md"
    assert _format("terminal", Path("r.markdown")) == "md"
    assert _format("html", None) == "html"
    with pytest.raises(InputError, match=r"cannot tell the format of r\.txt") as exc:
        _format("terminal", Path("r.txt"))
    assert exc.value.hint == "name it .md, .html or .xlsx, or pass --format"
    with pytest.raises(InputError, match="unknown format 'pdf'") as exc:
        _format("pdf", None)
    assert exc.value.hint == "use terminal, md, html or xlsx"


def test_docs_name_every_option_playbook_and_stage() -> None:
    text = DOC.read_text(encoding="utf-8")
    for option in ("--community", "--period", "--format", "--out", "--lang"):
        assert f"`{option}`" in text
    assert [p for p in PLAYBOOKS if f"`{p}`" not in text] == []
    assert [s for s in STAGES if s not in text] == []
