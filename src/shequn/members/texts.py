"""Reading one person's message texts from the store, for their top keywords."""

from __future__ import annotations

from sqlalchemy import select

from shequn.members.keywords import top_keywords
from shequn.store.engine import read_transaction
from shequn.store.schema import events, members
from shequn.workspace import Workspace

# The most recent messages read per person: enough for stable keywords, bounded cost.
RECENT_MESSAGES = 2_000


def member_texts(ws: Workspace, person: str, limit: int = 10) -> list[tuple[str, int]]:
    """The top keywords of the person's most recent messages (all their merged keys)."""
    keys = select(members.c.key).where(members.c.person == person)
    query = (
        select(events.c.text)
        .where(
            events.c.type == "message",
            events.c.text.is_not(None),
            (events.c.member == person) | events.c.member.in_(keys),
        )
        .order_by(events.c.ts.desc())
        .limit(RECENT_MESSAGES)
    )
    with read_transaction(ws.engine) as conn:
        texts = [t for (t,) in conn.execute(query)]
    return top_keywords(texts, limit)
