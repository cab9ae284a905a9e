"""The web console: users, sessions, failed logins.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("communities", sa.Text, nullable=False, server_default="[]"),
        sa.Column("lang", sa.String(8)),
        sa.Column("created_ts", TS, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", Id, sa.ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_ts", TS, nullable=False),
        sa.Column("expires_ts", TS, nullable=False),
    )
    op.create_table(
        "web_login_failures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("ts", TS, nullable=False),
    )
    op.create_index("ix_web_login_failures_name", "web_login_failures", ["name", "ts"])
    op.create_index("ix_web_login_failures_address", "web_login_failures", ["address", "ts"])


def downgrade() -> None:
    op.drop_table("web_login_failures")
    op.drop_table("web_sessions")
    op.drop_table("web_users")
