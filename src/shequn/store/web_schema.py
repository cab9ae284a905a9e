"""The web console's tables: users, their sessions, and failed logins (for throttling).

They share `shequn.store.schema.metadata`. Timestamps are integer microseconds, UTC.
Passwords are stored only as Argon2 hashes, session tokens only as SHA-256 digests.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from shequn.store.schema import Id, metadata

users = Table(
    "web_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("communities", Text, nullable=False, default="[]"),  # JSON list; [] = all
    Column("lang", String(8)),  # the user's language; None = the workspace's
    Column("created_ts", BigInteger, nullable=False),
    Column("disabled_ts", BigInteger),  # when an owner disabled the user; None = enabled
)

sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    Column("expires_ts", BigInteger, nullable=False),
)

login_failures = Table(
    "web_login_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Index("ix_web_login_failures_name", "name", "ts"),
    Index("ix_web_login_failures_address", "address", "ts"),
)
