"""A YAML syntax error as the user needs it: the line where the mistake is.

PyYAML reports where it noticed a problem. For a quote or a bracket left open that
is often the end of the file, far below the mistake, and the line where the quote
or bracket opened is in the error's context mark, so that is the line we name. A
quote left open can also end at the next quote, lines below, and the error comes
just after it: a quoted value spanning lines that ends on the error's line is the
likely mistake, so its first line is named.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from shequn.errors import InputError

# Contexts whose mark is where something opened that was never closed.
_OPENED = {
    "while scanning a quoted scalar": ("a quote", "close the quote on that line"),
    "while parsing a flow sequence": ("a '['", "close the list with ']' on that line"),
    "while parsing a flow mapping": ("a '{'", "close the mapping with '}' on that line"),
}
_HINT = "check indentation and quote values that contain ': ' or '#'"


def yaml_problem(exc: yaml.MarkedYAMLError, file: str, source: str) -> InputError:
    """The InputError for a YAML syntax error in `source`, naming the line of the mistake."""
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
    return InputError(f"not valid YAML: {exc.problem}", path=file, line=noticed, hint=_HINT)


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
    node = yaml.compose(source, Loader=yaml.SafeLoader)
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            return None
    return node.start_mark.line + 1
