"""SOP events in the log: a partial index for a member's tags and points.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Only the engine's own events (source 'sop') are indexed, so imports pay nothing.
WHERE = sa.text("source = 'sop'")


def upgrade() -> None:
    op.create_index(
        "ix_events_sop_member",
        "events",
        ["member", "type"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_events_sop_member", table_name="events")
