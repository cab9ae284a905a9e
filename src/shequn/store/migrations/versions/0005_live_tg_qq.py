"""Send intents (Telegram, OneBot) and the invite links minted per channel.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "send_intents",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.Text()),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("done_ts", sa.BigInteger()),
    )
    op.create_table(
        "invite_links",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("community", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("group_id", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("community", "channel", name="uq_invite_links_channel"),
    )


def downgrade() -> None:
    op.drop_table("invite_links")
    op.drop_table("send_intents")
