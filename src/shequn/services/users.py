"""Console users and their sessions: add, sign in (throttled), look up, sign out.

Passwords are hashed with Argon2 (pwdlib); a session token is random, and only its
SHA-256 is stored, with a CSRF token bound to it and an absolute expiry. Disabling a
user and changing or resetting a password: `shequn.services.accounts`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, Connection, delete, func, select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.web_schema import login_failures, sessions, users
from shequn.workspace import Workspace

ROLES = ("owner", "operator", "analyst", "viewer")
SESSION_LIFETIME = timedelta(hours=12)
# Throttling: failures counted over the window, per user name and per client address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD_LENGTH = 8
DISABLED_HINT = "ask an owner to enable it (Users page, or `shequn users enable NAME`)"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    communities: tuple[str, ...]  # () = every community
    lang: str | None
    disabled: bool = False

    def sees(self, community: str) -> bool:
        """Whether the user's scope covers a community ("*" = the whole workspace)."""
        if not self.communities:
            return True
        return community in self.communities


@dataclass(frozen=True)
class Session:
    token: str  # only ever in the cookie; the store keeps its digest
    csrf: str
    user: User


class Throttled(InputError):
    """Too many failed sign-ins: wait before trying again."""


class Disabled(InputError):
    """The right password of a user an owner has disabled."""


def _hasher():  # type: ignore[no-untyped-def]
    try:
        from pwdlib import PasswordHash
    except ModuleNotFoundError:
        raise InputError("the web console needs pwdlib", hint="pip install 'shequn[web]'") from None
    return PasswordHash.recommended()


def verify_password(password: str, hashed: str) -> bool:
    return bool(_hasher().verify(password, hashed))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_of(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    communities = tuple(json.loads(r["communities"]))
    return User(r["id"], r["name"], r["role"], communities, r["lang"], r["disabled_ts"] is not None)


def add_user(
    ws: Workspace,
    name: str,
    password: str,
    role: str,
    communities: tuple[str, ...] = (),
    clock: Clock | None = None,
) -> User:
    """Create a console user.

    Raises:
        InputError: an unknown role, a short password, or a name already taken.
    """
    clock = clock or SystemClock()
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", field="--role", hint=f"use {', '.join(ROLES)}")
    if not name.strip():
        raise InputError("empty user name", field="NAME", hint="give a name such as alice")
    hashed = password_hash(password)
    with write_transaction(ws.engine) as conn:
        if conn.scalar(select(users.c.id).where(users.c.name == name)) is not None:
            raise InputError(f"user {name!r} exists", field="NAME", hint="choose another name")
        conn.execute(
            users.insert().values(
                name=name,
                password_hash=hashed,
                role=role,
                communities=json.dumps(list(communities)),
                created_ts=to_micros(clock.now()),
            )
        )
        audit.record(conn, clock, "users.add", name=name, role=role, communities=communities)
        row = conn.execute(select(users).where(users.c.name == name)).one()
    return user_of(row)


def password_hash(password: str, field: str = "password") -> str:
    """The Argon2 hash of a new password.

    Raises:
        InputError: the password is shorter than MIN_PASSWORD_LENGTH.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"the password has {len(password)} characters",
            field=field,
            hint=f"use at least {MIN_PASSWORD_LENGTH}",
        )
    return str(_hasher().hash(password))


def list_users(ws: Workspace) -> list[User]:
    with read_transaction(ws.engine) as conn:
        return [user_of(r) for r in conn.execute(select(users).order_by(users.c.name))]


def sign_in(
    ws: Workspace, name: str, password: str, address: str, clock: Clock | None = None
) -> Session:
    """Check a password and open a session.

    Raises:
        Throttled: too many recent failures for this name or this address.
        InputError: a wrong name or password (the same message for both), or a
            disabled user (said only once the password is right).
    """
    clock = clock or SystemClock()
    now = to_micros(clock.now())
    with write_transaction(ws.engine) as conn:
        check_throttle(conn, name, address, now)
        row = conn.execute(select(users).where(users.c.name == name)).one_or_none()
        if row is None:
            _hasher().hash(password)  # the same work either way: no timing hint at the names
        ok = row is not None and verify_password(password, row.password_hash)
        refused, error = "", InputError
        if row is None or not ok:
            record_failure(conn, clock, name, address)
            refused = "wrong user name or password"
        elif row.disabled_ts is not None:
            # Said only to someone who knows the password: the account exists but is off.
            audit.record(conn, clock, "users.sign_in_disabled", name=name, address=address)
            refused, error = f"the user {name} is disabled", Disabled
        else:
            conn.execute(delete(login_failures).where(login_failures.c.name == name))
            session = _open_session(conn, user_of(row), now)
            audit.record(conn, clock, "users.sign_in", name=name, address=address)
    if refused:
        # Raised after the commit, so the failure counts toward the throttle.
        hint = DISABLED_HINT if ok else "try again"
        raise error(refused, field="password", hint=hint)
    return session


def record_failure(conn: Connection, clock: Clock, name: str, address: str) -> None:
    """A wrong password for `name`: counted toward the throttle, and audited."""
    now = to_micros(clock.now())
    conn.execute(login_failures.insert().values(name=name, address=address, ts=now))
    audit.record(conn, clock, "users.sign_in_failed", name=name, address=address)


def check_throttle(conn: Connection, name: str, address: str, now: int) -> None:
    """Refuse a password check after too many recent failures for the name or address."""
    since = now - int(THROTTLE_WINDOW.total_seconds() * 1_000_000)
    recent = login_failures.c.ts >= since

    def count(*where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(login_failures).where(recent, *where)
        return int(conn.scalar(query) or 0)

    minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
    if count(login_failures.c.name == name) >= MAX_FAILURES_PER_NAME or (
        count(login_failures.c.address == address) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise Throttled(
            "too many failed sign-ins", field="password", hint=f"wait {minutes} minutes"
        )


def _open_session(conn: Connection, user: User, now: int) -> Session:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + int(SESSION_LIFETIME.total_seconds() * 1_000_000)
    conn.execute(sessions.delete().where(sessions.c.expires_ts <= now))
    conn.execute(
        sessions.insert().values(
            token_hash=token_digest(token),
            user_id=user.id,
            csrf=csrf,
            created_ts=now,
            expires_ts=expires,
        )
    )
    return Session(token, csrf, user)


def session_of(ws: Workspace, token: str, clock: Clock | None = None) -> Session | None:
    """The live session of a cookie token, or None (unknown or expired)."""
    now = to_micros((clock or SystemClock()).now())
    query = (
        select(sessions.c.csrf, users)
        .join(users, users.c.id == sessions.c.user_id)
        .where(
            sessions.c.token_hash == token_digest(token),
            sessions.c.expires_ts > now,
            users.c.disabled_ts.is_(None),
        )
    )
    with read_transaction(ws.engine) as conn:
        row = conn.execute(query).one_or_none()
    return None if row is None else Session(token, row.csrf, user_of(row))


def sign_out(ws: Workspace, token: str, clock: Clock | None = None) -> None:
    clock = clock or SystemClock()
    with write_transaction(ws.engine) as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == token_digest(token)))


def set_language(ws: Workspace, user: User, lang: str, clock: Clock | None = None) -> None:
    """Remember the user's language choice."""
    clock = clock or SystemClock()
    with write_transaction(ws.engine) as conn:
        conn.execute(users.update().where(users.c.id == user.id).values(lang=lang))
        audit.record(conn, clock, "users.language", name=user.name, lang=lang)
