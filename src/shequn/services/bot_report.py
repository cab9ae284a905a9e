"""An operator marking one of the bot's FAQ answers wrong (recorded, audited)."""

from __future__ import annotations

import json

from sqlalchemy import select

from shequn.bot.decision import SOURCE, Record
from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.services.bot import bot_row
from shequn.store import dialect
from shequn.store.engine import write_transaction
from shequn.store.schema import events
from shequn.workspace import Workspace


def mark_wrong(ws: Workspace, answer_id: int, *, by: str = "", clock: Clock | None = None) -> str:
    """Record that the `faq_answered` event `answer_id` was a wrong answer; its entry.

    Raises:
        InputError: no such answer.
    """
    clock = clock or SystemClock()
    who = by or audit.actor()
    with write_transaction(ws.engine) as conn:
        row = conn.execute(
            select(events.c.community, events.c.member, events.c.text, events.c.meta).where(
                events.c.id == answer_id, events.c.source == SOURCE, events.c.type == "faq_answered"
            )
        ).one_or_none()
        if row is None:
            raise InputError(
                f"no FAQ answer {answer_id}",
                field="ID",
                hint="`shequn faq report` lists the last answers with their ids",
            )
        entry = json.loads(row.meta)["entry"]
        record = Record(
            "faq_wrong",
            row.member or "",
            text=row.text or "",
            meta={"entry": entry, "answer": answer_id, "by": who},
        )
        dialect.lock_appends(conn)
        dialect.insert_ignore(
            conn, events, [bot_row(row.community, record, str(answer_id), to_micros(clock.now()))]
        )
        audit.record(conn, clock, "faq_wrong", answer=answer_id, entry=entry, by=who)
    return str(entry)
