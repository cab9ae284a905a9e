"""The SOP engine's tables: outbox, operator tasks, SOP log, leases, engine state.

They share `shequn.store.schema.metadata`, so migrations and tests see one schema.
Timestamps are integer microseconds since the epoch, UTC, like the event log.
SOP decisions, deliveries and the state changes of actions are events in `events`
(source `sop`, see `shequn.sop.journal`); `sop_log` keeps only the engine's own lines
(playbook loaded / rejected). docs/adr/0003-outbox.md.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, text

from shequn.store.schema import Id, events, metadata

# States of an outbox row. `pending` and `retry` rows are waiting to be sent.
PENDING, RETRY, SENT, DEAD, MISSED = "pending", "retry", "sent", "dead", "missed"

outbox = Table(
    "sop_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # playbook|step|target|occurrence: the same decision never makes two rows.
    Column("key", Text, nullable=False, unique=True),
    Column("playbook", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("community", Text, nullable=False),
    Column("target", Text, nullable=False),  # member key, or the community for group sends
    Column("platform", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # JSON object: what to deliver
    Column("due_ts", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("late", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_ts", BigInteger, nullable=False),  # earliest next attempt
    Column("reason", Text),  # last failure, or why it is dead / missed
    Column("created_ts", BigInteger, nullable=False),
    Column("sent_ts", BigInteger),
    Index("ix_sop_outbox_ready", "state", "next_ts"),
)

tasks = Table(
    "sop_tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),  # the outbox key that made it
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("community", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("checklist", Text, nullable=False),  # JSON list of strings
    Column("content", Text, nullable=False),  # ready to copy
    Column("due_ts", BigInteger, nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("done_ts", BigInteger),
    Column("done_by", Text),
    Index("ix_sop_tasks_owner", "owner", "done_ts"),
)

log = Table(
    "sop_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    # playbook_loaded, playbook_rejected (decisions and deliveries are events)
    Column("type", String(32), nullable=False),
    Column("key", Text),
    Column("community", Text),
    Column("target", Text),
    Column("detail", Text),  # JSON object
    Index("ix_sop_log_type_ts", "type", "ts"),
)

# A member's tags and points are replays of their SOP events (shequn.sop.state); only
# those events are indexed (migration 0003), so imports pay nothing for it.
_SOP = text("source = 'sop'")
Index(
    "ix_events_sop_member",
    events.c.member,
    events.c.type,
    sqlite_where=_SOP,
    postgresql_where=_SOP,
)

leases = Table(
    "sop_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_ts", BigInteger, nullable=False),
    Column("token", BigInteger, nullable=False),  # grows with every new holder (fencing)
)

state = Table(
    "sop_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

playbooks = Table(
    "sop_playbooks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("path", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("source", Text, nullable=False),  # the last valid YAML text: kept running
    Column("activated_ts", BigInteger, nullable=False),
    Column("loaded_ts", BigInteger, nullable=False),
)

# The bot's events (source 'bot', shequn.bot.decision.BOT_TYPES) are replayed in time
# order when the bot starts (migration 0006).
_BOT = text("source = 'bot'")
Index("ix_events_bot_ts", events.c.ts, sqlite_where=_BOT, postgresql_where=_BOT)
