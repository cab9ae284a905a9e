"""Helpers for the lifecycle and watch tests: events with amounts, settings, SOP events."""

from __future__ import annotations

import csv
import json
import textwrap
from datetime import datetime
from typing import Any

from sqlalchemy import select

from shequn.clock import to_micros
from shequn.config import Community, Goal
from shequn.services.imports import import_path
from shequn.store.schema import events
from shequn.workspace import Workspace

FIELDS = ("ts", "community", "member", "type", "order_id", "amount", "source_id")


def add(ws: Workspace, rows: list[tuple[str, ...]], tag: str) -> None:
    """Import events (ts as local Shanghai time 'MM-DD HH:MM', member, type[, order, amount])."""
    path = ws.root / f"events-{tag}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for i, (when, member, kind, *order) in enumerate(rows):
            order_id, amount = order if order else ("", "")
            ts = f"2026-{when.replace(' ', 'T')}:00+08:00"
            writer.writerow((ts, "club", member, kind, order_id, amount, f"{tag}{i}"))
    import_path(ws, path)


def configure(ws: Workspace, goal: float | None = None, metric: str = "active_rate") -> None:
    """Make `club` a configured community, with a goal on `metric` if given."""
    goals = [Goal(text="goal", metric=metric, target=goal)] if goal is not None else []
    club = Community(key="club", name="Club", short_term_goals=goals)
    ws.settings = ws.settings.model_copy(update={"communities": [club]})


def plan(ws: Workspace, text: str) -> None:
    (ws.root / "lifecycle.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def local(iso: str) -> int:
    """µs of a Shanghai local time '2026-11-02 00:30'."""
    return to_micros(datetime.fromisoformat(f"{iso}+08:00"))


def sop_events(ws: Workspace, *types: str) -> list[tuple[Any, ...]]:
    """(type, ts, community, text, meta) of the engine's events of these types, in order."""
    query = (
        select(events.c.type, events.c.ts, events.c.community, events.c.text, events.c.meta)
        .where(events.c.source == "sop", events.c.type.in_(types))
        .order_by(events.c.ts, events.c.id)
    )
    with ws.engine.connect() as conn:
        return [
            (t, ts, c, text, json.loads(m or "{}")) for t, ts, c, text, m in conn.execute(query)
        ]
