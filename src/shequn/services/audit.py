"""The audit trail: one row per state change made through a service."""

from __future__ import annotations

import getpass
import json
from typing import Any

from sqlalchemy import Connection

from shequn.clock import Clock, to_micros
from shequn.store.schema import audit


def actor() -> str:
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
