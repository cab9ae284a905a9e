"""Member records: who a member key is, and which person it belongs to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from shequn.store.schema import members

_CHUNK = 500  # keys per IN (...): below SQLite's parameter limit


def names(conn: Connection, keys: Iterable[str]) -> dict[str, str | None]:
    """Display names of these member keys (a key the store lacks is absent)."""
    wanted = sorted(set(keys))
    found: dict[str, str | None] = {}
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        query = select(members.c.key, members.c.name).where(members.c.key.in_(chunk))
        found.update({key: name for key, name in conn.execute(query)})
    return found


def find(conn: Connection, keys: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(members).where(members.c.key.in_(keys))).mappings()
    return {row["key"]: dict(row) for row in rows}


def set_person(conn: Connection, persons: list[str], person: str) -> int:
    """Point every member of the given persons at `person`; returns members changed."""
    result = conn.execute(
        update(members).where(members.c.person.in_(persons)).values(person=person)
    )
    return result.rowcount


def reset_person(conn: Connection, key: str) -> None:
    conn.execute(update(members).where(members.c.key == key).values(person=key))


def of_person(conn: Connection, person: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(members).where(members.c.person == person).order_by(members.c.key)
    ).mappings()
    return [dict(row) for row in rows]
