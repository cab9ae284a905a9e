"""The engine's small state: named values in `sop_state` (last tick, lifecycle
positions, the last valid plan, the daily watch's day, adapter positions).

One row per name; a value is text (JSON where it has structure). Read and written in
the caller's transaction, so a value moves with the facts it covers.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from shequn.store import dialect
from shequn.store.sop_schema import state


def get(conn: Connection, name: str) -> str | None:
    """The value stored under `name`, or None."""
    return conn.scalar(select(state.c.value).where(state.c.name == name))


def put(conn: Connection, name: str, value: str) -> None:
    """Store `value` under `name` (replacing the previous one)."""
    dialect.upsert(conn, state, [{"name": name, "value": value}], update=["value"])


def swap(conn: Connection, name: str, expected: str | None, value: str) -> bool:
    """Store `value` under `name` only if it still holds `expected` (None: no value
    yet); True if it did. A compare-and-swap in one statement, so of two transactions
    that read the same `expected`, only the first to commit wins (the other's update
    waits for it on PostgreSQL, then finds the value changed and matches nothing)."""
    if expected is None:
        return dialect.insert_new(conn, state, {"name": name, "value": value})
    done = conn.execute(
        state.update().where(state.c.name == name, state.c.value == expected).values(value=value)
    )
    return done.rowcount == 1
