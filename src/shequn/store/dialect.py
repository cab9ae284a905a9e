"""Where SQLite and PostgreSQL differ. Nothing outside this module asks which it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite

# PostgreSQL advisory lock key held by whoever appends events ("shequn" in ASCII).
_APPEND_LOCK = 0x73686571756E


def lock_appends(conn: Connection) -> None:
    """Take the event-append turn until this transaction ends.

    Appends take turns until commit, so event ids become visible in id order and a
    reader of "id > last seen" (the analytics sync, the engine's recent events) never
    skips a late commit. SQLite has one writer at a time already.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})")


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose primary key exists."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def insert_new(conn: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert one row unless its primary key exists; True if it was inserted.

    Told by RETURNING, not the row count: psycopg reports -1 for this statement.
    """
    keys = [c for c in table.primary_key.columns]
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(*keys)
    return conn.execute(stmt, row).first() is not None


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], update: Sequence[str]
) -> None:
    """Insert rows; where the primary key exists, overwrite `update` columns with
    the new value unless it is NULL."""
    if not rows:
        return
    stmt = _insert(conn, table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c: func.coalesce(stmt.excluded[c], table.c[c]) for c in update},
    )
    conn.execute(stmt, list(rows))
