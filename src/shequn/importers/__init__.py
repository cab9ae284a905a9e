"""Importers: one module per export format, each yielding domain events.

The registry is this list of module names; each module exposes ``IMPORTER``. The
order is the order of detection: specific formats first, generic CSV last.
"""

from __future__ import annotations

import importlib
from functools import cache

from shequn.errors import InputError
from shequn.importers.base import ImportContext, Importer, Item
from shequn.importers.source import Source

_MODULES: tuple[str, ...] = (
    "slack",
    "telegram",
    "discord",
    "wechat",
    "qq",
    "whatsapp",
    "orders",
    "canonical",
)

__all__ = ["ImportContext", "Importer", "Item", "Source", "detect", "get", "registry"]


@cache
def registry() -> dict[str, Importer]:
    """Every importer by name, in detection order."""
    found: dict[str, Importer] = {}
    for module_name in _MODULES:
        module = importlib.import_module(f"shequn.importers.{module_name}")
        importer: Importer = module.IMPORTER
        found[importer.name] = importer
    return found


def get(name: str) -> Importer:
    importers = registry()
    if name not in importers:
        raise InputError(
            f"unknown format {name!r}",
            field="--format",
            hint="use one of: auto, " + ", ".join(importers),
        )
    return importers[name]


def detect(source: Source) -> Importer | None:
    """The first importer that recognises the source, or None."""
    for importer in registry().values():
        if importer.sniff(source):
            return importer
    return None
