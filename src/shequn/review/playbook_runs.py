"""What each playbook did in a review period, from the SOP outcome events in the log.

The engine records one event per outcome (sop/outcomes.py, sop/journal.py), keyed by
the outbox key ``<playbook>|<step>|…``: ``message_sent`` (meta ``late``), ``task_done``
(meta ``on_time``) and ``sop_action_missed``. A suggestion naming a playbook shows these
counts once it ran in the period, beside its stage's metric before and after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from shequn.sop.journal import SOURCE
from shequn.store.schema import events

_TYPES = ("message_sent", "task_done", "sop_action_missed")


@dataclass
class PlaybookRun:
    """One playbook's outcomes in a period."""

    sent: int = 0
    on_time: int = 0  # messages sent and tasks done on time
    done: int = 0
    missed: int = 0


def playbook_runs(
    conn: Connection, community: str | None, start: int, end: int
) -> Mapping[str, PlaybookRun]:
    """Per playbook, its outcomes in [start, end) (UTC microseconds) in a community
    (None: every community)."""
    query = select(events.c.type, events.c.source_id, events.c.meta).where(
        events.c.source == SOURCE,
        events.c.type.in_(_TYPES),
        events.c.ts >= start,
        events.c.ts < end,
    )
    if community is not None:
        query = query.where(events.c.community == community)
    runs: dict[str, PlaybookRun] = {}
    for kind, source_id, meta in conn.execute(query):
        playbook = source_id.split("|", 2)[1] if source_id.count("|") >= 2 else ""
        run = runs.setdefault(playbook, PlaybookRun())
        extra = json.loads(meta) if meta else {}
        if kind == "message_sent":
            run.sent += 1
            run.on_time += not extra.get("late")
        elif kind == "task_done":
            run.done += 1
            run.on_time += bool(extra.get("on_time"))
        else:
            run.missed += 1
    return runs
