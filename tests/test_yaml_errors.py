"""A YAML error names the line of the mistake, not where the parser noticed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shequn.errors import InputError
from shequn.goals.gather import load_goal_file
from shequn.sop.loader import check

PLAYBOOK = """name: open-quote
applies_to: {communities: ["*"]}
trigger: {type: member_joined}
steps:
  - id: hello
    at: "+0m
    action: {type: send_private, text: "hi"}
    owner: role:assistant
    emergency: {do: "x", alert: "role:lead"}
"""


def test_an_unclosed_quote_is_named_where_it_opened() -> None:
    playbook, problems = check(PLAYBOOK, "pb.yaml")
    assert playbook is None and len(problems) == 1
    # The parser notices only at line 7; the quote opened on line 6.
    assert (problems[0].path, problems[0].line) == ("pb.yaml", 6)
    assert "a quote opened here runs on to line 7" in str(problems[0])
    assert problems[0].hint == "close the quote on that line"


@pytest.mark.parametrize(
    ("body", "line", "needle"),
    [
        ("long_term_goals:\n  - text: [a, b\n    target: 1\n", 2, "a '[' opened here"),
        ("long_term_goals:\n  - text: 'x\n", 2, "a quote opened here"),
        ("a: 1\n  b: 2\n", 2, "mapping values are not allowed here"),  # noticed = mistake
    ],
)
def test_goal_files_too(tmp_path: Path, body: str, line: int, needle: str) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_goal_file(path)
    assert caught.value.line == line and needle in str(caught.value)
