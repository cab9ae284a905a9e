"""Each live adapter's position (Matrix `next_batch`, Telegram `update_id`), kept in
the engine's small key-value state table so it commits with the events it covers.

(To be folded into the shared state module once it exists.)
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from shequn.store import dialect
from shequn.store.sop_schema import state

_PREFIX = "position:"


def get(conn: Connection, adapter: str) -> str | None:
    """The stored position of `adapter`, or None before its first batch."""
    return conn.scalar(select(state.c.value).where(state.c.name == _PREFIX + adapter))


def put(conn: Connection, adapter: str, position: str) -> None:
    """Store `adapter`'s position in the caller's transaction."""
    dialect.upsert(conn, state, [{"name": _PREFIX + adapter, "value": position}], update=["value"])
