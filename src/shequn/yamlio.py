"""YAML with line numbers, and validation errors that name the file, the line and the fix.

PyYAML's node tree keeps the line of every key and value; `build_data` makes plain
Python data from it and remembers, for each path such as ("steps", 1, "at"), its line,
so a pydantic error on that path points at the line in the file. Playbooks, the
lifecycle plan and goal files all read YAML through this module; it imports nothing of
shequn but `errors`, so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from shequn.errors import InputError

Lines = dict[tuple[Any, ...], int]
YAML_HINT = "check indentation and quote values that contain ': ' or '#'"


def compose(source: str, file: str, hint: str = YAML_HINT) -> yaml.Node | None:
    """The node tree of a YAML text (None when it is empty); `hint` is the fix an error names.

    Raises:
        InputError: the text is not valid YAML (naming the file and line).
    """
    try:
        return yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise syntax_problem(exc, file, source, hint) from None


def build_data(node: yaml.Node, path: tuple[Any, ...], lines: Lines, file: str) -> Any:
    """Plain data from a node, recording in `lines` the line of every path.

    Raises:
        InputError: a key is given twice in one mapping.
    """
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
    node: yaml.Node | None = yaml.compose(source, Loader=yaml.SafeLoader)
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
