"""Helpers shared by the registries of small objects (report renderers, export formats).

A registry names each entry's writer as ``package.module:attribute`` and imports it on
first use: listing the choices, which every start of the CLI does for its --help,
then imports neither Polars nor Jinja.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any


def load(reference: str) -> Any:
    """The object that ``package.module:attribute`` names, importing its module now."""
    module, sep, attribute = reference.partition(":")
    if not sep or not attribute:
        raise ValueError(f"{reference!r} is not package.module:attribute")
    return getattr(importlib.import_module(module), attribute)


def one_of(names: Iterable[str]) -> str:
    """Choices as a person writes them: ``csv, jsonl or parquet``."""
    items = list(names)
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
