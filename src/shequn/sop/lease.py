"""A lease: at most one engine per workspace ticks and dispatches at a time.

The holder renews it well within its time to live; another engine takes it over
only once it has expired (or at once when its holder is provably dead: a process
of this same host that no longer exists), and each new holder gets a larger token. Writes that
finish a delivery check, in their own transaction, that the lease is still theirs
(a fencing check), so a paused engine that lost its lease cannot mark anything.
"""

from __future__ import annotations

import os
import socket

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
    if row.holder != holder and row.expires_ts > now and not _provably_dead(row.holder):
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


def keep(conn: Connection, name: str, holder: str, token: int, now: int, ttl: int) -> bool:
    """Renew the lease if nobody took it since this holder got `token`; True if so.

    Unlike `holds`, an expired lease still counts when no one took it over (every
    takeover changes the holder or the token): the tick's second transaction uses
    it, so a render that outlasted the lease is kept unless another engine came.
    """
    row = conn.execute(
        select(leases.c.holder, leases.c.token).where(leases.c.name == name).with_for_update()
    ).one_or_none()
    if row is None or (row.holder, row.token) != (holder, token):
        return False
    conn.execute(leases.update().where(leases.c.name == name).values(expires_ts=now + ttl))
    return True


def release(conn: Connection, name: str, holder: str) -> None:
    """Give the lease up at once (a graceful stop), so another engine need not wait."""
    conn.execute(
        leases.update().where(leases.c.name == name, leases.c.holder == holder).values(expires_ts=0)
    )


def _provably_dead(holder: str) -> bool:
    """True only when the holder ran on this host and its process is gone.

    A holder is named host:pid:random. Another host's process cannot be checked, and
    a process that exists (even paused, or a reused pid) may still write: both wait
    for the lease to expire, so this only ever shortens the wait after a crash.
    """
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False
