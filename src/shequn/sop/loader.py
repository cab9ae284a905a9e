"""Reading playbooks from YAML with errors that give the file, the line and the fix.

PyYAML's node tree keeps the line of every key and value; we build plain Python
data from it and remember, for each path such as ("steps", 1, "at"), its line, so a
pydantic error on that path points at the line in the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shequn.errors import InputError
from shequn.sop.model import Playbook
from shequn.yaml_errors import yaml_problem

Lines = dict[tuple[Any, ...], int]


@dataclass(frozen=True)
class Loaded:
    """A valid playbook with where it came from."""

    playbook: Playbook
    path: str
    source: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def build_data(node: yaml.Node, path: tuple[Any, ...], lines: Lines, file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                raise InputError(
                    f"{key!r} is given twice",
                    path=file,
                    line=key_node.start_mark.line + 1,
                    hint="keep one of them",
                )
            out[key] = build_data(value_node, (*path, key), lines, file)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [build_data(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node)  # a scalar, typed as YAML types it


def field_line(loc: tuple[Any, ...], lines: Lines) -> tuple[int | None, str]:
    """The line of the deepest known path in a pydantic location, and the field name."""
    path: tuple[Any, ...] = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    field = ".".join(str(p) for p in path)
    return lines.get(path), field


def validation_problem(error: Any, lines: Lines, file: str) -> InputError:
    if error["type"] == "union_tag_invalid":
        line, field = field_line((*error["loc"], "type"), lines)
        ctx = error["ctx"]
        return InputError(
            f"unknown type {ctx['tag']!r}",
            path=file,
            line=line,
            field=field,
            hint=f"use one of {ctx['expected_tags']}",
        )
    line, field = field_line(tuple(error["loc"]), lines)
    message = str(error["msg"]).removeprefix("Value error, ")
    hint = ""
    if "; " in message and error["type"] == "value_error":
        message, hint = message.split("; ", 1)
    elif error["type"] == "missing":
        hint = f"add `{error['loc'][-1]}:` here"
    elif error["type"] == "extra_forbidden":
        hint = "remove it or check its spelling (see docs/sop.md for the fields)"
    elif error["type"] == "literal_error":
        hint = message.replace("Input should be", "use")
    elif error["type"] == "string_pattern_mismatch":
        hint = "use lower-case letters, digits, '-' and '_'"
    return InputError(message, path=file, line=line, field=field, hint=hint or "see docs/sop.md")


def check(source: str, file: str) -> tuple[Playbook | None, list[InputError]]:
    """Validate one playbook's YAML text: the playbook, or every problem found."""
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return None, [yaml_problem(exc, file, source)]
    if not isinstance(node, yaml.MappingNode):
        return None, [
            InputError("a playbook is a mapping", path=file, line=1, hint="start with name: ...")
        ]
    lines: Lines = {}
    try:
        data = build_data(node, (), lines, file)
        return Playbook.model_validate(data), []
    except InputError as exc:
        return None, [exc]
    except ValidationError as exc:
        return None, [validation_problem(e, lines, file) for e in exc.errors()]


def load_file(path: Path) -> Loaded:
    """Load one playbook file.

    Raises:
        InputError: the first problem, naming the file, line and fix.
    """
    source = path.read_text(encoding="utf-8")
    playbook, problems = check(source, str(path))
    if playbook is None:
        raise problems[0]
    return Loaded(playbook, str(path), source)


def scan(folder: Path) -> tuple[list[Loaded], list[InputError]]:
    """Every playbook in a folder (*.yaml, *.yml), and the problems of the invalid ones."""
    loaded: list[Loaded] = []
    problems: list[InputError] = []
    names: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        source = path.read_text(encoding="utf-8")
        playbook, found = check(source, str(path))
        if playbook is None:
            problems.extend(found)
        elif playbook.name in names:
            problems.append(
                InputError(
                    f"playbook name {playbook.name!r} is also used by {names[playbook.name]}",
                    path=str(path),
                    line=1,
                    field="name",
                    hint="give every playbook its own name",
                )
            )
        else:
            names[playbook.name] = str(path)
            loaded.append(Loaded(playbook, str(path), source))
    return loaded, problems
