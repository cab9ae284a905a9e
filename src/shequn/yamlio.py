"""YAML with line numbers, and validation errors that name the file, the line and the fix.

PyYAML's node tree keeps the line of every key and value; `build_data` makes plain
Python data from it and remembers, for each path such as ("steps", 1, "at"), its line,
so a pydantic error on that path points at the line in the file. Playbooks, the
lifecycle plan and goal files all read YAML through this module; it imports nothing of
shequn but `errors`, so any layer may use it.

The engine reads every playbook again each tick (an edit takes effect at the next
one), so the tree is composed by libyaml when PyYAML has it (ten times faster than
the pure-Python parser, the same nodes and lines); a text libyaml refuses is composed
again by the pure-Python parser, whose messages `syntax_problem` knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import yaml

from shequn.errors import InputError

Lines = dict[tuple[Any, ...], int]
V = TypeVar("V")
# Valid texts `kept_when_valid` remembers per check (the oldest forgotten first).
_KEPT_TEXTS = 256
# libyaml's loader when PyYAML was built with it; the same tree either way.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_HINT = "check indentation and quote values that contain ': ' or '#'"


def compose(source: str, file: str, hint: str = YAML_HINT) -> yaml.Node | None:
    """The node tree of a YAML text (None when it is empty); `hint` is the fix an error names.

    Raises:
        InputError: the text is not valid YAML (naming the file and line).
    """
    try:
        return _tree(source)
    except yaml.MarkedYAMLError as exc:
        raise syntax_problem(exc, file, source, hint) from None


def _tree(source: str) -> yaml.Node | None:
    """The node tree by libyaml; by the pure-Python parser when libyaml refuses the text
    (raising that parser's error)."""
    try:
        return yaml.compose(source, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(source, Loader=yaml.SafeLoader)


def build_data(node: yaml.Node, path: tuple[Any, ...], lines: Lines, file: str) -> Any:
    """Plain data from a node, recording in `lines` the line of every path.

    Raises:
        InputError: a key is given twice in one mapping.
    """
    return _build(node, path, lines, file, yaml.constructor.SafeConstructor())


def _build(
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: Lines,
    file: str,
    scalars: yaml.constructor.SafeConstructor,
) -> Any:
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
            out[key] = _build(value_node, (*path, key), lines, file, scalars)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, file, scalars) for i, item in enumerate(node.value)]
    return scalars.construct_object(node)  # a scalar, typed as YAML types it


def field_line(loc: tuple[Any, ...], lines: Lines) -> tuple[int | None, str]:
    """The line of the deepest known path in a pydantic location, and the field name."""
    path: tuple[Any, ...] = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    field = ".".join(str(p) for p in path)
    return lines.get(path), field


def validation_problem(
    error: Any, lines: Lines, file: str, *, docs: str = "docs/sop.md for the fields"
) -> InputError:
    """One pydantic error as an InputError at its line, with a hint.

    A validator's message `what; fix` is split into the message and the hint; `docs`
    ends the generic hints (`see <docs>`).
    """
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
        hint = f"remove it or check its spelling (see {docs})"
    elif error["type"] == "literal_error":
        hint = message.replace("Input should be", "use")
    elif error["type"] == "string_pattern_mismatch":
        hint = "use lower-case letters, digits, '-' and '_'"
    generic = docs.removesuffix(" for the fields")
    return InputError(message, path=file, line=line, field=field, hint=hint or f"see {generic}")


def validate_text(
    source: str, file: str, model: Any, *, what: str, start: str, docs: str
) -> tuple[Any | None, list[InputError]]:
    """Validate one YAML document against a pydantic model: the value, or every problem.

    Args:
        source: the YAML text.
        file: its path, for the messages.
        model: the pydantic model class.
        what: what the document is ("a playbook"), for the error when it is no mapping.
        start: how such a document starts ("name: ..."), for that error's hint.
        docs: the page that lists the fields (`validation_problem`).
    """
    from pydantic import ValidationError

    try:
        node = compose(source, file)
    except InputError as exc:
        return None, [exc]
    if not isinstance(node, yaml.MappingNode):
        return None, [
            InputError(f"{what} is a mapping", path=file, line=1, hint=f"start with {start}")
        ]
    lines: Lines = {}
    try:
        data = build_data(node, (), lines, file)
        return model.model_validate(data), []
    except InputError as exc:
        return None, [exc]
    except ValidationError as exc:
        return None, [validation_problem(e, lines, file, docs=docs) for e in exc.errors()]


def kept_when_valid(
    check: Callable[[str, str], tuple[V | None, list[InputError]]],
) -> Callable[[str, str], tuple[V | None, list[InputError]]]:
    """`check` (a text's value, or its problems) answered from memory for a text and file
    it found valid before (the engine reads its files every tick; the values must be
    frozen). A text with problems is checked again each time, so every caller gets
    problems of its own to raise: a kept exception raised again keeps each traceback."""
    valid: dict[tuple[str, str], V] = {}

    @wraps(check)
    def checked(source: str, file: str) -> tuple[V | None, list[InputError]]:
        value = valid.get((source, file))
        if value is not None:
            return value, []
        value, problems = check(source, file)
        if value is not None:
            if len(valid) >= _KEPT_TEXTS:
                valid.pop(next(iter(valid)))
            valid[(source, file)] = value
        return value, problems

    return checked


def scan_folder(
    folder: Path, check: Callable[[str, str], tuple[Any | None, list[InputError]]], what: str
) -> tuple[list[tuple[Any, str, str]], list[InputError]]:
    """Every valid document of a folder (*.yaml, *.yml) as (value, path, source), and the
    problems of the others; a second document with a `name` already used is a problem.

    Args:
        folder: where to look.
        check: validates one text (`validate_text` with its model).
        what: the kind of document ("playbook"), for the duplicate-name error.
    """
    found: list[tuple[Any, str, str]] = []
    problems: list[InputError] = []
    names: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        source = path.read_text(encoding="utf-8")
        value, errors = check(source, str(path))
        if value is None:
            problems.extend(errors)
        elif value.name in names:
            problems.append(
                InputError(
                    f"{what} name {value.name!r} is also used by {names[value.name]}",
                    path=str(path),
                    line=1,
                    field="name",
                    hint=f"give every {what} its own name",
                )
            )
        else:
            names[value.name] = str(path)
            found.append((value, str(path), source))
    return found, problems


# Contexts whose mark is where something opened that was never closed.
_OPENED = {
    "while scanning a quoted scalar": ("a quote", "close the quote on that line"),
    "while parsing a flow sequence": ("a '['", "close the list with ']' on that line"),
    "while parsing a flow mapping": ("a '{'", "close the mapping with '}' on that line"),
}


def syntax_problem(
    exc: yaml.MarkedYAMLError, file: str, source: str, hint: str = YAML_HINT
) -> InputError:
    """The InputError for a YAML syntax error in `source`, naming the line of the mistake.

    PyYAML reports where it noticed a problem. For a quote or a bracket left open that
    is often the end of the file, far below the mistake; the line where it opened is
    in the error's context mark, so that is the line named. A quote left open can also
    end at the next quote, lines below, with the error just after it: a quoted value
    spanning lines that ends on the error's line is the likely mistake, so its first
    line is named.
    """
    noticed = exc.problem_mark.line + 1 if exc.problem_mark else None
    quoted = _spanning_quote(source)
    if quoted is not None and noticed == quoted.end_mark.line + 1:
        return InputError(
            f"not valid YAML: a quote opened here runs on to line {noticed} ({exc.problem})",
            path=file,
            line=quoted.start_mark.line + 1,
            hint="close the quote on that line",
        )
    opened = _OPENED.get(exc.context or "")
    if opened is not None and exc.context_mark is not None:
        what, fix = opened
        line = exc.context_mark.line + 1
        return InputError(
            f"not valid YAML: {what} opened here is not closed ({exc.problem} at line {noticed})",
            path=file,
            line=line,
            hint=fix,
        )
    return InputError(f"not valid YAML: {exc.problem}", path=file, line=noticed, hint=hint)


def _spanning_quote(source: str) -> yaml.ScalarToken | None:
    """The last quoted value that spans lines, before the scanner stops (if any)."""
    last = None
    try:
        for token in yaml.scan(source, Loader=yaml.SafeLoader):
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.start_mark.line != token.end_mark.line
            ):
                last = token
    except yaml.YAMLError:
        pass
    return last


def line_of(source: str, parts: Sequence[str | int]) -> int | None:
    """The line of a value in YAML text, by its path (keys and list indexes)."""
    node = _tree(source)
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            return None
    return None if node is None else node.start_mark.line + 1
