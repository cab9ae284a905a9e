"""The YAML trees libyaml composes are the pure-Python parser's, lines included."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml

import shequn
from shequn import yamlio
from shequn.errors import InputError
from shequn.sop.loader import check

SHIPPED = sorted(Path(shequn.__file__).parent.glob("*/*.yaml"))
# What the shipped files do not show: anchors, flow and block styles, folded and literal
# text, Chinese, quotes within quotes, comments, a document end.
ODD = """# a comment
name: 欢迎-新人
defaults: &base {owner: "role:assistant", at: '+0m'}
steps:
  - <<: *base
    id: hello
    text: >
      第一行
      second line with: a colon
  - id: 'it''s'
    text: |
      keep
        the indent
    tags: [a, "b c", {d: e}]
    when: 2026-11-01
    count: 0x1F
    ratio: .5
    empty:
...
"""


def _lines(source: str, loader: Any) -> dict[tuple[Any, ...], int]:
    lines: yamlio.Lines = {}
    yamlio.build_data(yaml.compose(source, Loader=loader), (), lines, "f.yaml")
    return lines


def _data(source: str, loader: Any) -> Any:
    return yamlio.build_data(yaml.compose(source, Loader=loader), (), {}, "f.yaml")


def test_the_fast_parser_is_used_where_pyyaml_has_it() -> None:
    # Without libyaml every tick parses each playbook in pure Python (4x the tick).
    assert yaml.__with_libyaml__
    assert yamlio._FAST_LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_files_give_the_same_data_and_lines(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert _lines(source, yaml.CSafeLoader) == _lines(source, yaml.SafeLoader)
    assert _data(source, yaml.CSafeLoader) == _data(source, yaml.SafeLoader)


def test_odd_yaml_gives_the_same_data_and_lines() -> None:
    fast, pure = _lines(ODD, yaml.CSafeLoader), _lines(ODD, yaml.SafeLoader)
    assert fast == pure
    assert pure[("steps", 1, "text")] == 11 and pure[("steps", 1, "tags", 2, "d")] == 14
    assert _data(ODD, yaml.CSafeLoader) == _data(ODD, yaml.SafeLoader)


def test_line_of_finds_a_template_line() -> None:
    assert yamlio.line_of(ODD, ("steps", 0, "text")) == 7
    assert yamlio.line_of(ODD, ("steps", 5)) is None


def test_an_edited_playbook_is_checked_again() -> None:
    # check() keeps its answer per text: the same text gives the same playbook, an
    # edited one is validated anew (an edit takes effect at the next tick).
    text = (Path(shequn.__file__).parent / "playbooks" / "silent-care.yaml").read_text()
    first, problems = check(text, "pb.yaml")
    assert first is not None and problems == []
    assert check(text, "pb.yaml")[0] is first
    broken, problems = check(text.replace("steps:", "stepz:", 1), "pb.yaml")
    assert broken is None
    assert [(p.line, p.field) for p in problems] == [(2, ""), (9, "stepz")]


def test_a_file_with_problems_raises_an_error_of_its_own_each_time(tmp_path: Path) -> None:
    # Only valid texts are kept: a kept exception raised again (the engine loads an
    # invalid lifecycle.yaml every tick) would carry every earlier traceback along.
    from shequn.sop.loader import load_file

    path = tmp_path / "pb.yaml"
    path.write_text("name: x\nstepz: []\n", encoding="utf-8")
    raised = []
    for _ in range(3):
        with pytest.raises(InputError) as caught:
            load_file(path)
        raised.append(caught.value)
    assert len({id(e) for e in raised}) == 3
    depths = [len(traceback.extract_tb(e.__traceback__)) for e in raised]
    assert depths[0] == depths[1] == depths[2]
    assert [(e.line, e.field) for e in raised] == [(1, "")] * 3
