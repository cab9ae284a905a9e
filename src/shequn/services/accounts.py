"""Console accounts: disable or enable a user, change one's own password, reset another's.

Each is one transaction with its audit row (never the password). Disabling ends every
session of the user at once (and `session_of` refuses a disabled user's cookie too);
a new password ends the user's other sessions, so a leaked cookie stops working.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, func, select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.services.users import (
    User,
    check_throttle,
    password_hash,
    record_failure,
    token_digest,
    user_of,
    verify_password,
)
from shequn.store.engine import write_transaction
from shequn.store.web_schema import sessions, users
from shequn.workspace import Workspace


def _row(conn: Connection, name: str) -> Row:
    row = conn.execute(select(users).where(users.c.name == name)).one_or_none()
    if row is None:
        raise InputError(f"no user {name!r}", field="NAME", hint="list them: shequn users list")
    return row


def _end_sessions(conn: Connection, user_id: int, keep_token: str = "") -> int:
    """End the user's sessions (all but the one of `keep_token`); how many ended."""
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep_token:
        query = query.where(sessions.c.token_hash != token_digest(keep_token))
    return int(conn.execute(query).rowcount or 0)


def set_enabled(ws: Workspace, name: str, enabled: bool, clock: Clock | None = None) -> User:
    """Enable or disable a user; disabling ends their sessions at once.

    Raises:
        InputError: no such user, or disabling the last enabled owner (nobody could
            enable anyone again from the console).
    """
    clock = clock or SystemClock()
    with write_transaction(ws.engine) as conn:
        row = _row(conn, name)
        ended = 0
        if not enabled:
            if row.role == "owner" and row.disabled_ts is None and _enabled_owners(conn) <= 1:
                raise InputError(
                    f"{name} is the last enabled owner",
                    field="NAME",
                    hint="add or enable another owner first",
                )
            ended = _end_sessions(conn, row.id)
        stamp = None if enabled else (row.disabled_ts or to_micros(clock.now()))
        conn.execute(users.update().where(users.c.id == row.id).values(disabled_ts=stamp))
        action = "users.enable" if enabled else "users.disable"
        audit.record(conn, clock, action, name=name, sessions_ended=ended)
        return user_of(_row(conn, name))


def _enabled_owners(conn: Connection) -> int:
    query = select(func.count()).where(users.c.role == "owner", users.c.disabled_ts.is_(None))
    return int(conn.scalar(query.select_from(users)) or 0)


def change_password(
    ws: Workspace,
    name: str,
    current: str,
    new: str,
    *,
    keep_token: str = "",
    address: str = "",
    clock: Clock | None = None,
) -> None:
    """A user's own change: the current password is required (a wrong one counts toward
    the sign-in throttle); their other sessions end, the one of `keep_token` stays.

    Raises:
        InputError: a wrong current password, a short new one, or too many failures.
    """
    clock = clock or SystemClock()
    hashed = password_hash(new, field="new password")
    failed = False
    with write_transaction(ws.engine) as conn:
        check_throttle(conn, name, address, to_micros(clock.now()))
        row = _row(conn, name)
        if not verify_password(current, row.password_hash):
            record_failure(conn, clock, name, address)
            failed = True
        else:
            conn.execute(users.update().where(users.c.id == row.id).values(password_hash=hashed))
            ended = _end_sessions(conn, row.id, keep_token)
            audit.record(conn, clock, "users.password", name=name, sessions_ended=ended)
    if failed:
        # Raised after the commit, so the failure counts toward the throttle.
        raise InputError(
            "the current password is wrong", field="current password", hint="try again"
        )


def reset_password(ws: Workspace, name: str, new: str, clock: Clock | None = None) -> None:
    """An owner sets another user's password; every session of that user ends."""
    clock = clock or SystemClock()
    hashed = password_hash(new, field="new password")
    with write_transaction(ws.engine) as conn:
        row = _row(conn, name)
        conn.execute(users.update().where(users.c.id == row.id).values(password_hash=hashed))
        ended = _end_sessions(conn, row.id)
        audit.record(conn, clock, "users.password_reset", name=name, sessions_ended=ended)
