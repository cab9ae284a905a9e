"""The send journal of Telegram and OneBot: intents before, outcomes after.

See shequn.platforms.intents for the rule. Each step is its own short committed
transaction: the intent must be on disk before the request leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, select

from shequn.clock import Clock, SystemClock, from_micros, to_micros
from shequn.platforms.intents import UncertainError
from shequn.services import audit
from shequn.store.engine import read_transaction, write_transaction
from shequn.store.live_links import SENDING, SENT, send_intents

_WHAT_LENGTH = 80


@dataclass(frozen=True)
class Uncertain:
    """A send with an intent and no outcome, as operators see it."""

    key: str
    platform: str
    group_id: str
    what: str
    since: datetime

    @property
    def what_to_check(self) -> str:
        return (
            f"look in {self.platform} group {self.group_id} for a message from the bot "
            f"around {self.since:%Y-%m-%d %H:%M} UTC starting {self.what!r}; then run "
            f"`shequn platforms settle {self.key} --sent` if it is there, `--not-sent` if not"
        )


class SqlJournal:
    """A SendJournal on the workspace's database."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def begin(self, key: str, platform: str, group: str, what: str) -> str | None:
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(send_intents).where(send_intents.c.key == key)).first()
            if row is None:
                conn.execute(
                    send_intents.insert().values(
                        key=key,
                        platform=platform,
                        group_id=group,
                        what=what[:_WHAT_LENGTH],
                        state=SENDING,
                        created_ts=to_micros(self.clock.now()),
                    )
                )
                return None
        if row.state == SENT:
            return str(row.message_id)
        found = _uncertain(row)
        raise UncertainError(key, found.what_to_check)

    def done(self, key: str, message_id: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                send_intents.update()
                .where(send_intents.c.key == key)
                .values(state=SENT, message_id=message_id, done_ts=to_micros(self.clock.now()))
            )

    def forget(self, key: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                send_intents.delete().where(
                    send_intents.c.key == key, send_intents.c.state == SENDING
                )
            )


def _uncertain(row: Row[Any]) -> Uncertain:
    return Uncertain(
        key=row.key,
        platform=row.platform,
        group_id=row.group_id,
        what=row.what,
        since=from_micros(row.created_ts),
    )


def uncertain(engine: Engine) -> list[Uncertain]:
    """Every send whose outcome is unknown, oldest first."""
    with read_transaction(engine) as conn:
        rows = conn.execute(
            select(send_intents)
            .where(send_intents.c.state == SENDING)
            .order_by(send_intents.c.created_ts)
        )
        return [_uncertain(row) for row in rows]


def settle(engine: Engine, key: str, *, sent: bool, clock: Clock | None = None) -> bool:
    """An operator's answer about an uncertain send; False if no such send is pending.

    `sent`: the message is in the group (never send it again); otherwise the intent
    is dropped, so the next delivery attempt sends it.
    """
    clock = clock or SystemClock()
    with write_transaction(engine) as conn:
        where = (send_intents.c.key == key, send_intents.c.state == SENDING)
        if sent:
            changed = conn.execute(
                send_intents.update()
                .where(*where)
                .values(state=SENT, message_id="", done_ts=to_micros(clock.now()))
            ).rowcount
        else:
            changed = conn.execute(send_intents.delete().where(*where)).rowcount
        if changed:
            audit.record(conn, clock, "send_settled", key=key, sent=sent)
    return bool(changed)
