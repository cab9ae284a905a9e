"""The SOP engine: outbox, operator tasks, SOP log, leases, state, playbooks.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "sop_outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("playbook", sa.Text, nullable=False),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("community", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("due_ts", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("late", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_ts", TS, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_ts", TS, nullable=False),
        sa.Column("sent_ts", TS),
    )
    op.create_index("ix_sop_outbox_ready", "sop_outbox", ["state", "next_ts"])
    op.create_table(
        "sop_tasks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("community", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("checklist", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("due_ts", TS, nullable=False),
        sa.Column("created_ts", TS, nullable=False),
        sa.Column("done_ts", TS),
        sa.Column("done_by", sa.Text),
    )
    op.create_index("ix_sop_tasks_owner", "sop_tasks", ["owner", "done_ts"])
    op.create_table(
        "sop_log",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ts", TS, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("key", sa.Text),
        sa.Column("community", sa.Text),
        sa.Column("target", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_sop_log_type_ts", "sop_log", ["type", "ts"])
    op.create_table(
        "sop_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_ts", TS, nullable=False),
        sa.Column("token", TS, nullable=False),
    )
    op.create_table(
        "sop_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sop_playbooks",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("activated_ts", TS, nullable=False),
        sa.Column("loaded_ts", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("sop_playbooks", "sop_state", "sop_leases", "sop_log", "sop_tasks"):
        op.drop_table(table)
    op.drop_table("sop_outbox")
