"""Tables for live platforms without idempotent sends, and minted invite links.

`send_intents`: a send to Telegram or OneBot is recorded here *before* the request
goes out and completed after the platform answers (shequn.platforms.intents). A row
still `sending` after a crash is a send whose fate nobody knows: it is shown to the
operators as uncertain, never resent by itself.

`invite_links`: the join link minted per (community, channel) by `shequn channels
link`; joins through it carry the channel.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text, UniqueConstraint

from shequn.store.schema import Id, metadata

SENDING, SENT = "sending", "sent"

send_intents = Table(
    "send_intents",
    metadata,
    Column("key", Text, primary_key=True),  # the outbox key
    Column("platform", String(32), nullable=False),
    Column("group_id", Text, nullable=False),
    Column("what", Text, nullable=False),  # the start of the text, for the operator
    Column("state", String(16), nullable=False),
    Column("message_id", Text),
    Column("created_ts", BigInteger, nullable=False),
    Column("done_ts", BigInteger),
)

invite_links = Table(
    "invite_links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("group_id", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("created_ts", BigInteger, nullable=False),
    UniqueConstraint("community", "channel", name="uq_invite_links_channel"),
)
