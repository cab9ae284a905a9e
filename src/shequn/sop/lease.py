"""A lease: at most one engine per workspace ticks and dispatches at a time.

The holder renews it well within its time to live; another engine takes it over
only once it has expired, and each new holder gets a larger token. Writes that
finish a delivery check, in their own transaction, that the lease is still theirs
(a fencing check), so a paused engine that lost its lease cannot mark anything.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from shequn.store import dialect
from shequn.store.sop_schema import leases

ENGINE_LEASE = "sop-engine"


def acquire(conn: Connection, name: str, holder: str, now: int, ttl: int) -> int | None:
    """Take or renew the lease inside a write transaction; its token, or None if held.

    Args:
        conn: a connection inside a write transaction.
        name: the lease's name.
        holder: who asks (host:pid:random).
        now: the current instant, µs.
        ttl: how long the lease lasts from now, µs.
    """
    dialect.insert_ignore(
        conn, leases, [{"name": name, "holder": holder, "expires_ts": 0, "token": 0}]
    )
    row = conn.execute(
        select(leases.c.holder, leases.c.expires_ts, leases.c.token)
        .where(leases.c.name == name)
        .with_for_update()
    ).one()
    if row.holder != holder and row.expires_ts > now:
        return None
    token = row.token if row.holder == holder and row.expires_ts > now else row.token + 1
    conn.execute(
        leases.update()
        .where(leases.c.name == name)
        .values(holder=holder, expires_ts=now + ttl, token=token)
    )
    return int(token)


def holds(conn: Connection, name: str, holder: str, token: int, now: int) -> bool:
    """True if the lease is still this holder's, with this token, and unexpired."""
    row = conn.execute(
        select(leases.c.holder, leases.c.expires_ts, leases.c.token)
        .where(leases.c.name == name)
        .with_for_update()
    ).one_or_none()
    return row is not None and (row.holder, row.token) == (holder, token) and row.expires_ts > now


def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up at once (a graceful stop), so another engine need not wait."""
    conn.execute(
        leases.update().where(leases.c.name == name, leases.c.holder == holder).values(expires_ts=0)
    )
