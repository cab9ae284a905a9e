"""The tables of the system of record.

Events are append-only; everything else about members and communities is derived
from them or is a small record the services keep beside them. Timestamps are
stored as integer microseconds since the epoch, UTC (docs/adr/0001-event-store.md).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid); PostgreSQL wants BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("community", Text, nullable=False),
    Column("member", Text),
    Column("type", String(32), nullable=False),
    Column("channel", Text),
    Column("inviter", Text),
    Column("visitor", Text),
    Column("message_id", Text),
    Column("reply_to", Text),
    Column("content_id", Text),
    Column("order_id", Text),
    Column("amount", Text),  # exact decimal as text; summed as DECIMAL by analytics
    Column("text", Text),
    Column("source", Text, nullable=False),
    Column("source_id", Text, nullable=False),
    Column("meta", Text),  # JSON object
    Column("batch", BigInteger),
    UniqueConstraint("source", "source_id", name="uq_events_source"),
)

# The columns written by the bulk insert, in order.
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in events.columns if c.name != "id")

imports = Table(
    "imports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("path", Text, nullable=False),
    Column("format", String(32), nullable=False),
    Column("events_read", BigInteger, nullable=False, default=0),
    Column("events_added", BigInteger, nullable=False, default=0),
)

communities = Table(
    "communities",
    metadata,
    Column("key", Text, primary_key=True),
    Column("platform", String(32)),
    Column("first_ts", BigInteger),
)

members = Table(
    "members",
    metadata,
    Column("key", Text, primary_key=True),
    # The person this member key belongs to; members merged across platforms share it.
    Column("person", Text, nullable=False, index=True),
    Column("name", Text),
    Column("platform", String(32)),
    Column("first_ts", BigInteger),
)
# The keys merged into another person, read by every sync of the analytics copy
# (analytics.sync._members) without scanning every member (migration 0010).
_MERGED = text("person != key")
Index("ix_members_merged", members.c.key, sqlite_where=_MERGED, postgresql_where=_MERGED)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ts", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text),  # JSON object
)
