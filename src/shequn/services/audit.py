"""The audit trail: one row per state change made through a service."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection

from shequn.clock import Clock, to_micros
from shequn.store.schema import audit

# Who is acting when not the OS user: the web console sets the signed-in user per request.
_acting: ContextVar[str | None] = ContextVar("shequn_actor", default=None)


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Attribute every audit row written inside the block to `name`."""
    token = _acting.set(name)
    try:
        yield
    finally:
        _acting.reset(token)


def actor() -> str:
    """The signed-in console user inside `acting_as`, else the OS user."""
    if (name := _acting.get()) is not None:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(conn: Connection, clock: Clock, action: str, **detail: Any) -> None:
    conn.execute(
        audit.insert().values(
            ts=to_micros(clock.now()),
            actor=actor(),
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
