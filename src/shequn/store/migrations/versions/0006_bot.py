"""The bot's events in the log: a partial index to replay them in time order.

Revision ID: 0006
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Only the bot's own events (source 'bot') are indexed, so imports pay nothing.
WHERE = sa.text("source = 'bot'")


def upgrade() -> None:
    op.create_index(
        "ix_events_bot_ts", "events", ["ts"], sqlite_where=WHERE, postgresql_where=WHERE
    )


def downgrade() -> None:
    op.drop_index("ix_events_bot_ts", table_name="events")
