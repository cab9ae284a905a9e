"""Extra review sections: each feature adds its own, built by its own module.

A `Section` is plain text in rows (the feature formats its figures); the renderers show
it after the built-in sections (`shequn.reports.tables.sections`). The review calls
each feature's builder once (`shequn.review.run`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A titled table of texts, with an optional sentence under it."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
