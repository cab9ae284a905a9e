"""The event log, imports, communities, members and the audit trail.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("community", sa.Text, nullable=False),
        sa.Column("member", sa.Text),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("channel", sa.Text),
        sa.Column("inviter", sa.Text),
        sa.Column("visitor", sa.Text),
        sa.Column("message_id", sa.Text),
        sa.Column("reply_to", sa.Text),
        sa.Column("content_id", sa.Text),
        sa.Column("order_id", sa.Text),
        sa.Column("amount", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text, nullable=False),
        sa.Column("meta", sa.Text),
        sa.Column("batch", sa.BigInteger),
        sa.UniqueConstraint("source", "source_id", name="uq_events_source"),
    )
    op.create_table(
        "imports",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("events_read", sa.BigInteger, nullable=False),
        sa.Column("events_added", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "communities",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("platform", sa.String(32)),
        sa.Column("first_ts", sa.BigInteger),
    )
    op.create_table(
        "members",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("person", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("platform", sa.String(32)),
        sa.Column("first_ts", sa.BigInteger),
    )
    op.create_index("ix_members_person", "members", ["person"])
    op.create_table(
        "audit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ts", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text),
    )


def downgrade() -> None:
    for table in ("audit", "members", "communities", "imports", "events"):
        op.drop_table(table)
