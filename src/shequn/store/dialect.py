"""Where SQLite and PostgreSQL differ. Nothing outside this module asks which it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite

from shequn.store.schema import EVENT_COLUMNS


def _insert(conn: Connection, table: Table):  # type: ignore[no-untyped-def]
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose primary key exists."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


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


def insert_events(conn: Connection, rows: list[tuple[Any, ...]]) -> int:
    """Append event rows (tuples in EVENT_COLUMNS order); skip any whose
    (source, source_id) is already stored. Returns how many were added."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        return _pg_copy_events(conn, rows)
    columns = ", ".join(EVENT_COLUMNS)
    marks = ", ".join("?" for _ in EVENT_COLUMNS)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        before = conn.connection.driver_connection.total_changes  # type: ignore[union-attr]
        cursor.executemany(
            f"INSERT INTO events ({columns}) VALUES ({marks}) "
            "ON CONFLICT (source, source_id) DO NOTHING",
            rows,
        )
        return conn.connection.driver_connection.total_changes - before  # type: ignore[union-attr]
    finally:
        cursor.close()


def _pg_copy_events(conn: Connection, rows: list[tuple[Any, ...]]) -> int:
    # COPY into a scratch table, then one INSERT ... ON CONFLICT: 5-10x faster than
    # executemany, and still all inside the caller's transaction.
    raw = conn.connection.driver_connection
    columns = ", ".join(EVENT_COLUMNS)
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS events_incoming ON COMMIT DROP AS "
            f"SELECT {columns} FROM events WITH NO DATA"
        )
        cur.execute("TRUNCATE events_incoming")
        with cur.copy(f"COPY events_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO events ({columns}) SELECT {columns} FROM events_incoming "
            "ON CONFLICT (source, source_id) DO NOTHING"
        )
        return cur.rowcount
