"""The line of a setting in a TOML file, for errors that name file:line.

tomllib keeps no positions, so the file is scanned: table headers (`[a.b]`, and
`[[a]]`, counted, so the n-th `[[communities]]` is `communities.n`) and `key = ...`
lines (dotted keys too). A pydantic error location such as
`("communities", 1, "bot", "moderation", "flood_window")` then maps to the deepest
line whose path is a prefix of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in dotted.split(".")]


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the deepest known prefix of `loc`, or None."""
    counts: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    best, depth = None, 0
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            names = tuple(_parts(header[2]))
            if header[1] == "[[":
                counts[names] = counts.get(names, -1) + 1
            table = _resolve(names, counts)
            path: tuple[str | int, ...] = table
        elif key := _KEY.match(line):
            path = (*table, *_parts(key[1]))
        else:
            continue
        if len(path) > depth and tuple(loc[: len(path)]) == path:
            best, depth = number, len(path)
    return best


def _resolve(names: tuple[str, ...], counts: dict[tuple[str, ...], int]) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for i, name in enumerate(names):
        out.append(name)
        if names[: i + 1] in counts:
            out.append(counts[names[: i + 1]])
    return tuple(out)
