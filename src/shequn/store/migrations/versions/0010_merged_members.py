"""The merged member keys: a partial index, so each sync of the analytics copy reads
them without scanning every member.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Only keys merged into another person are indexed: few, whatever the member count.
WHERE = sa.text("person != key")


def upgrade() -> None:
    op.create_index(
        "ix_members_merged", "members", ["key"], sqlite_where=WHERE, postgresql_where=WHERE
    )


def downgrade() -> None:
    op.drop_index("ix_members_merged", table_name="members")
