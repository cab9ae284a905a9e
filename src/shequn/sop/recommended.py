"""The recommended items of the due members whose step renders `member.recommended`.

Computed once per tick, only when some due step's template (its text, a variant's
text or its content item's body) names `recommended`, and only for those steps'
members: the recommender (shequn.members.recommend) reads months of events, which a
tick that does not need it must not pay for.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

from shequn.config import Settings
from shequn.sop.content import ContentError, Library
from shequn.sop.experiments import Variant
from shequn.sop.model import Playbook
from shequn.sop.template_check import templates

WORD = "recommended"


def asking(playbooks: Sequence[Playbook], library: Library) -> set[tuple[str, str]]:
    """(playbook, step id) of every step whose templates name `recommended`."""
    found = set()
    for pb in playbooks:
        for i, _field, text in templates(pb, library):
            if WORD in text:
                found.add((pb.name, pb.steps[i].id))
        for step in pb.steps:
            if any(WORD in _variant_text(v, library) for v in step.variants or ()):
                found.add((pb.name, step.id))
    return found


def _variant_text(variant: Variant, library: Library) -> str:
    """A variant's text and its content item's body (a missing item is reported elsewhere)."""
    body = ""
    if variant.content:
        with suppress(ContentError):
            body = library.get(variant.content).body
    return f"{variant.text or ''} {body}"


def for_due(
    conn: Connection,
    root: Path,
    settings: Settings,
    playbooks: Sequence[Playbook],
    due: pl.DataFrame,
    library: Library,
    now: int,
) -> dict[str, list[str]]:
    """Member key -> the titles of their recommended items, for the due rows that ask."""
    steps = asking(playbooks, library)
    if not steps or due.is_empty():
        return {}
    pairs = pl.DataFrame(
        list(steps), schema={"playbook": pl.String, "step": pl.String}, orient="row"
    )
    wanted = due.join(pairs, on=["playbook", "step"]).filter(pl.col("member").is_not_null())
    keys = sorted(set(wanted["member"].to_list()))
    if not keys:
        return {}
    from shequn.members.recommend.workspace import recommend_in  # months of events: lazily

    picks = recommend_in(conn, root, settings.zone, now, keys)
    return {key: [r.title for r in items] for key, items in picks.items()}
