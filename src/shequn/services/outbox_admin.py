"""An operator's hand on a dead outbox row: send it again, or cancel it for good.

Retry puts the row back in `retry`, due now, so the dispatcher tries it once more
(same idempotency key: never two rows). Cancel moves it to `missed` with the reason
"cancelled by NAME": it is never sent. Both only touch a row that is dead, and both
are audited.
"""

from __future__ import annotations

from sqlalchemy import select

from shequn.clock import Clock, SystemClock, to_micros
from shequn.errors import InputError
from shequn.services import audit
from shequn.store.engine import write_transaction
from shequn.store.sop_schema import DEAD, MISSED, RETRY, outbox
from shequn.workspace import Workspace


def retry_dead(ws: Workspace, row_id: int, clock: Clock | None = None) -> None:
    """Queue a dead row again, due now."""
    _change(
        ws,
        row_id,
        "outbox.retry",
        clock,
        lambda now, reason: {
            "state": RETRY,
            "next_ts": now,
            "reason": f"retried by {audit.actor()} (was: {reason})",
        },
    )


def cancel_dead(ws: Workspace, row_id: int, clock: Clock | None = None) -> None:
    """Give up a dead row: it is never sent."""
    _change(
        ws,
        row_id,
        "outbox.cancel",
        clock,
        lambda _now, reason: {
            "state": MISSED,
            "reason": f"cancelled by {audit.actor()} (was: {reason})",
        },
    )


def _change(ws, row_id, action, clock, values) -> None:  # type: ignore[no-untyped-def]
    clock = clock or SystemClock()
    now = to_micros(clock.now())
    with write_transaction(ws.engine) as conn:
        row = conn.execute(
            select(outbox.c.state, outbox.c.reason, outbox.c.community).where(outbox.c.id == row_id)
        ).one_or_none()
        if row is None or row.state != DEAD:
            raise InputError(
                f"outbox row {row_id} is not dead",
                field="row",
                hint="only dead rows can be retried or cancelled; reload the page",
            )
        conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id, outbox.c.state == DEAD)
            .values(**values(now, row.reason))
        )
        audit.record(conn, clock, action, row=row_id, community=row.community)
